"""UPI collect-request scam (authorised push payment): the victim approves payment requests a fraudster sends.

After a call (a "refund", a "KYC update", a buyer on a marketplace who "sends" money), the fraudster raises UPI
collect requests and the victim approves them on their own phone, at home, in daytime: nothing about device,
place or instrument is wrong. What gives it away is who is paid and how: a person never paid before, in another
city, an amount above the victim's usual transfers, sometimes two or three requests minutes apart. Legitimate
customers do that too (a deposit to a new landlord, a seller paid on a marketplace: the `new_payees` look-alike).

Held out of every dataset unless a campaign or fraud_types asks for it (synfinance.world.catalogue.HELD_OUT).
"""

from __future__ import annotations

import numpy as np

from synfinance.patterns.base import Cases, Injection, VictimPattern
from synfinance.patterns.context import TRANSFERS, PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.population import payments as pay
from synfinance.sampling import mix64
from synfinance.schema import US_PER_S, ist_midnight
from synfinance.world.frame import Frame

PRETEXTS = ("refund", "kyc_update", "marketplace_buyer", "electricity_bill", "job_offer", "prize")
COLLECTORS_PER_CITY = 12  # fraudster accounts that raise the requests, reused across victims
DAY_HOURS = (10, 20)  # IST: calls come in working hours


class CollectRequestPattern(VictimPattern):
    kind = "fraud"
    name = "collect_request"
    summary = ("After a call, the victim approves one to three UPI collect requests from a fraudster posing as a "
               "buyer, a bank or a utility, on their own phone.")
    signals = ("a person never paid before, usually in another city; amounts above the victim's usual transfers; "
               "requests minutes apart; own device, at home, in daytime")
    rows_per_case = 2.0
    need = 4
    per_victim = (1, 4)

    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection:
        n, m = len(cases.rows), len(cases.victims)
        cust = frame["cust"][cases.rows]
        anchor = ctx.anchors(m)
        day_start = ist_midnight(anchor)
        hours = ctx.rng.uniform(*DAY_HOURS, m)
        anchor = np.where(ctx.tell(m), day_start + (hours * 3600 * US_PER_S).astype(np.int64), anchor)
        frame["ts"][cases.rows] = ctx.sequence(anchor, cases.owner, ctx.rng.uniform(60, 900, n))
        # the collector: one of a few fraudster accounts in a city far from the victim's (or, camouflaged, near)
        home = ctx.customers.city[cases.victims]
        city = np.where(ctx.tell(m), ctx.far_city(home, min_km=300.0), home)
        slot = ctx.rng.integers(0, COLLECTORS_PER_CITY, m)
        pool_start, pool_size = ctx.merchants.pool_start[city, TRANSFERS], ctx.merchants.pool_size[city, TRANSFERS]
        collector = pool_start + (mix64(city, slot, 4099) % pool_size.astype(np.uint64)).astype(np.int64)
        ctx.set_merchant(frame, cases.rows, collector[cases.owner])
        # what they ask: a multiple of the victim's usual ticket, often a "refund-like" 4,999 or a round figure
        paise = ctx.amounts(cust, 1.5, 8.0)
        style = ctx.rng.random(n)
        rupees = paise / 100
        rupees = np.where(style < 0.3, np.maximum(np.round(rupees / 1000) * 1000 - 1, 99), rupees)
        rupees = np.where((style >= 0.3) & (style < 0.6), np.maximum(np.round(rupees / 500) * 500, 500), rupees)
        ctx.set_amount(frame, cases.rows, (rupees * 100).astype(np.int64))
        ctx.set_payment(frame, cases.rows, pay.UPI, online=True)
        ctx.place(frame, cases.rows)
        pretext = np.array(PRETEXTS, dtype=object)[ctx.rng.integers(0, len(PRETEXTS), m)][cases.owner].astype(str)
        ev = evidence(n, collector=ctx.merchants.table.column("merchant_id").take(collector[cases.owner]),
                      pretext=pretext, after_call_min=ctx.rng.uniform(2, 40, m)[cases.owner],
                      request=ctx.position(cases.owner) + 1, requests=cases.k[cases.owner], approved_by="customer")
        return Injection(cases.rows, ctx.severity(frame["paise"][cases.rows]), ctx.confidence(n), ev)
