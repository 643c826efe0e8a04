"""Exact short-window features from ring buffers (customer, merchant, device)."""

from __future__ import annotations

import numpy as np

from synfinance.features.inputs import Rows
from synfinance.features.rings import RingLayout
from synfinance.features.state import CUSTOMER_RING, DEVICE_RING, EMPTY_TS, MERCHANT_RING, Keyed
from synfinance.schema import US_PER_DAY, US_PER_HOUR

MICRO_INR = 100.0
_RING_COLUMNS = ("ts", "amount", "merchant", "device", "city_bit", "category_bit", "declined", "reversed")


_CITY_BIT = np.left_shift(np.uint32(1), np.arange(32, dtype=np.uint32))
_CATEGORY_BIT = np.left_shift(np.uint16(1), np.arange(16, dtype=np.uint16))
_POPCOUNT16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


def city_bit(codes: np.ndarray) -> np.ndarray:
    """One bit per city (codes folded into 32, exact for the 26 cities generated): sets become ORs."""
    return _CITY_BIT[codes & 31]


def category_bit(codes: np.ndarray) -> np.ndarray:
    return _CATEGORY_BIT[codes & 15]


def _popcount(bits: np.ndarray) -> np.ndarray:
    halves = bits.view(np.uint16).reshape(len(bits), -1)
    return _POPCOUNT16[halves].sum(axis=1).astype(float)


def _distinct(window_bits: np.ndarray, inside: np.ndarray, current_bits: np.ndarray) -> np.ndarray:
    """Distinct values among the window's entries and the current one."""
    zero = window_bits.dtype.type(0)
    return _popcount(np.bitwise_or.reduce(np.where(inside, window_bits, zero), axis=1) | current_bits)


def distinct(values: np.ndarray) -> np.ndarray:
    """Distinct non-negative values per row of a (rows, k) matrix (negative = empty)."""
    v = np.sort(values, axis=1)
    changes = (v[:, 1:] != v[:, :-1]) & (v[:, 1:] >= 0)
    return (changes.sum(axis=1) + (v[:, 0] >= 0)).astype(float)


