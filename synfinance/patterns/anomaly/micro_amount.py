"""Micro amount: a payment of ₹10-50 where the customer's tickets are usually far larger."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.frame import Frame

MIN_USUAL_INR = 250  # five times the largest micro amount


class MicroAmountPattern(VictimPattern):
    kind = "anomaly"
    name = "micro_amount"
    summary = "A payment of ₹10-50 from a customer whose usual ticket is at least ₹250."
    signals = "amount between ₹10 and ₹50"
    rows_per_case = 1.0
    need = 1
    per_victim = 1

    def eligible(self, ctx: PatternContext) -> np.ndarray:
        return np.asarray(ctx.avg_inr >= MIN_USUAL_INR)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        inr = ctx.rng.integers(10, 51, n)
        ctx.set_amount(frame, cases.rows, inr * 100)
        ev = evidence(n, amount_inr=inr, usual_inr=ctx.typical_paise(frame["cust"][cases.rows]) / 100)
        return Injection(cases.rows, np.zeros(n, dtype=np.int8), ctx.confidence(n), ev)
