"""Burst: several payments by one customer within ten minutes (busy, not necessarily bad)."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence


class Burst(Pattern):
    kind = "anomaly"
    name = "burst"
    summary = "A customer with a history makes 4-7 payments within ten minutes."
    signals = "many payments in a short window for this customer"
    share = 0.10
    rows_per_case = 5.5
    min_history = 5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=8, k=(4, 8))
        if cases is None:
            return None
        victims, rows, owner, k = cases.victims, cases.rows, cases.owner, cases.k
        n = len(rows)
        anchor = frame["ts"][rows[np.searchsorted(owner, np.arange(len(victims)))]]
        frame["ts"][rows] = ctx.sequence(anchor, owner, ctx.rng.uniform(20, 600 / k[owner], n))
        window = np.zeros(len(victims))
        np.maximum.at(window, owner, (frame["ts"][rows] - anchor[owner]) / 60e6)
        ev = evidence(n, burst=k[owner], window_min=window[owner])
        return Injection(rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
