"""Location jump: a payment from a city far from home with no trip to explain it."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import haversine_km
from synfinance.world.frame import Frame

JUMP_KM = 500.0


class LocationJumpPattern(Pattern):
    kind = "anomaly"
    name = "location_jump"
    summary = "A payment is made 500+ km from home outside any trip; cloned-card fraud rows qualify too."
    signals = "distance from home above 500 km; the city is not the customer's"
    rows_per_case = 1.0
    min_history = 5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        # Fraud that already put the card far away is also an anomaly: label (up to a third of the budget) as is.
        cloned = np.flatnonzero((frame.fraud.type == ctx.code("fraud", "card_cloning")) & ~frame.anomaly.flagged)
        cloned = cloned[: budget_rows // 3]
        victims = ctx.victims(frame, self.cases(ctx, budget_rows - len(cloned)), need=1, min_history=self.min_history)
        moved, _ = ctx.take_rows(frame, victims, 1, min_history=self.min_history)
        ctx.place(frame, moved, ctx.far_city(ctx.customers.city[frame["cust"][moved]], min_km=JUMP_KM + 100))
        rows = np.concatenate([cloned, moved])
        if not len(rows):
            return None
        cust = frame["cust"][rows]
        km = haversine_km(frame["lat"][rows], frame["lon"][rows], ctx.customers.home_lat[cust],
                          ctx.customers.home_lon[cust])
        n = len(rows)
        ev = evidence(n, city=ctx.city_names(frame["city"][rows]), km_from_home=km)
        return Injection(rows, np.ones(n, dtype=np.int8), ctx.confidence(n), ev)
