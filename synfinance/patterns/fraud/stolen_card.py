"""Stolen card: a lost or stolen card is tapped at shop after shop, escalating, before it is blocked."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, FASHION, FUEL, GROCERIES, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.world.frame import Frame


class StolenCardPattern(VictimPattern):
    kind = "fraud"
    name = "stolen_card"
    summary = "A stolen physical card is used at several new shops in the home city, amounts climbing."
    signals = "card present; merchants never visited; minutes apart; each ticket larger than the last"
    rows_per_case = 4.5
    need = 7
    per_victim = (3, 7)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        step = ctx.position(cases.owner)
        frame["ts"][cases.rows] = ctx.sequence(ctx.anchors(len(cases.victims)), cases.owner, ctx.rng.uniform(300,
                                                                                                             2400, n))
        categories = ctx.pick((GROCERIES, FUEL, FASHION, ELECTRONICS, JEWELLERY), n)
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(ctx.customers.city[cust], categories, worst=True))
        growth = ctx.lift(1.4, 2.2, len(cases.victims))[cases.owner] ** step
        ctx.set_amount(frame, cases.rows, np.round(ctx.typical_paise(cust) * 0.6 * growth, -2))
        ctx.set_payment(frame, cases.rows, ctx.card_mode(cust), online=False)
        ctx.place(frame, cases.rows)
        span_min = (frame["ts"][cases.rows] - frame["ts"][cases.rows][np.searchsorted(cases.owner, cases.owner)]) / 60e6
        ev = evidence(n, card=ctx.instrument_ids(cases.rows, frame), step=step + 1, minutes_since_first=span_min)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
