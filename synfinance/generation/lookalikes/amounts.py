"""Amounts that fraud also uses: micro-payments (tea, snacks, a kirana top-up: imitates card testing's and the
micro-amount anomaly's tiny charges), round amounts (rent, fees, gifts: imitates the round-amount anomaly and
amount manipulation), a first big purchase at a new shop in a festival (imitates first-party fraud), and the rare
purchase of a month's income or more (wedding jewellery, a laptop, a hospital bill: imitates a synthetic
identity's bust-out)."""

from __future__ import annotations

import numpy as np

from synfinance.generation.lookalikes.base import LookAlike, Shard
from synfinance.population import payments as pay
from synfinance.population.categories import category_index
from synfinance.schema import EPOCH_DATE, ist_calendar
from synfinance.world.calendar import CITY_ZONE
from synfinance.world.frame import Frame

MICRO_INR = np.array([5, 10, 10, 15, 20, 20, 25, 30, 40, 50])  # a cutting chai to a parking ticket
MICRO_CATEGORIES = np.array([category_index("Food & Dining"), category_index("Groceries")])
ROUND_CATEGORIES = np.array([category_index(n) for n in ("Utilities", "Education", "Sweets & Gifts", "Transfers")])
BIG_CATEGORIES = np.array([category_index("Electronics"), category_index("Jewellery")])
LARGE_CATEGORIES = np.array([category_index(n) for n in ("Electronics", "Jewellery", "Travel", "Healthcare",
                                                         "Education")])
LARGE_INCOME_MONTHS = (0.5, 2.0)  # the purchase, in months of the customer's income
UPI_LIMIT_INR = 100_000  # per payment to a merchant


class MicroPayment(LookAlike):
    name = "micro_payments"
    imitates = "card_testing, micro_amount (charges of a few rupees)"
    summary = "A UPI payment in person at a tea stall or kirana of ₹5-₹50."
    order = 20

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        where = ~frame["online"] & (frame["mode"] == pay.UPI) & np.isin(frame["category"], MICRO_CATEGORIES)
        rows = shard.chosen(where, rate)
        frame["paise"][rows] = MICRO_INR[shard.rng.integers(0, len(MICRO_INR), len(rows))] * 100
        frame["status"][rows] = pay.APPROVED


class RoundAmount(LookAlike):
    name = "round_amounts"
    imitates = "round_amount, amount_manipulation (amounts in round hundreds)"
    summary = "Bills, school fees, gifts and transfers paid in round hundreds (thousands above ₹5,000)."
    order = 21

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        rows = shard.chosen(np.isin(frame["category"], ROUND_CATEGORIES), rate)
        paise = frame["paise"][rows]
        unit = np.where(paise >= 500_000, 100_000, 10_000)  # ₹1,000 above ₹5,000, else ₹100
        frame["paise"][rows] = np.maximum(np.round(paise / unit), 1).astype(np.int64) * unit


class FestivalBigTicket(LookAlike):
    name = "first_time_high_value"
    imitates = "first_party_fraud, amount_spike (a first, large purchase at a new merchant)"
    summary = "In a festival season, a phone, TV or gold bought for 2-4x the usual ticket at a shop never used."
    order = 22

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        plan = shard.plan
        local_day = ist_calendar(frame["ts"])[0] - (plan.params.start - EPOCH_DATE).days
        zone = CITY_ZONE[plan.customers.city[frame["cust"]]]
        festive = plan.calendar.festival[zone, np.clip(local_day, 0, plan.calendar.days - 1)] > 0
        rows = shard.chosen(festive & np.isin(frame["category"], BIG_CATEGORIES), rate)
        frame["paise"][rows] = (frame["paise"][rows] * shard.rng.uniform(2.0, 4.0, len(rows))).astype(np.int64)
        m = plan.merchants
        city, category = frame["merchant_city"][rows], frame["category"][rows]
        size = m.pool_size[city, category]
        frame["merchant"][rows] = m.pool_start[city, category] + (shard.rng.random(len(rows)) * size).astype(np.int64)


class LargePurchase(LookAlike):
    name = "large_purchases"
    imitates = "synthetic_identity, first_party_fraud, amount_spike (a purchase of a month's income or more)"
    summary = "A rare large purchase (wedding jewellery, a laptop, a trip, a hospital bill) of 0.5-2 months' income."
    order = 95  # last: the draws of every other look-alike stay as they were

    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None:
        where = np.isin(frame["category"], LARGE_CATEGORIES) & (frame["mode"] != pay.CASH)
        rows = shard.chosen(where, rate)
        income = shard.plan.customers.monthly_income[frame["cust"][rows]]
        inr = np.round(income * shard.rng.uniform(*LARGE_INCOME_MONTHS, len(rows)), -3)
        inr = np.where(frame["mode"][rows] == pay.UPI, np.minimum(inr, UPI_LIMIT_INR), inr)
        frame["paise"][rows] = (np.maximum(inr, 1000) * 100).astype(np.int64)
