"""Shipping fraud: goods bought with the customer's card are shipped to, and ordered from, another city."""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import ELECTRONICS, FASHION, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population.geography import ONLINE_HUBS
from synfinance.world.frame import Frame


class ShippingFraudPattern(VictimPattern):
    kind = "fraud"
    name = "shipping_fraud"
    summary = "Online orders on the customer's account go to a drop address in another city, often from a new device."
    signals = "online order placed away from home; resellable goods; sometimes an unknown device"
    rows_per_case = 1.5
    keeps_time = True
    need = 3
    per_victim = (1, 3)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n = len(cases.rows)
        cust = frame["cust"][cases.rows]
        ship_to = ctx.far_city(ctx.customers.city[cases.victims], min_km=300)[cases.owner]
        ctx.set_merchant(frame, cases.rows, ctx.merchant_in(ctx.pick(ONLINE_HUBS, n), ctx.pick((ELECTRONICS,
                                                                                                FASHION), n),
                                                      chains_only=True))
        ctx.set_amount(frame, cases.rows, ctx.amounts(cust, 2.0, 5.0))
        stranger = ctx.tell(n) & (ctx.rng.random(n) < 0.6)
        device = np.where(stranger, ctx.devices.fraud_device(cust * 31 + 7), cust * 2)
        ctx.set_payment(frame, cases.rows, ctx.usual_mode(frame, cases.rows, True), online=True, device=device)
        ctx.place(frame, cases.rows, ship_to)
        ev = evidence(n, ship_to=ctx.city_names(ship_to), billing_city=ctx.city_names(ctx.customers.city[cust]),
                      new_device=stranger)
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
