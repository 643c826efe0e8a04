"""Refund fraud: one purchase, then repeated refund claims for it at the same merchant."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, FASHION, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import geography as geo
from synfinance.population import payments as pay


class RefundFraud(Pattern):
    kind = "fraud"
    name = "refund_fraud"
    summary = "A purchase is followed by several refund claims of the same amount at the same merchant."
    signals = "reversed payments repeating one amount at one merchant within days of the purchase"
    share = 0.05
    rows_per_case = 4.0

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=5, k=(3, 6))
        if cases is None:
            return None
        victims, rows, owner = cases.victims, cases.rows, cases.owner
        n, m = len(rows), len(victims)
        cust = frame["cust"][rows]
        step = ctx.position(owner)
        frame["ts"][rows] = ctx.sequence(ctx.anchors(m, margin_days=6), owner, ctx.rng.uniform(3600, 86_400, n))
        hub = np.array(geo.ONLINE_HUBS)[ctx.rng.integers(0, 3, m)]
        merchant = ctx.merchant_in(hub, ctx.pick((ELECTRONICS, FASHION), m), chains_only=True)
        ctx.set_merchant(frame, rows, merchant[owner])
        ctx.set_amount(frame, rows, ctx.amounts(victims, 1.0, 3.0)[owner])
        ctx.set_payment(frame, rows, ctx.card_mode(cust), online=True)
        frame["status"][rows] = np.where(step == 0, pay.APPROVED, pay.REVERSED)
        ctx.place(frame, rows)
        counts = np.bincount(owner, minlength=m)
        ev = evidence(n, merchant=ctx.m.table.column("merchant_id").take(merchant[owner]), refunds=counts[owner] - 1,
                      step=step)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
