"""Round amount: a suspiciously round sum such as ₹10,000 or ₹50,000."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.frame import Frame

ROUND_INR = np.array([5_000, 10_000, 20_000, 25_000, 50_000])


class RoundAmountPattern(VictimPattern):
    kind = "anomaly"
    name = "round_amount"
    summary = "A payment of exactly ₹5,000, 10,000, 20,000, 25,000 or 50,000."
    signals = "amount a multiple of ₹5,000 with no paise"
    rows_per_case = 1.0
    need = 1
    per_victim = 1

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        inr = ROUND_INR[ctx.rng.integers(0, len(ROUND_INR), n)]
        ctx.set_amount(frame, cases.rows, inr * 100)
        ev = evidence(n, amount_inr=inr, round_to_inr=5000)
        return Injection(cases.rows, ctx.severity(inr * 100), ctx.confidence(n), ev)
