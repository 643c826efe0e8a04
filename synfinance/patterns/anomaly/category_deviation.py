"""Category deviation: a purchase in a category the customer's kind of shopper almost never buys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.generate.amounts import median_inr
from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.categories import CATEGORY_NAMES
from synfinance.population.segments import SEGMENT_CATEGORY_WEIGHTS

_NAMES = pa.array(CATEGORY_NAMES)


class CategoryDeviation(Pattern):
    kind = "anomaly"
    name = "category_deviation"
    summary = "A customer with an established history buys in one of the categories their segment likes least."
    signals = "category outside the customer's favourites and rare for the segment"
    share = 0.10
    rows_per_case = 1.0
    min_history = 10

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=1, k=1)
        if cases is None:
            return None
        rows = cases.rows
        n = len(rows)
        cust = frame["cust"][rows]
        liking = np.where(SEGMENT_CATEGORY_WEIGHTS > 0, SEGMENT_CATEGORY_WEIGHTS, np.inf)[ctx.c.segment[cust]]
        liking[np.arange(n)[:, None], ctx.c.pref_categories[cust]] = np.inf  # never one of their favourites
        rare = np.argsort(liking, axis=1)[:, :3][np.arange(n), ctx.rng.integers(0, 3, n)]
        ctx.set_merchant(frame, rows, ctx.merchant_in(frame["city"][rows], rare))
        median = median_inr(rare, ctx.c.income[cust], np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
        ctx.set_amount(frame, rows, np.round(median * 100, -2))
        usual = ctx.c.pref_categories[cust, 0]
        ev = evidence(n, category=_NAMES.take(pa.array(rare)), usual=_NAMES.take(pa.array(usual)))
        return Injection(rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
