"""Loyalty-programme abuse: one basket split into many payments just over the reward threshold."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import FOOD, FUEL, GROCERIES, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.population.geography import CITY_TIER

THRESHOLDS_INR = np.array([500, 1000, 2000])


class LoyaltyAbuse(Pattern):
    kind = "fraud"
    name = "loyalty_abuse"
    summary = "A basket is split into several payments at one chain, each just above a cashback threshold."
    signals = "4-8 payments at one chain in a day, each a few rupees above ₹500/1,000/2,000"
    share = 0.04
    rows_per_case = 6.0

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        # loyalty programmes belong to chains, which tier-3 pools may lack
        has_chains = CITY_TIER[ctx.c.city] <= 2
        cases = self.take_cases(frame, ctx, budget_rows, need=9, k=(4, 9), eligible=has_chains)
        if cases is None:
            return None
        victims, rows, owner = cases.victims, cases.rows, cases.owner
        n, m = len(rows), len(victims)
        frame["ts"][rows] = ctx.sequence(ctx.anchors(m), owner, ctx.rng.uniform(120, 2400, n))
        chain = ctx.merchant_in(ctx.c.city[victims], ctx.pick((GROCERIES, FUEL, FOOD), m), chains_only=True)
        ctx.set_merchant(frame, rows, chain[owner])
        threshold = THRESHOLDS_INR[ctx.rng.integers(0, 3, m)][owner]
        ctx.set_amount(frame, rows, (threshold + ctx.rng.integers(1, 25, n)) * 100)
        ctx.set_payment(frame, rows, ctx.pick((pay.UPI, pay.CREDIT, pay.WALLET), m)[owner], online=False)
        ctx.place(frame, rows)
        ev = evidence(n, merchant=ctx.m.table.column("merchant_id").take(chain[owner]),
                      split_count=np.bincount(owner, minlength=m)[owner], threshold_inr=threshold)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
