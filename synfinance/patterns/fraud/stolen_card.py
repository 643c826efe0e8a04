"""Stolen card: a lost or stolen card is tapped at shop after shop, escalating, before it is blocked."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, FASHION, FUEL, GROCERIES, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence


class StolenCard(Pattern):
    kind = "fraud"
    name = "stolen_card"
    summary = "A stolen physical card is used at several new shops in the home city, amounts climbing."
    signals = "card present; merchants never visited; minutes apart; each ticket larger than the last"
    share = 0.07
    rows_per_case = 4.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=7, k=(3, 7))
        if cases is None:
            return None
        victims, rows, owner = cases.victims, cases.rows, cases.owner
        n = len(rows)
        cust = frame["cust"][rows]
        step = ctx.position(owner)
        frame["ts"][rows] = ctx.sequence(ctx.anchors(len(victims)), owner, ctx.rng.uniform(300, 2400, n))
        categories = ctx.pick((GROCERIES, FUEL, FASHION, ELECTRONICS, JEWELLERY), n)
        ctx.set_merchant(frame, rows, ctx.merchant_in(ctx.c.city[cust], categories, worst=True))
        growth = ctx.lift(1.4, 2.2, len(victims))[owner] ** step
        ctx.set_amount(frame, rows, np.round(ctx.typical_paise(cust) * 0.6 * growth, -2))
        ctx.set_payment(frame, rows, ctx.card_mode(cust), online=False)
        ctx.place(frame, rows)
        span_min = (frame["ts"][rows] - frame["ts"][rows][np.searchsorted(owner, owner)]) / 60e6
        ev = evidence(n, card=ctx.instrument_ids(rows, frame), step=step + 1, minutes_since_first=span_min)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
