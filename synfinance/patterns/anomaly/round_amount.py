"""Round amount: a suspiciously round sum such as ₹10,000 or ₹50,000."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence

ROUND_INR = np.array([5_000, 10_000, 20_000, 25_000, 50_000])


class RoundAmount(Pattern):
    kind = "anomaly"
    name = "round_amount"
    summary = "A payment of exactly ₹5,000, 10,000, 20,000, 25,000 or 50,000."
    signals = "amount a multiple of ₹5,000 with no paise"
    share = 0.08
    rows_per_case = 1.0

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=1, k=1)
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        inr = ROUND_INR[ctx.rng.integers(0, len(ROUND_INR), n)]
        ctx.set_amount(frame, rows, inr * 100)
        ev = evidence(n, amount_inr=inr, round_to_inr=5000)
        return Injection(rows, ctx.severity(inr * 100), ctx.confidence(n), ev)
