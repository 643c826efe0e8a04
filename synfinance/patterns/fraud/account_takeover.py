"""Account takeover: a fraudster logs in from a new device and spends fast."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, JEWELLERY, TRAVEL, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import geography as geo
from synfinance.population import payments as pay


class AccountTakeover(Pattern):
    kind = "fraud"
    name = "account_takeover"
    summary = "A fraudster takes over the app or net-banking login and spends from a device never seen before."
    signals = "new device; online burst within an hour or two; often at night; higher tickets; new merchants"
    share = 0.08
    rows_per_case = 4.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=6, k=(3, 7))
        if cases is None:
            return None
        victims, rows, owner = cases.victims, cases.rows, cases.owner
        n = len(rows)
        cust = frame["cust"][rows]
        device = ctx.devices.fraud_device(victims * 7919 + ctx.shard)[owner]
        anchor = ctx.anchors(len(victims), night=ctx.tell(len(victims)))
        frame["ts"][rows] = ctx.sequence(anchor, owner, ctx.rng.uniform(120, 1500, n))
        hub = np.array(geo.ONLINE_HUBS)[ctx.rng.integers(0, 3, n)]
        ctx.set_merchant(frame, rows, ctx.merchant_in(hub, ctx.pick((ELECTRONICS, JEWELLERY, TRAVEL), n), True))
        ctx.set_amount(frame, rows, ctx.amounts(cust, 2.0, 8.0))
        modes = ctx.pick((pay.UPI, pay.WALLET, pay.NETBANKING, pay.CREDIT), n)
        ctx.set_payment(frame, rows, modes, online=True, device=device)
        ctx.place(frame, rows)
        span_min = (frame["ts"][rows] - anchor[owner]) / 60e6
        ev = evidence(n, new_device=ctx.device_ids(frame["device"][rows]), minutes_since_login=span_min)
        return Injection(rows, ctx.severity(frame["paise"][rows], floor=1), ctx.confidence(n), ev)
