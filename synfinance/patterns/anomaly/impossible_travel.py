"""Impossible travel: two payments so far apart, so close in time, that no one could travel between them."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import haversine_km
from synfinance.world.frame import Frame, order_by

MIN_KMH = 800.0
MIN_GAP_US = 60_000_000


class ImpossibleTravelPattern(Pattern):
    kind = "anomaly"
    name = "impossible_travel"
    summary = "A payment appears 1,000+ km from the customer's previous one, minutes to an hour later."
    signals = "implied speed from the previous payment above 800 km/h"
    rows_per_case = 1.0
    min_history = 5
    runs_last = True  # the pair must stay adjacent: nothing may move the customer's other rows afterwards

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        # candidate pairs: a payment and the customer's very next one, both untouched, among a
        # generous sample of customers (only their rows need ordering)
        victims = ctx.victims(frame, 2 * self.cases(ctx, budget_rows), need=2, min_history=self.min_history)
        candidates, _ = ctx.rows_of(frame, victims)
        order = candidates[order_by(frame["cust"][candidates], frame["ts"][candidates])]
        before, after = order[:-1], order[1:]
        free = ctx.free(frame)
        ok = (frame["cust"][before] == frame["cust"][after]) & free[before] & free[after]
        ok &= (ctx.history[before] >= self.min_history) & (frame["ts"][after] - frame["ts"][before] > MIN_GAP_US)
        before, after = before[ok], after[ok]
        cust = frame["cust"][before]
        # one pair per chosen customer: the first candidate pair of each, customers drawn at random
        first = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
        chosen = first[ctx.rng.permutation(len(first))[: self.cases(ctx, budget_rows)]]
        if not len(chosen):
            return None
        before, rows = np.sort(before[chosen]), after[chosen][np.argsort(before[chosen])]
        ctx.reserve(before)
        city = ctx.far_city(frame["city"][before], min_km=1000)
        ctx.place(frame, rows, city)
        km = haversine_km(frame["lat"][before], frame["lon"][before], frame["lat"][rows], frame["lon"][rows])
        needed_us = km / ctx.rng.uniform(1.5 * MIN_KMH, 4 * MIN_KMH, len(rows)) * 3600e6
        # move the later payment earlier only: no other payment of the customer can end up in between
        gap = np.minimum(np.maximum(needed_us, MIN_GAP_US).astype(np.int64), frame["ts"][rows] - frame["ts"][before])
        frame["ts"][rows] = frame["ts"][before] + gap
        minutes = gap / 60e6
        n = len(rows)
        ev = evidence(n, from_city=ctx.city_names(frame["city"][before]), to_city=ctx.city_names(city), km=km,
                      minutes=minutes, kmh=km / (minutes / 60))
        return Injection(rows, np.full(n, 2, dtype=np.int8), ctx.confidence(n), ev)
