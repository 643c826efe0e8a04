"""Progressive escalation (combined): a compromised card is used again every day or two, each time for more."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, FASHION, JEWELLERY, TRAVEL, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS
from synfinance.schema import US_PER_DAY
from synfinance.world.frame import Frame


class ProgressiveEscalationPattern(VictimPattern):
    kind = "fraud"
    name = "progressive_escalation"
    summary = "Combined: a compromised card is charged every day or two over a week or more, each charge larger."
    signals = "same card online; geometric growth of amounts across days; starts below the customer's usual"
    rows_per_case = 6.5
    tail_days = 14
    need = 9
    per_victim = (5, 9)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n, m = len(cases.rows), len(cases.victims)
        cust = frame["cust"][cases.rows]
        step = ctx.position(cases.owner)
        margin = min(ctx.plan.params.days * 0.9, self.tail_days)
        frame["ts"][cases.rows] = ctx.sequence(ctx.anchors(m, margin_days=margin), cases.owner,
                                         ctx.rng.uniform(0.6, 2.0, n) * US_PER_DAY / 1e6)
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(ctx.pick(ONLINE_HUBS, n),
                                                      ctx.pick((FASHION, ELECTRONICS, TRAVEL, JEWELLERY), n), True))
        ratio = ctx.lift(1.4, 1.9, m)[cases.owner]
        ctx.set_amount(frame, cases.rows, np.round(ctx.typical_paise(cust) * 0.4 * ratio**step, -2))
        ctx.set_payment(frame, cases.rows, ctx.card_mode(cust), online=True)
        ctx.place(frame, cases.rows)
        ev = evidence(n, card=ctx.instrument_ids(cases.rows, frame), step=step + 1, of=cases.k[cases.owner],
                      growth=ratio)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
