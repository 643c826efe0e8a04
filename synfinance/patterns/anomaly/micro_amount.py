"""Micro amount: a payment of ₹10-50 where the customer's tickets are usually far larger."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence


class MicroAmount(Pattern):
    kind = "anomaly"
    name = "micro_amount"
    summary = "A payment of ₹10-50 from a customer whose usual ticket is at least ₹500."
    signals = "amount between ₹10 and ₹50"
    share = 0.08
    rows_per_case = 1.0

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        big_spender = ctx.avg_inr >= 500
        cases = self.take_cases(frame, ctx, budget_rows, need=1, k=1, eligible=big_spender)
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        inr = ctx.rng.integers(10, 51, n)
        ctx.set_amount(frame, rows, inr * 100)
        ev = evidence(n, amount_inr=inr, usual_inr=ctx.typical_paise(frame["cust"][rows]) / 100)
        return Injection(rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
