"""Unusual hour: a payment in the small hours from a customer who shops by day."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.schema import IST_OFFSET_S, US_PER_DAY, US_PER_HOUR
from synfinance.world.frame import Frame


class UnusualHourPattern(VictimPattern):
    kind = "anomaly"
    name = "unusual_hour"
    summary = "A customer whose favourite hours are all daytime pays between 1 and 4 a.m. IST."
    signals = "local hour 1-4 for a daytime shopper"
    rows_per_case = 1.0
    min_history = 10
    need = 1
    per_victim = 1

    def eligible(self, ctx: PatternContext) -> np.ndarray:
        return np.asarray(np.all((ctx.customers.pref_hours >= 7) & (ctx.customers.pref_hours <= 21), axis=1))

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        offset = IST_OFFSET_S * 1_000_000
        local = frame["ts"][cases.rows] + offset
        hour = ctx.rng.integers(1, 5, n)
        within = (ctx.rng.random(n) * 3600e6).astype(np.int64)
        new_ts = local // US_PER_DAY * US_PER_DAY + hour * US_PER_HOUR + within - offset
        frame["ts"][cases.rows] = np.clip(new_ts, ctx.t0, ctx.t1 - 1)
        usual = ctx.customers.pref_hours[frame["cust"][cases.rows]]
        usual_text = pc.binary_join_element_wise(*(pc.cast(pa.array(usual[:, i]), pa.string()) for i in range(3)), ",")
        ev = evidence(n, hour=hour, usual_hours=usual_text)
        return Injection(cases.rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
