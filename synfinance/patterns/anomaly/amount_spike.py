"""Amount spike: a ticket ten to twenty times the category's usual size for the customer's income."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.amounts import median_inr
from synfinance.world.frame import Frame


class AmountSpikePattern(VictimPattern):
    kind = "anomaly"
    name = "amount_spike"
    summary = "A payment 10-20 times the category's median ticket for the customer's income bracket."
    signals = "amount far above the category norm (not only the customer's)"
    rows_per_case = 1.0
    need = 1
    per_victim = 1

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        norm = median_inr(frame["category"][cases.rows], ctx.customers.income[cust], np.zeros(n, dtype=np.int64),
                          np.zeros(n, bool))
        multiple = ctx.rng.uniform(10, 20, n)
        ctx.set_amount(frame, cases.rows, np.round(norm * multiple, 0) * 100)
        ev = evidence(n, multiple_of_median=multiple, category_median_inr=norm)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
