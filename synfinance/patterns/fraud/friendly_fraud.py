"""Friendly fraud: a genuine online purchase later disputed as not received or not authorised."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ENTERTAINMENT, FASHION, FOOD, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS
from synfinance.world.frame import Frame

REASONS = ("item_not_received", "not_authorised", "not_as_described")


class FriendlyFraudPattern(VictimPattern):
    kind = "fraud"
    name = "friendly_fraud"
    summary = "The customer makes an ordinary online purchase and later disputes it (a chargeback, or a UPI complaint)."
    signals = "looks ordinary at purchase time; reputable online merchant; a dispute follows days later"
    rows_per_case = 1.5
    keeps_time = True
    need = 3
    per_victim = (1, 3)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        city = ctx.pick(ONLINE_HUBS, n)
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(city, ctx.pick((FOOD, FASHION, ENTERTAINMENT), n), True))
        ctx.set_amount(frame, cases.rows, ctx.amounts(cust, 0.8, 2.0))
        ctx.set_payment(frame, cases.rows, ctx.usual_mode(frame, cases.rows, True), online=True)
        reason = np.array(REASONS, dtype=object)[ctx.rng.integers(0, len(REASONS), n)]
        ev = evidence(n, dispute=reason.astype(str), days_to_dispute=ctx.rng.integers(3, 45, n))
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n) * 0.8, ev)
