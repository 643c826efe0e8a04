"""Chained attack (combined): takeover, then card testing, then cash-out, by one fraudster in hours."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, ENTERTAINMENT, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS
from synfinance.world.frame import Frame

STAGES = np.array(["takeover", "testing", "cash_out"], dtype=object)


class ChainedAttackPattern(VictimPattern):
    kind = "fraud"
    name = "chained_attack"
    summary = "Combined: a new device takes over the account, probes the card with micro charges, then cashes out."
    signals = "one unknown device across all steps; small login purchase, micro amounts, then large tickets"
    rows_per_case = 6.5
    need = 9
    per_victim = (5, 9)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n, m = len(cases.rows), len(cases.victims)
        cust = frame["cust"][cases.rows]
        pos = ctx.position(cases.owner)
        stage = np.where(pos == 0, 0, np.where(pos >= cases.k[cases.owner] - 2, 2, 1))
        device = ctx.devices.fraud_device(cases.victims * 104_729 + 3)[cases.owner]
        frame["ts"][cases.rows] = ctx.sequence(ctx.anchors(m, night=ctx.tell(m)), cases.owner, ctx.rng.uniform(60,
                                                                                                               2400, n))
        hub = ctx.pick(ONLINE_HUBS, m)[cases.owner]
        probe = ctx.merchant_in(hub, ENTERTAINMENT, worst=True)
        cash_out = ctx.merchant_in(hub, ctx.pick((ELECTRONICS, JEWELLERY), n), chains_only=True)
        ctx.set_merchant(frame, cases.rows, np.where(stage == 2, cash_out, probe))
        small = ctx.rng.integers(1, 100, n) * 100
        ctx.set_amount(frame, cases.rows, np.where(stage == 2, ctx.amounts(cust, 4.0, 10.0), small))
        ctx.set_payment(frame, cases.rows, ctx.card_mode(cust), online=True, device=device)
        ctx.place(frame, cases.rows)
        ev = evidence(n, chain="takeover>testing>cash_out", stage=STAGES[stage].astype(str),
                      device=ctx.device_ids(device))
        return Injection(cases.rows, np.where(stage == 2, 3, 1).astype(np.int8), ctx.confidence(n), ev)
