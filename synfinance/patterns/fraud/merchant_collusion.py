"""Merchant collusion: a ring of merchants pushes inflated card-not-present charges onto many victims."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.sampling import format_ids
from synfinance.world.frame import Frame


class MerchantCollusionPattern(Pattern):
    kind = "fraud"
    name = "merchant_collusion"
    summary = "Colluding local merchants of a ring collect inflated remote payments from many customers."
    signals = "many distinct customers at the same low-reputation merchants; out-of-town merchant; ring id"
    rows_per_case = 1.5
    from_network = True

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        nets = ctx.plan.networks
        ring_of = nets.ring_of
        victims = np.flatnonzero(ring_of[ctx.lo : ctx.hi] >= 0) + ctx.lo
        rows, owner = ctx.take_rows(frame, victims, 1 + (ctx.rng.random(len(victims)) < 0.5))
        if not len(rows):
            return None
        n = len(rows)
        cust = frame["cust"][rows]
        ring = ring_of[cust]
        merchant = nets.ring_merchants[ring, ctx.rng.integers(0, 2, n)]
        frame["ts"][rows] = ctx.anchors(n)
        ctx.set_merchant(frame, rows, merchant)
        ctx.set_amount(frame, rows, ctx.amounts(cust, 1.5, 3.5))
        ctx.set_payment(frame, rows, ctx.usual_mode(frame, rows, True), online=True)
        ctx.place(frame, rows)
        ev = evidence(n, ring=format_ids("R-", ring, 4),
                      merchant=ctx.merchants.table.column("merchant_id").take(merchant))
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
