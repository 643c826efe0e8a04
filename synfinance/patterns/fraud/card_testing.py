"""Card testing: tiny charges check that stolen card details work, then a large purchase follows."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, ENTERTAINMENT, FASHION, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS

MICRO_INR = (1, 50)


class CardTesting(Pattern):
    kind = "fraud"
    name = "card_testing"
    summary = "A burst of ₹1-50 charges at a small online merchant probes the card; a large purchase follows."
    signals = "several micro amounts on one card within minutes, then one large amount on the same card"
    share = 0.08
    rows_per_case = 7.0

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=10, k=(5, 10))
        if cases is None:
            return None
        victims, rows, owner, k = cases.victims, cases.rows, cases.owner, cases.k
        n, m = len(rows), len(victims)
        cust = frame["cust"][rows]
        last = ctx.position(owner) == k[owner] - 1
        frame["ts"][rows] = ctx.sequence(ctx.anchors(m), owner, np.where(last, ctx.rng.uniform(300, 3600, n),
                                                                           ctx.rng.uniform(10, 90, n)))
        hub = ctx.pick(ONLINE_HUBS, m)
        probe = ctx.merchant_in(hub, ctx.pick((ENTERTAINMENT, FASHION), m), worst=True)[owner]
        cash_out = ctx.merchant_in(hub, ctx.pick((ELECTRONICS, JEWELLERY), m), chains_only=True)[owner]
        ctx.set_merchant(frame, rows, np.where(last, cash_out, probe))
        micro = ctx.rng.integers(*MICRO_INR, n, endpoint=True) * 100
        ctx.set_amount(frame, rows, np.where(last, ctx.amounts(cust, 3.0, 10.0), micro))
        ctx.set_payment(frame, rows, ctx.card_mode(victims)[owner], online=True)
        ctx.place(frame, rows)
        then_inr = np.zeros(m)
        then_inr[owner[last]] = frame["paise"][rows[last]] / 100
        ev = evidence(n, card=ctx.instrument_ids(rows, frame), micro_count=k[owner] - 1, then_inr=then_inr[owner],
                      stage=np.where(last, "cash_out", "probe"))
        return Injection(rows, ctx.severity(then_inr[owner] * 100), ctx.confidence(n), ev)
