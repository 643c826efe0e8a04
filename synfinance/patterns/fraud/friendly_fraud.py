"""Friendly fraud: a genuine online purchase later disputed as not received or not authorised."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ENTERTAINMENT, FASHION, FOOD, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS

REASONS = ("item_not_received", "not_authorised", "not_as_described")


class FriendlyFraud(Pattern):
    kind = "fraud"
    name = "friendly_fraud"
    summary = "The customer makes an ordinary online purchase and later files a chargeback for it."
    signals = "looks ordinary at purchase time; reputable online merchant; a dispute follows days later"
    share = 0.06
    rows_per_case = 1.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=3, k=(1, 3))
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        cust = frame["cust"][rows]
        city = ctx.pick(ONLINE_HUBS, n)
        ctx.set_merchant(frame, rows, ctx.merchant_in(city, ctx.pick((FOOD, FASHION, ENTERTAINMENT), n), True))
        ctx.set_amount(frame, rows, ctx.amounts(cust, 0.8, 2.0))
        ctx.set_payment(frame, rows, ctx.card_mode(cust), online=True)
        reason = np.array(REASONS, dtype=object)[ctx.rng.integers(0, len(REASONS), n)]
        ev = evidence(n, dispute=reason.astype(str), days_to_dispute=ctx.rng.integers(3, 45, n))
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n) * 0.8, ev)
