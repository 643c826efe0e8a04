"""Account takeover: a fraudster logs in from a new device and spends fast."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, JEWELLERY, TRAVEL, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.world.frame import Frame


class AccountTakeoverPattern(VictimPattern):
    kind = "fraud"
    name = "account_takeover"
    summary = "A fraudster takes over the app or net-banking login and spends from a device never seen before."
    signals = "new device; online burst within an hour or two; often at night; higher tickets; new merchants"
    rows_per_case = 4.5
    need = 6
    per_victim = (3, 7)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        device = ctx.devices.fraud_device(cases.victims * 7919 + ctx.shard)[cases.owner]
        anchor = ctx.anchors(len(cases.victims), night=ctx.tell(len(cases.victims)))
        frame["ts"][cases.rows] = ctx.sequence(anchor, cases.owner, ctx.rng.uniform(120, 1500, n))
        hub = np.array(geo.ONLINE_HUBS)[ctx.rng.integers(0, 3, n)]
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(hub, ctx.pick((ELECTRONICS, JEWELLERY, TRAVEL), n), True))
        ctx.set_amount(frame, cases.rows, ctx.amounts(cust, 2.0, 8.0))
        modes = ctx.pick((pay.UPI, pay.WALLET, pay.NETBANKING, pay.CREDIT), n)
        ctx.set_payment(frame, cases.rows, modes, online=True, device=device)
        ctx.place(frame, cases.rows)
        span_min = (frame["ts"][cases.rows] - anchor[cases.owner]) / 60e6
        ev = evidence(n, new_device=ctx.device_ids(frame["device"][cases.rows]), minutes_since_login=span_min)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows], floor=1), ctx.confidence(n), ev)
