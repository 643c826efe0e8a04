"""Impossible travel: two payments so far apart, so close in time, that no one could travel between them."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import haversine_km

MIN_KMH = 800.0


class ImpossibleTravel(Pattern):
    kind = "anomaly"
    name = "impossible_travel"
    summary = "A payment appears 1,000+ km from the customer's previous one, minutes to an hour later."
    signals = "implied speed from the previous payment above 800 km/h"
    share = 0.10
    rows_per_case = 1.0
    min_history = 5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        victims = ctx.victims(frame, self.cases(ctx, budget_rows), need=2, min_history=self.min_history)
        pairs, owner = ctx.take_rows(frame, victims, 2, min_history=self.min_history)
        if not len(pairs):
            return None
        first = ctx.position(owner) == 0
        before, rows = pairs[first], pairs[~first]
        ctx.reserved[before] = True  # the evidence is the pair: the earlier payment must stay put
        city = ctx.far_city(frame["city"][before], min_km=1000)
        ctx.place(frame, rows, city)
        km = haversine_km(frame["lat"][before], frame["lon"][before], frame["lat"][rows], frame["lon"][rows])
        kmh = ctx.rng.uniform(1.5 * MIN_KMH, 4 * MIN_KMH, len(rows))
        frame["ts"][rows] = frame["ts"][before] + np.maximum(km / kmh * 3600e6, 60e6).astype(np.int64)
        overflow = frame["ts"][rows] >= ctx.t1
        frame["ts"][before[overflow]] -= frame["ts"][rows[overflow]] - (ctx.t1 - 1)
        frame["ts"][rows[overflow]] = ctx.t1 - 1
        minutes = (frame["ts"][rows] - frame["ts"][before]) / 60e6
        n = len(rows)
        ev = evidence(n, from_city=ctx.city_names(frame["city"][before]), to_city=ctx.city_names(city), km=km,
                      minutes=minutes, kmh=km / (minutes / 60))
        return Injection(rows, np.full(n, 2, dtype=np.int8), ctx.confidence(n), ev)
