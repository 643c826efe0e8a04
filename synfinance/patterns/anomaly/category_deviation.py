"""Category deviation: a purchase in a category the customer's kind of shopper almost never buys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.categories import CATEGORY_NAMES
from synfinance.population.segments import SEGMENT_CATEGORY_WEIGHTS
from synfinance.world.amounts import median_inr
from synfinance.world.frame import Frame

_NAMES = pa.array(CATEGORY_NAMES)


class CategoryDeviationPattern(VictimPattern):
    kind = "anomaly"
    name = "category_deviation"
    summary = "A customer with an established history buys in one of the categories their segment likes least."
    signals = "category outside the customer's favourites and rare for the segment"
    rows_per_case = 1.0
    min_history = 10
    need = 1
    per_victim = 1

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        liking = np.where(SEGMENT_CATEGORY_WEIGHTS > 0, SEGMENT_CATEGORY_WEIGHTS, np.inf)[ctx.customers.segment[cust]]
        liking[np.arange(n)[:, None], ctx.customers.pref_categories[cust]] = np.inf  # never one of their favourites
        rare = np.argsort(liking, axis=1)[:, :3][np.arange(n), ctx.rng.integers(0, 3, n)]
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(frame["city"][cases.rows], rare))
        median = median_inr(rare, ctx.customers.income[cust], np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
        ctx.set_amount(frame, cases.rows, np.round(median * 100, -2))
        usual = ctx.customers.pref_categories[cust, 0]
        ev = evidence(n, category=_NAMES.take(pa.array(rare)), usual=_NAMES.take(pa.array(usual)))
        return Injection(cases.rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
