"""Velocity abuse: many payments in one hour, far beyond the customer's pace."""

from __future__ import annotations

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ENTERTAINMENT, FASHION, FOOD, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.world.frame import Frame


class VelocityAbusePattern(VictimPattern):
    kind = "fraud"
    name = "velocity_abuse"
    summary = "A compromised UPI handle or wallet fires off a dozen payments within an hour."
    signals = "8-15 payments in 60 minutes; small to moderate amounts; same few merchants"
    rows_per_case = 11.5
    need = 16
    per_victim = (8, 16)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        anchor = ctx.anchors(len(cases.victims))
        frame["ts"][cases.rows] = ctx.sequence(anchor, cases.owner, ctx.rng.uniform(60, 3600 / cases.k[cases.owner], n))
        city = ctx.customers.city[cust]
        merchant = ctx.merchant_in(ctx.customers.city[cases.victims], ctx.pick((FOOD, FASHION, ENTERTAINMENT),
                                                                               len(cases.victims)))
        ctx.set_merchant(frame, cases.rows, merchant[cases.owner])
        ctx.set_amount(frame, cases.rows, ctx.amounts(cust, 0.5, 1.5))
        ctx.set_payment(frame, cases.rows, ctx.pick((pay.UPI, pay.WALLET), n), online=True)
        ctx.place(frame, cases.rows, city)
        ev = evidence(n, velocity_1h=cases.k[cases.owner], position=ctx.position(cases.owner) + 1)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