class CustomerWindows:
    """Previous CUSTOMER_RING transactions of each row's customer (rows in customer order)."""

    def __init__(self, rows: Rows, slot: np.ndarray, merchant: np.ndarray, device: np.ndarray, city: np.ndarray,
                 state: Keyed) -> None:
        self.seq = RingLayout(slot, CUSTOMER_RING)
        values = {"ts": rows.ts, "amount": rows.amount, "merchant": merchant, "device": device,
                  "city_bit": city_bit(city), "category_bit": category_bit(rows.category), "declined": rows.declined,
                  "reversed": rows.reversed}
        self.laid = {name: self.seq.lay_out(state[f"ring_{name}"], values[name]) for name in _RING_COLUMNS}
        self.prev = {name: self.seq.previous(laid) for name, laid in self.laid.items()}
        self.age = rows.ts[:, None] - self.prev["ts"]
        self.valid = self.prev["merchant"] >= 0

    def window_count(self, ts: np.ndarray, us: int) -> np.ndarray:
        """How many of each row's previous entries are younger than us.

        Within a key's block the laid-out times never decrease, so the entries of a window are the
        last few before the row: find where they start with one searchsorted on (block, time).
        Tiny batches (online scoring) count directly: the same integers, fewer steps.
        """
        if len(ts) <= 64:
            return np.count_nonzero(self.age < us, axis=1)
        laid_ts, pos = self.laid["ts"], self.seq.pos
        block = np.repeat(np.arange(len(self.seq.count)), self.seq.count + self.seq.k)
        lo = min(int(ts.min()) - 31 * US_PER_DAY, int(laid_ts[laid_ts > EMPTY_TS].min(initial=ts.min())))
        rel = np.maximum(laid_ts, lo) - lo
        span = int(rel.max()) + us + 1
        key = block * span + rel
        row_block = block[pos]
        first = np.searchsorted(key, row_block * span + (ts - lo - us), side="right")
        first = np.maximum(first, pos - self.seq.k)  # only the ring's worth of earlier entries
        return pos - first

    def within(self, us: int) -> np.ndarray:
        """Entries younger than us (empty entries carry EMPTY_TS, older than any window)."""
        return self.age < us

    def features(self, rows: Rows, merchant: np.ndarray, device: np.ndarray, city: np.ndarray,
                 out: dict[str, np.ndarray]) -> None:
        p = self.prev
        hour = self.within(US_PER_HOUR)
        # a window is the last few entries: sum it from a right-to-left running sum of just K terms
        from_right = np.cumsum(p["amount"][:, ::-1], axis=1)
        rows_idx = np.arange(len(merchant))
        for label, us in (("1h", US_PER_HOUR), ("6h", 6 * US_PER_HOUR), ("24h", US_PER_DAY)):
            count = self.window_count(rows.ts, us)
            out[f"txn_count_{label}"] = count.astype(float)
            out[f"amount_sum_{label}"] = np.where(count > 0, from_right[rows_idx, np.maximum(count - 1, 0)], 0.0)
        week, month = self.within(7 * US_PER_DAY), self.within(30 * US_PER_DAY)
        out["distinct_cities_7d"] = _distinct(p["city_bit"], week, city_bit(city))
        out["category_diversity_30d"] = _distinct(p["category_bit"], month, category_bit(rows.category))
        same_merchant = p["merchant"] == merchant[:, None]
        repeat = np.count_nonzero(same_merchant, axis=1)
        out["is_new_merchant"] = (repeat == 0).astype(float)
        out["is_new_device"] = ((device >= 0) & ~(p["device"] == device[:, None]).any(axis=1)).astype(float)
        known = np.count_nonzero(self.valid, axis=1)
        out["merchant_loyalty_share"] = repeat / np.maximum(known, 1)
        in_week, in_month = np.count_nonzero(week, axis=1), np.count_nonzero(month, axis=1)
        out["declined_share_7d"] = np.count_nonzero(p["declined"] & week, axis=1) / np.maximum(in_week, 1)
        out["refund_share_30d"] = np.count_nonzero(p["reversed"] & month, axis=1) / np.maximum(in_month, 1)
        seen_cities = np.bitwise_or.reduce(p["city_bit"], axis=1)  # empty entries hold no bit
        out["city_unseen"] = ((known > 0) & ((seen_cities & city_bit(city)) == 0)).astype(float)
        out["micro_count_1h"] = np.count_nonzero(hour & (p["amount"] <= MICRO_INR), axis=1).astype(float)

    def deviations(self, flags: np.ndarray, state: Keyed, out: dict[str, np.ndarray]) -> None:
        """Recent deviating transactions, then store every ring (flags are known only now)."""
        laid_flags = self.seq.lay_out(state["ring_flag"], flags)
        prev_flags = self.seq.previous(laid_flags)
        out["recent_devs_24h"] = np.count_nonzero(prev_flags & self.within(US_PER_DAY), axis=1).astype(float)
        out["recent_devs_7d"] = np.count_nonzero(prev_flags & self.within(7 * US_PER_DAY), axis=1).astype(float)
        self.seq.store(state["ring_flag"], laid_flags)
        for name, laid in self.laid.items():
            self.seq.store(state[f"ring_{name}"], laid)


def merchant_features(rows: Rows, merchant: np.ndarray, customer: np.ndarray, state: Keyed,
                      out: dict[str, np.ndarray]) -> None:
    """Distinct customers and amount at each row's merchant in the last hour (rows in time order)."""
    order = np.argsort(merchant, kind="stable")
    seq = RingLayout(merchant[order], MERCHANT_RING)
    laid = {"ts": seq.lay_out(state["ring_ts"], rows.ts[order]),
            "customer": seq.lay_out(state["ring_customer"], customer[order]),
            "amount": seq.lay_out(state["ring_amount"], rows.amount[order])}
    prev = {k: seq.previous(v) for k, v in laid.items()}
    inside = (prev["customer"] >= 0) & (rows.ts[order][:, None] - prev["ts"] < US_PER_HOUR)
    busy = np.flatnonzero(inside.any(axis=1))  # only these need a sort; the rest see just this customer
    customers = np.ones(len(order))
    who = np.where(inside[busy], prev["customer"][busy], -1)
    customers[busy] = distinct(np.concatenate([who, customer[order][busy, None]], axis=1))
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
        seq = RingLayout(device[order], DEVICE_RING)
        laid = seq.lay_out(state["ring_customer"], customer[order])
        prev = seq.previous(laid)
        others = np.where(prev != customer[order][:, None], prev, -1)
        shared[order] = distinct(others)
        seq.store(state["ring_customer"], laid)
    out["device_customers_shared"] = shared
