"""First-party fraud: the customers themselves take goods on EMI and credit they never mean to repay."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.world.frame import Frame


class FirstPartyFraudPattern(VictimPattern):
    kind = "fraud"
    name = "first_party_fraud"
    summary = "A genuine customer buys electronics and jewellery on EMI well beyond their income, never to repay."
    signals = "EMI or credit purchases summing to 1.5-3x monthly income within days; own card and device"
    rows_per_case = 2.5
    tail_days = 4
    need = 4
    per_victim = (2, 4)

    def eligible(self, ctx: PatternContext) -> np.ndarray:
        return ctx.customers.has_credit_card

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        frame["ts"][cases.rows] = ctx.sequence(ctx.anchors(len(cases.victims), margin_days=self.tail_days), cases.owner,
                                         ctx.rng.uniform(3600, 172_800, n))
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(ctx.customers.city[cust], ctx.pick((ELECTRONICS,
                                                                                                JEWELLERY), n)))
        total = ctx.customers.monthly_income[cases.victims] * 100 * ctx.lift(1.5, 3.0, len(cases.victims))
        ctx.set_amount(frame, cases.rows, np.round(total[cases.owner] / cases.k[cases.owner], -2))
        ctx.set_payment(frame, cases.rows, pay.EMI, online=ctx.rng.random(n) < 0.4)
        ctx.place(frame, cases.rows)
        ev = evidence(n, credit_total_inr=np.round(total[cases.owner] / 100), income_multiple=total[cases.owner]
                      / (ctx.customers.monthly_income[cust] * 100))
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows], floor=1), ctx.confidence(n), ev)
