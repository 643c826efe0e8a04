"""Unusual hour: a payment in the small hours from a customer who shops by day."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import DAY_US, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.schema import IST_OFFSET_S


class UnusualHour(Pattern):
    kind = "anomaly"
    name = "unusual_hour"
    summary = "A customer whose favourite hours are all daytime pays between 1 and 4 a.m. IST."
    signals = "local hour 1-4 for a daytime shopper"
    share = 0.10
    rows_per_case = 1.0
    min_history = 10

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        daytime = np.asarray(np.all((ctx.c.pref_hours >= 7) & (ctx.c.pref_hours <= 21), axis=1))
        cases = self.take_cases(frame, ctx, budget_rows, need=1, k=1, eligible=daytime)
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        offset = IST_OFFSET_S * 1_000_000
        local = frame["ts"][rows] + offset
        hour = ctx.rng.integers(1, 5, n)
        within = (ctx.rng.random(n) * 3600e6).astype(np.int64)
        new_ts = local // DAY_US * DAY_US + hour * 3_600_000_000 + within - offset
        frame["ts"][rows] = np.clip(new_ts, ctx.t0, ctx.t1 - 1)
        usual = ctx.c.pref_hours[frame["cust"][rows]]
        usual_text = pc.binary_join_element_wise(*(pc.cast(pa.array(usual[:, i]), pa.string()) for i in range(3)), ",")
        ev = evidence(n, hour=hour, usual_hours=usual_text)
        return Injection(rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
