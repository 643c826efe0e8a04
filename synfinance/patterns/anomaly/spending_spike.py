"""Spending spike: one payment three to five times the customer's usual ticket."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence


class SpendingSpike(Pattern):
    kind = "anomaly"
    name = "spending_spike"
    summary = "A customer with a history suddenly pays 3-5 times their usual amount."
    signals = "amount 3-5x the customer's average ticket"
    share = 0.12
    rows_per_case = 1.0
    min_history = 10

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=1, k=1)
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        cust = frame["cust"][rows]
        multiple = ctx.rng.uniform(3.0, 5.0, n)
        ctx.set_amount(frame, rows, np.round(ctx.typical_paise(cust) * multiple, -2))
        ev = evidence(n, multiple_of_usual=multiple, usual_inr=ctx.typical_paise(cust) / 100)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
