"""First-party fraud: the customers themselves take goods on EMI and credit they never mean to repay."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay


class FirstPartyFraud(Pattern):
    kind = "fraud"
    name = "first_party_fraud"
    summary = "A genuine customer buys electronics and jewellery on EMI well beyond their income, never to repay."
    signals = "EMI or credit purchases summing to 1.5-3x monthly income within days; own card and device"
    share = 0.05
    rows_per_case = 2.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=4, k=(2, 4), eligible=ctx.c.has_credit_card)
        if cases is None:
            return None
        victims, rows, owner, k = cases.victims, cases.rows, cases.owner, cases.k
        n = len(rows)
        cust = frame["cust"][rows]
        frame["ts"][rows] = ctx.sequence(ctx.anchors(len(victims), margin_days=4), owner,
                                         ctx.rng.uniform(3600, 172_800, n))
        ctx.set_merchant(frame, rows, ctx.merchant_in(ctx.c.city[cust], ctx.pick((ELECTRONICS, JEWELLERY), n)))
        total = ctx.c.monthly_income[victims] * 100 * ctx.lift(1.5, 3.0, len(victims))
        ctx.set_amount(frame, rows, np.round(total[owner] / k[owner], -2))
        ctx.set_payment(frame, rows, pay.EMI, online=ctx.rng.random(n) < 0.4)
        ctx.place(frame, rows)
        ev = evidence(n, credit_total_inr=np.round(total[owner] / 100), income_multiple=total[owner]
                      / (ctx.c.monthly_income[cust] * 100))
        return Injection(rows, ctx.severity(frame["paise"][rows], floor=1), ctx.confidence(n), ev)
