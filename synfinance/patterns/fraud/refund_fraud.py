"""Refund fraud: one purchase, then repeated refund claims for it at the same merchant."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, FASHION, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.world.frame import Frame


class RefundFraudPattern(VictimPattern):
    kind = "fraud"
    name = "refund_fraud"
    summary = "A purchase is followed by several refund claims of the same amount at the same merchant."
    signals = "reversed payments repeating one amount at one merchant within days of the purchase"
    rows_per_case = 4.0
    tail_days = 6
    need = 5
    per_victim = (3, 6)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n, m = len(cases.rows), len(cases.victims)
        step = ctx.position(cases.owner)
        frame["ts"][cases.rows] = ctx.sequence(ctx.anchors(m, margin_days=self.tail_days), cases.owner,
                                               ctx.rng.uniform(3600, 86_400, n))
        hub = np.array(geo.ONLINE_HUBS)[ctx.rng.integers(0, 3, m)]
        merchant = ctx.merchant_in(hub, ctx.pick((ELECTRONICS, FASHION), m), chains_only=True)
        ctx.set_merchant(frame, cases.rows, merchant[cases.owner])
        ctx.set_amount(frame, cases.rows, ctx.amounts(cases.victims, 1.0, 3.0)[cases.owner])
        ctx.set_payment(frame, cases.rows, ctx.usual_mode(frame, cases.rows, True), online=True)
        frame["status"][cases.rows] = np.where(step == 0, pay.APPROVED, pay.REVERSED)
        ctx.place(frame, cases.rows)
        counts = np.bincount(cases.owner, minlength=m)
        ev = evidence(n, merchant=ctx.merchants.table.column("merchant_id").take(merchant[cases.owner]),
                      refunds=counts[cases.owner] - 1,
                      step=step)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
