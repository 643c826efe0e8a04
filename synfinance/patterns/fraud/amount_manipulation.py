"""Amount manipulation: amounts kept just under a limit that would trigger review."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, JEWELLERY, TRAVEL, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay

THRESHOLDS_INR = np.array([10_000, 50_000, 200_000])


class AmountManipulation(Pattern):
    kind = "fraud"
    name = "amount_manipulation"
    summary = "Payments are sized just under a review or reporting limit (₹10k, ₹50k, ₹2L)."
    signals = "amount a little below a round limit; higher than the customer's usual ticket"
    share = 0.05
    rows_per_case = 1.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=3, k=(1, 3))
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        cust = frame["cust"][rows]
        limit = THRESHOLDS_INR[np.clip(ctx.c.income[cust] - 2, 0, 2)]
        below = np.floor(limit * ctx.rng.uniform(0.002, 0.03, n))
        category = ctx.pick((ELECTRONICS, JEWELLERY, TRAVEL), n)
        ctx.set_merchant(frame, rows, ctx.merchant_in(frame["city"][rows], category))
        ctx.set_amount(frame, rows, (limit - below) * 100)
        ctx.set_payment(frame, rows, ctx.pick((pay.NETBANKING, pay.CREDIT, pay.DEBIT), n), online=True)
        ev = evidence(n, limit_inr=limit, below_by_inr=below)
        return Injection(rows, ctx.severity(frame["paise"][rows], floor=1), ctx.confidence(n), ev)
