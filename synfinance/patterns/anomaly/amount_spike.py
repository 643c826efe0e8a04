"""Amount spike: a ticket ten to twenty times the category's usual size for the customer's income."""

from __future__ import annotations

import numpy as np

from synfinance.generate.amounts import median_inr
from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence


class AmountSpike(Pattern):
    kind = "anomaly"
    name = "amount_spike"
    summary = "A payment 10-20 times the category's median ticket for the customer's income bracket."
    signals = "amount far above the category norm (not only the customer's)"
    share = 0.08
    rows_per_case = 1.0

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=1, k=1)
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        cust = frame["cust"][rows]
        norm = median_inr(frame["category"][rows], ctx.c.income[cust], np.zeros(n, dtype=np.int64), np.zeros(n, bool))
        multiple = ctx.rng.uniform(10, 20, n)
        ctx.set_amount(frame, rows, np.round(norm * multiple, 0) * 100)
        ev = evidence(n, multiple_of_median=multiple, category_median_inr=norm)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
