"""Loyalty-programme abuse: one basket split into many payments just over the reward threshold."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import FOOD, FUEL, GROCERIES, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.population.geography import CITY_TIER
from synfinance.world.frame import Frame

THRESHOLDS_INR = np.array([500, 1000, 2000])


class LoyaltyAbusePattern(VictimPattern):
    kind = "fraud"
    name = "loyalty_abuse"
    summary = "A basket is split into several payments at one chain, each just above a cashback threshold."
    signals = "4-8 payments at one chain in a day, each a few rupees above ₹500/1,000/2,000"
    rows_per_case = 6.0
    need = 9
    per_victim = (4, 9)

    def eligible(self, ctx: PatternContext) -> np.ndarray:
        # loyalty programmes belong to chains, which tier-3 pools may lack
        return np.asarray(CITY_TIER[ctx.customers.city] <= 2)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n, m = len(cases.rows), len(cases.victims)
        frame["ts"][cases.rows] = ctx.sequence(ctx.anchors(m), cases.owner, ctx.rng.uniform(120, 2400, n))
        chain = ctx.merchant_in(ctx.customers.city[cases.victims], ctx.pick((GROCERIES, FUEL, FOOD), m),
                                chains_only=True)
        ctx.set_merchant(frame, cases.rows, chain[cases.owner])
        threshold = THRESHOLDS_INR[ctx.rng.integers(0, 3, m)][cases.owner]
        ctx.set_amount(frame, cases.rows, (threshold + ctx.rng.integers(1, 25, n)) * 100)
        ctx.set_payment(frame, cases.rows, ctx.pick((pay.UPI, pay.CREDIT, pay.WALLET), m)[cases.owner], online=False)
        ctx.place(frame, cases.rows)
        ev = evidence(n, merchant=ctx.merchants.table.column("merchant_id").take(chain[cases.owner]),
                      split_count=np.bincount(cases.owner, minlength=m)[cases.owner], threshold_inr=threshold)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
