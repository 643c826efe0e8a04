"""Velocity abuse: many payments in one hour, far beyond the customer's pace."""

from __future__ import annotations

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ENTERTAINMENT, FASHION, FOOD, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay


class VelocityAbuse(Pattern):
    kind = "fraud"
    name = "velocity_abuse"
    summary = "A compromised UPI handle or wallet fires off a dozen payments within an hour."
    signals = "8-15 payments in 60 minutes; small to moderate amounts; same few merchants"
    share = 0.06
    rows_per_case = 11.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=16, k=(8, 16))
        if cases is None:
            return None
        victims, rows, owner, k = cases.victims, cases.rows, cases.owner, cases.k
        n = len(rows)
        cust = frame["cust"][rows]
        anchor = ctx.anchors(len(victims))
        frame["ts"][rows] = ctx.sequence(anchor, owner, ctx.rng.uniform(60, 3600 / k[owner], n))
        city = ctx.c.city[cust]
        merchant = ctx.merchant_in(ctx.c.city[victims], ctx.pick((FOOD, FASHION, ENTERTAINMENT), len(victims)))
        ctx.set_merchant(frame, rows, merchant[owner])
        ctx.set_amount(frame, rows, ctx.amounts(cust, 0.5, 1.5))
        ctx.set_payment(frame, rows, ctx.pick((pay.UPI, pay.WALLET), n), online=True)
        ctx.place(frame, rows, city)
        ev = evidence(n, velocity_1h=k[owner], position=ctx.position(owner) + 1)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
