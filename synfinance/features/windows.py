"""Exact short-window features from ring buffers (customer, merchant, device)."""

from __future__ import annotations

import numpy as np

from synfinance.features.inputs import Rows
from synfinance.features.rings import Sequence
from synfinance.features.state import CUSTOMER_RING, DEVICE_RING, MERCHANT_RING, Keyed

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MICRO_INR = 100.0
_RING_COLUMNS = ("ts", "amount", "merchant", "device", "city", "category", "declined", "reversed")


def _popcount(bits: np.ndarray) -> np.ndarray:
    return np.unpackbits(bits.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1).astype(float)


def _bits(codes: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid, np.left_shift(np.uint64(1), (codes % 64).astype(np.uint64)), np.uint64(0))


def distinct(values: np.ndarray) -> np.ndarray:
    """Distinct non-negative values per row of a (rows, k) matrix (negative = empty)."""
    v = np.sort(values, axis=1)
    changes = (v[:, 1:] != v[:, :-1]) & (v[:, 1:] >= 0)
    return (changes.sum(axis=1) + (v[:, 0] >= 0)).astype(float)


class CustomerWindows:
    """Previous CUSTOMER_RING transactions of each row's customer (rows in customer order)."""

    def __init__(self, rows: Rows, slot: np.ndarray, merchant: np.ndarray, device: np.ndarray, city: np.ndarray,
                 state: Keyed) -> None:
        self.seq = Sequence(slot, CUSTOMER_RING)
        values = {"ts": rows.ts, "amount": rows.amount, "merchant": merchant, "device": device, "city": city,
                  "category": rows.category, "declined": rows.declined, "reversed": rows.reversed}
        self.laid = {name: self.seq.lay_out(state[f"ring_{name}"], values[name]) for name in _RING_COLUMNS}
        self.prev = {name: self.seq.previous(laid) for name, laid in self.laid.items()}
        self.age = rows.ts[:, None] - self.prev["ts"]
        self.valid = self.prev["merchant"] >= 0

    def within(self, us: int) -> np.ndarray:
        return self.valid & (self.age < us)

    def features(self, rows: Rows, merchant: np.ndarray, device: np.ndarray, city: np.ndarray,
                 out: dict[str, np.ndarray]) -> None:
        p = self.prev
        for label, us in (("1h", HOUR_US), ("6h", 6 * HOUR_US), ("24h", DAY_US)):
            inside = self.within(us)
            out[f"txn_count_{label}"] = inside.sum(axis=1).astype(float)
            out[f"amount_sum_{label}"] = np.where(inside, p["amount"], 0.0).sum(axis=1)
        week, month = self.within(7 * DAY_US), self.within(30 * DAY_US)
        city_bits = np.bitwise_or.reduce(_bits(p["city"], week), axis=1) | _bits(city, np.ones(len(city), bool))
        out["distinct_cities_7d"] = _popcount(city_bits)
        cat_bits = np.bitwise_or.reduce(_bits(p["category"], month), axis=1) | _bits(rows.category,
                                                                                       np.ones(len(city), bool))
        out["category_diversity_30d"] = _popcount(cat_bits)
        same_merchant = p["merchant"] == merchant[:, None]
        out["is_new_merchant"] = (~same_merchant.any(axis=1)).astype(float)
        out["is_new_device"] = ((device >= 0) & ~(p["device"] == device[:, None]).any(axis=1)).astype(float)
        known = self.valid.sum(axis=1)
        out["merchant_loyalty_share"] = same_merchant.sum(axis=1) / np.maximum(known, 1)
        out["declined_share_7d"] = (p["declined"] & week).sum(axis=1) / np.maximum(week.sum(axis=1), 1)
        out["refund_share_30d"] = (p["reversed"] & month).sum(axis=1) / np.maximum(month.sum(axis=1), 1)
        out["city_unseen"] = ((known > 0) & ~(p["city"] == city[:, None]).any(axis=1)).astype(float)
        out["micro_count_1h"] = (self.within(HOUR_US) & (p["amount"] <= MICRO_INR)).sum(axis=1).astype(float)

    def deviations(self, flags: np.ndarray, state: Keyed, out: dict[str, np.ndarray]) -> None:
        """Recent deviating transactions, then store every ring (flags are known only now)."""
        laid_flags = self.seq.lay_out(state["ring_flag"], flags)
        prev_flags = self.seq.previous(laid_flags)
        out["recent_devs_24h"] = (prev_flags & self.within(DAY_US)).sum(axis=1).astype(float)
        out["recent_devs_7d"] = (prev_flags & self.within(7 * DAY_US)).sum(axis=1).astype(float)
        self.seq.store(state["ring_flag"], laid_flags)
        for name, laid in self.laid.items():
            self.seq.store(state[f"ring_{name}"], laid)


def merchant_features(rows: Rows, merchant: np.ndarray, customer: np.ndarray, state: Keyed,
                      out: dict[str, np.ndarray]) -> None:
    """Distinct customers and amount at each row's merchant in the last hour (rows in time order)."""
    order = np.argsort(merchant, kind="stable")
    seq = Sequence(merchant[order], MERCHANT_RING)
    laid = {"ts": seq.lay_out(state["ring_ts"], rows.ts[order]),
            "customer": seq.lay_out(state["ring_customer"], customer[order]),
            "amount": seq.lay_out(state["ring_amount"], rows.amount[order])}
    prev = {k: seq.previous(v) for k, v in laid.items()}
    inside = (prev["customer"] >= 0) & (rows.ts[order][:, None] - prev["ts"] < HOUR_US)
    who = np.where(inside, prev["customer"], -1)
    customers = distinct(np.concatenate([who, customer[order][:, None]], axis=1))
    amount = np.where(inside, prev["amount"], 0.0).sum(axis=1)
    out["merchant_customers_1h"] = np.empty(len(order))
    out["merchant_amount_1h"] = np.empty(len(order))
    out["merchant_customers_1h"][order], out["merchant_amount_1h"][order] = customers, amount
    for name, values in laid.items():
        seq.store(state[f"ring_{name}"], values)


def device_features(device: np.ndarray, customer: np.ndarray, state: Keyed, out: dict[str, np.ndarray]) -> None:
    """Other customers seen on each row's device among its last DEVICE_RING uses."""
    shared = np.zeros(len(device))
    used = np.flatnonzero(device >= 0)
    order = used[np.argsort(device[used], kind="stable")]
    if len(order):
        seq = Sequence(device[order], DEVICE_RING)
        laid = seq.lay_out(state["ring_customer"], customer[order])
        prev = seq.previous(laid)
        others = np.where(prev != customer[order][:, None], prev, -1)
        shared[order] = distinct(others)
        seq.store(state["ring_customer"], laid)
    out["device_customers_shared"] = shared
