"""Progressive escalation (combined): a compromised card is used again every day or two, each time for more."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import DAY_US, ELECTRONICS, FASHION, JEWELLERY, TRAVEL, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS


class ProgressiveEscalation(Pattern):
    kind = "fraud"
    name = "progressive_escalation"
    summary = "Combined: a compromised card is charged every day or two over a week or more, each charge larger."
    signals = "same card online; geometric growth of amounts across days; starts below the customer's usual"
    share = 0.04
    rows_per_case = 6.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=9, k=(5, 9))
        if cases is None:
            return None
        victims, rows, owner, k = cases.victims, cases.rows, cases.owner, cases.k
        n, m = len(rows), len(victims)
        cust = frame["cust"][rows]
        step = ctx.position(owner)
        margin = min(ctx.plan.params.days * 0.9, 14)
        frame["ts"][rows] = ctx.sequence(ctx.anchors(m, margin_days=margin), owner,
                                         ctx.rng.uniform(0.6, 2.0, n) * DAY_US / 1e6)
        ctx.set_merchant(frame, rows, ctx.merchant_in(ctx.pick(ONLINE_HUBS, n),
                                                      ctx.pick((FASHION, ELECTRONICS, TRAVEL, JEWELLERY), n), True))
        ratio = ctx.lift(1.4, 1.9, m)[owner]
        ctx.set_amount(frame, rows, np.round(ctx.typical_paise(cust) * 0.4 * ratio**step, -2))
        ctx.set_payment(frame, rows, ctx.card_mode(cust), online=True)
        ctx.place(frame, rows)
        ev = evidence(n, card=ctx.instrument_ids(rows, frame), step=step + 1, of=k[owner], growth=ratio)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
