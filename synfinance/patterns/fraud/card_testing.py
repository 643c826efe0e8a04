"""Card testing: tiny charges check that stolen card details work, then a large purchase follows."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, ENTERTAINMENT, FASHION, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS
from synfinance.world.frame import Frame

MICRO_INR = (1, 50)


class CardTestingPattern(VictimPattern):
    kind = "fraud"
    name = "card_testing"
    summary = "A burst of ₹1-50 charges at a small online merchant probes the card; a large purchase follows."
    signals = "several micro amounts on one card within minutes, then one large amount on the same card"
    rows_per_case = 7.0
    need = 10
    per_victim = (5, 10)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n, m = len(cases.rows), len(cases.victims)
        cust = frame["cust"][cases.rows]
        last = ctx.position(cases.owner) == cases.k[cases.owner] - 1
        frame["ts"][cases.rows] = ctx.sequence(ctx.anchors(m), cases.owner, np.where(last, ctx.rng.uniform(300, 3600,
                                                                                                           n),
                                                                           ctx.rng.uniform(10, 90, n)))
        hub = ctx.pick(ONLINE_HUBS, m)
        probe = ctx.merchant_in(hub, ctx.pick((ENTERTAINMENT, FASHION), m), worst=True)[cases.owner]
        cash_out = ctx.merchant_in(hub, ctx.pick((ELECTRONICS, JEWELLERY), m), chains_only=True)[cases.owner]
        ctx.set_merchant(frame, cases.rows, np.where(last, cash_out, probe))
        micro = ctx.rng.integers(*MICRO_INR, n, endpoint=True) * 100
        ctx.set_amount(frame, cases.rows, np.where(last, ctx.amounts(cust, 3.0, 10.0), micro))
        ctx.set_payment(frame, cases.rows, ctx.card_mode(cases.victims)[cases.owner], online=True)
        ctx.place(frame, cases.rows)
        then_inr = np.zeros(m)
        then_inr[cases.owner[last]] = frame["paise"][cases.rows[last]] / 100
        ev = evidence(n, card=ctx.instrument_ids(cases.rows, frame), micro_count=cases.k[cases.owner] - 1,
                      then_inr=then_inr[cases.owner],
                      stage=np.where(last, "cash_out", "probe"))
        return Injection(cases.rows, ctx.severity(then_inr[cases.owner] * 100), ctx.confidence(n), ev)
