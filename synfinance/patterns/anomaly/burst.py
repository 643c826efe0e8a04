"""Burst: several payments by one customer within ten minutes (busy, not necessarily bad)."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.frame import Frame


class BurstPattern(VictimPattern):
    kind = "anomaly"
    name = "burst"
    summary = "A customer with a history makes 4-7 payments within ten minutes."
    signals = "many payments in a short window for this customer"
    rows_per_case = 5.5
    min_history = 5
    need = 8
    per_victim = (4, 8)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        anchor = frame["ts"][cases.rows[np.searchsorted(cases.owner, np.arange(len(cases.victims)))]]
        frame["ts"][cases.rows] = ctx.sequence(anchor, cases.owner, ctx.rng.uniform(20, 600 / cases.k[cases.owner], n))
        window = np.zeros(len(cases.victims))
        np.maximum.at(window, cases.owner, (frame["ts"][cases.rows] - anchor[cases.owner]) / 60e6)
        ev = evidence(n, burst=cases.k[cases.owner], window_min=window[cases.owner])
        return Injection(cases.rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
