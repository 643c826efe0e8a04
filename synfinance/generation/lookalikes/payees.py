"""A first transfer to someone new: a deposit to a new landlord, a seller on a marketplace, a relative's friend in
another city; several times the customer's usual transfer, in daytime, now and then two minutes apart. Imitates the
collect-request scam (a person never paid before, elsewhere, a larger amount), so that scam is no one-feature rule.
Only in datasets that hold the scam: without it there is nothing to look like (it leaves other datasets as they
were)."""

from __future__ import annotations

import numpy as np

from synfinance.generation.lookalikes.base import LookAlike, Shard
from synfinance.generation.transfers import TRANSFERS
from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.schema import US_PER_S, ist_midnight
from synfinance.world.frame import Frame

LIFT = (1.5, 8.0)  # times the customer's usual ticket, as the scam asks
ELSEWHERE_P = 0.6  # the new payee lives in another city
DAY_HOURS = (9, 21)


class NewPayee(LookAlike):
    name = "new_payees"
    imitates = "collect_request (a larger transfer to a person never paid before, often in another city)"
    summary = ("A first UPI transfer to a new person (deposit, marketplace seller), 1.5-8x the usual ticket, by day; "
               "in datasets that hold collect_request.")
    order = 96  # after every other look-alike: their draws stay as they were

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        plan, rng = shard.plan, shard.rng
        rows = shard.chosen((frame["category"] == TRANSFERS) & (frame["mode"] == pay.UPI), rate)
        n = len(rows)
        cust = frame["cust"][rows]
        home = plan.customers.city[cust]
        other = (home + 1 + rng.integers(0, len(geo.CITIES) - 1, n)) % len(geo.CITIES)
        city = np.where(rng.random(n) < ELSEWHERE_P, other, home)
        m = plan.merchants
        size = m.pool_size[city, TRANSFERS]
        frame["merchant"][rows] = m.pool_start[city, TRANSFERS] + (rng.random(n) * size).astype(np.int64)
        frame["merchant_city"][rows] = city
        usual = plan.customers.table.column("avg_transaction_amount").to_numpy()[cust]
        inr = np.round(usual * rng.uniform(*LIFT, n))
        inr = np.where(rng.random(n) < 0.5, np.maximum(np.round(inr / 500) * 500, 500), inr)
        frame["paise"][rows] = (np.clip(inr, 1, 100_000) * 100).astype(np.int64)
        ts = frame["ts"][rows]
        day_start = ist_midnight(ts)
        frame["ts"][rows] = day_start + (rng.uniform(*DAY_HOURS, n) * 3600 * US_PER_S).astype(np.int64)
