"""Spending spike: one payment three to five times the customer's usual ticket."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.frame import Frame


class SpendingSpikePattern(VictimPattern):
    kind = "anomaly"
    name = "spending_spike"
    summary = "A customer with a history suddenly pays 3-5 times their usual amount."
    signals = "amount 3-5x the customer's average ticket"
    rows_per_case = 1.0
    min_history = 10
    need = 1
    per_victim = 1

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        multiple = ctx.rng.uniform(3.0, 5.0, n)
        ctx.set_amount(frame, cases.rows, np.round(ctx.typical_paise(cust) * multiple, -2))
        ev = evidence(n, multiple_of_usual=multiple, usual_inr=ctx.typical_paise(cust) / 100)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
