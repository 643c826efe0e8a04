"""Shipping fraud: goods bought with the customer's card are shipped to, and ordered from, another city."""

from __future__ import annotations

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.base import Injection, Pattern
from synfinance.patterns.context import ELECTRONICS, FASHION, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS


class ShippingFraud(Pattern):
    kind = "fraud"
    name = "shipping_fraud"
    summary = "Online orders on the customer's card go to a drop address in another city, often from a new device."
    signals = "online order placed away from home; resellable goods; sometimes an unknown device"
    share = 0.04
    rows_per_case = 1.5

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        cases = self.take_cases(frame, ctx, budget_rows, need=3, k=(1, 3))
        if cases is None:
            return None
        victims, rows, owner = cases.victims, cases.rows, cases.owner
        n = len(rows)
        cust = frame["cust"][rows]
        ship_to = ctx.far_city(ctx.c.city[victims], min_km=300)[owner]
        ctx.set_merchant(frame, rows, ctx.merchant_in(ctx.pick(ONLINE_HUBS, n), ctx.pick((ELECTRONICS, FASHION), n),
                                                      chains_only=True))
        ctx.set_amount(frame, rows, ctx.amounts(cust, 2.0, 5.0))
        stranger = ctx.tell(n) & (ctx.rng.random(n) < 0.6)
        device = np.where(stranger, ctx.devices.fraud_device(cust * 31 + 7), cust * 2)
        ctx.set_payment(frame, rows, ctx.card_mode(cust), online=True, device=device)
        ctx.place(frame, rows, ship_to)
        ev = evidence(n, ship_to=ctx.city_names(ship_to), billing_city=ctx.city_names(ctx.c.city[cust]),
                      new_device=stranger)
        return Injection(rows, ctx.severity(frame["paise"][rows]), ctx.confidence(n), ev)
