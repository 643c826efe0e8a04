"""Coordinated attack (combined): one fraudster device hits many customers at one merchant in a short window."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.sampling import format_ids
from synfinance.world.frame import Frame

WINDOW_S = 2 * 3600


class CoordinatedAttackPattern(Pattern):
    kind = "fraud"
    name = "coordinated_attack"
    summary = "Combined: one device, with stolen credentials of many customers, buys at one merchant within 2 hours."
    signals = "the same device on many customers' payments; one merchant; a two-hour window; attack id"
    rows_per_case = 1.0
    from_network = True

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        nets = ctx.plan.networks
        victims = np.flatnonzero(nets.attack_of[ctx.lo : ctx.hi] >= 0) + ctx.lo
        rows, owner = ctx.take_rows(frame, victims, 1)
        if not len(rows):
            return None
        n = len(rows)
        cust = frame["cust"][rows]
        attack = nets.attack_of[cust]
        within = (ctx.rng.random(n) * WINDOW_S * 1e6).astype(np.int64)
        frame["ts"][rows] = np.minimum(nets.attack_start[attack] + within, ctx.t1 - 1)
        ctx.set_merchant(frame, rows, nets.attack_merchant[attack])
        ctx.set_amount(frame, rows, ctx.amounts(cust, 1.5, 4.0))
        ctx.set_payment(frame, rows, ctx.usual_mode(frame, rows, True), online=True, device=nets.attack_device[attack])
        ctx.place(frame, rows)
        ev = evidence(n, attack=format_ids("A-", attack, 4), device=ctx.device_ids(nets.attack_device[attack]),
                      victims=nets.attack_size[attack])
        return Injection(rows, ctx.severity(frame["paise"][rows], floor=1), ctx.confidence(n), ev)
