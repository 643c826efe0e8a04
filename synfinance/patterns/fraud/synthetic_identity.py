"""Synthetic identity: a made-up customer builds a normal history, then maxes out credit and vanishes."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, JEWELLERY, TRAVEL, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.schema import US_PER_DAY
from synfinance.world.frame import Frame


class SyntheticIdentityPattern(Pattern):
    kind = "fraud"
    name = "synthetic_identity"
    summary = "A synthetic identity spends normally, then busts out with large credit and EMI purchases."
    signals = "cluster of large credit/EMI purchases in the last days of the history; far above income norms"
    rows_per_case = 4.5
    from_network = True

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        victims = np.flatnonzero(ctx.plan.networks.synthetic[ctx.lo : ctx.hi]) + ctx.lo
        rows, owner = ctx.take_rows(frame, victims, ctx.rng.integers(3, 7, len(victims)))
        if not len(rows):
            return None
        n = len(rows)
        cust = frame["cust"][rows]
        days_before_end = ctx.rng.uniform(0.5, min(10, ctx.plan.params.days), len(victims))
        anchor = ctx.t1 - (days_before_end * US_PER_DAY).astype(np.int64)
        frame["ts"][rows] = ctx.sequence(anchor, owner, ctx.rng.uniform(600, 14_400, n))
        ctx.set_merchant(frame, rows, ctx.merchant_in(ctx.customers.city[cust], ctx.pick((ELECTRONICS, JEWELLERY,
                                                                                          TRAVEL), n)))
        income = ctx.customers.monthly_income[cust] * 100
        ctx.set_amount(frame, rows, np.round(income * ctx.lift(0.4, 1.5, n), -2))
        ctx.set_payment(frame, rows, ctx.pick((pay.CREDIT, pay.EMI), n), online=ctx.rng.random(n) < 0.5)
        ctx.place(frame, rows)
        ev = evidence(n, identity="synthetic", bust_out=True, income_multiple=frame["paise"][rows] / income)
        return Injection(rows, ctx.severity(frame["paise"][rows], floor=2), ctx.confidence(n), ev)
