"""Amount manipulation: amounts kept just under a limit that would trigger review."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, JEWELLERY, TRAVEL, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.frame import Frame

THRESHOLDS_INR = np.array([10_000, 50_000, 200_000])


class AmountManipulationPattern(VictimPattern):
    kind = "fraud"
    name = "amount_manipulation"
    summary = "Payments are sized just under a review or reporting limit (₹10k, ₹50k, ₹2L)."
    signals = "amount a little below a round limit; higher than the customer's usual ticket"
    rows_per_case = 1.5
    keeps_time = True
    need = 3
    per_victim = (1, 3)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        limit = THRESHOLDS_INR[np.clip(ctx.customers.income[cust] - 2, 0, 2)]
        below = np.floor(limit * ctx.rng.uniform(0.002, 0.03, n))
        category = ctx.pick((ELECTRONICS, JEWELLERY, TRAVEL), n)
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(frame["city"][cases.rows], category))
        ctx.set_amount(frame, cases.rows, (limit - below) * 100)
        ctx.set_payment(frame, cases.rows, ctx.usual_mode(frame, cases.rows, True), online=True)
        ev = evidence(n, limit_inr=limit, below_by_inr=below)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows], floor=1), ctx.confidence(n), ev)
