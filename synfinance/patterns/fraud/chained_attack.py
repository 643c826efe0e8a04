"""Chained attack (combined): takeover, then card testing, then cash-out, by one fraudster in hours."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, ENTERTAINMENT, JEWELLERY, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS

STAGES = np.array(["takeover", "testing", "cash_out"], dtype=object)


class ChainedAttack(Pattern):
    kind = "fraud"
    name = "chained_attack"
    summary = "Combined: a new device takes over the account, probes the card with micro charges, then cashes out."
    signals = "one unknown device across all steps; small login purchase, micro amounts, then large tickets"
    share = 0.04
    rows_per_case = 6.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=9, k=(5, 9))
        if cases is None:
            return None
        victims, rows, owner, k = cases.victims, cases.rows, cases.owner, cases.k
        n, m = len(rows), len(victims)
        cust = frame["cust"][rows]
        pos = ctx.position(owner)
        stage = np.where(pos == 0, 0, np.where(pos >= k[owner] - 2, 2, 1))
        device = ctx.devices.fraud_device(victims * 104_729 + 3)[owner]
        frame["ts"][rows] = ctx.sequence(ctx.anchors(m, night=ctx.tell(m)), owner, ctx.rng.uniform(60, 2400, n))
        hub = ctx.pick(ONLINE_HUBS, m)[owner]
        probe = ctx.merchant_in(hub, ENTERTAINMENT, worst=True)
        cash_out = ctx.merchant_in(hub, ctx.pick((ELECTRONICS, JEWELLERY), n), chains_only=True)
        ctx.set_merchant(frame, rows, np.where(stage == 2, cash_out, probe))
        small = ctx.rng.integers(1, 100, n) * 100
        ctx.set_amount(frame, rows, np.where(stage == 2, ctx.amounts(cust, 4.0, 10.0), small))
        ctx.set_payment(frame, rows, ctx.card_mode(cust), online=True, device=device)
        ctx.place(frame, rows)
        ev = evidence(n, chain="takeover>testing>cash_out", stage=STAGES[stage].astype(str),
                      device=ctx.device_ids(device))
        return Injection(rows, np.where(stage == 2, 3, 1).astype(np.int8), ctx.confidence(n), ev)
