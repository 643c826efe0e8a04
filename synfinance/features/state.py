"""Bounded per-key state for feature extraction: customers, merchants, devices.

Each key (a customer, merchant or device id) gets a slot; every array has one row per slot.
Memory grows with the number of keys, never with the number of transactions: customers keep
decayed aggregates and a ring of their last CUSTOMER_RING transactions, merchants and devices
a short ring each. The whole state can be written to Parquet and read back to warm a scorer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from synfinance.errors import SchemaError
from synfinance.output.files import atomic_path

CUSTOMER_RING = 32
MERCHANT_RING = 32
DEVICE_RING = 8
EMPTY_TS = np.iinfo(np.int64).min // 2  # "no transaction": older than any window reaches


@dataclass
class Keyed:
    """Slots for string keys plus named arrays, one row per slot, grown by doubling."""

    columns: dict[str, tuple[tuple[int, ...], np.dtype, float | int]]  # name -> (shape per slot, dtype, fill)
    ids: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.arrays:
            self.arrays = {
                name: np.full((16, *shape), fill, dtype) for name, (shape, dtype, fill) in self.columns.items()
            }

    def __len__(self) -> int:
        return len(self.ids)

    def slots(self, keys: pa.Array) -> np.ndarray:
        """Slot of every key (new keys get fresh, empty slots); null keys give -1."""
        keys = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
        encoded = pc.dictionary_encode(keys)  # the distinct keys in order of first appearance, nulls left null
        names = encoded.dictionary.to_pylist()
        # one more place, -1, where null keys point
        slot_of_unique = np.fromiter(chain(map(self.index.get, names, repeat(-1)), (-1,)), np.int64, len(names) + 1)
        for i in np.flatnonzero(slot_of_unique[:-1] < 0).tolist():  # new keys, in that order
            slot_of_unique[i] = self._slot(names[i])
        position = pc.fill_null(encoded.indices, len(names)).to_numpy(zero_copy_only=False)
        return slot_of_unique[position]

    def slot(self, key: str | None) -> int:
        """Slot of one key (-1 for none)."""
        return -1 if key is None else self._slot(key)

    def _slot(self, key: str) -> int:
        slot = self.index.get(key)
        if slot is None:
            slot = self.index[key] = len(self.ids)
            self.ids.append(key)
            if slot >= len(next(iter(self.arrays.values()))):
                self._grow()
        return slot

    def _grow(self) -> None:
        for name, (shape, dtype, fill) in self.columns.items():
            old = self.arrays[name]
            new = np.full((2 * len(old), *shape), fill, dtype)
            new[: len(old)] = old
            self.arrays[name] = new

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    # -- snapshot ---------------------------------------------------------------------------
    def to_table(self) -> pa.Table:
        n = len(self.ids)
        cols: dict[str, pa.Array] = {"key": pa.array(self.ids, pa.string())}
        for name, arr in self.arrays.items():
            flat = arr[:n].reshape(n, -1)
            if flat.shape[1] == 1:
                cols[name] = pa.array(flat[:, 0])
            else:
                cols[name] = pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel()), flat.shape[1])
        return pa.table(cols)

    def load_table(self, table: pa.Table) -> None:
        expected = {"key", *self.columns}
        if set(table.column_names) != expected:
            raise SchemaError(f"feature state has columns {sorted(table.column_names)}, expected {sorted(expected)}")
        self.ids = table.column("key").to_pylist()
        self.index = {k: i for i, k in enumerate(self.ids)}
        capacity = max(16, 1 << max(len(self.ids) - 1, 1).bit_length())
        for name, (shape, dtype, fill) in self.columns.items():
            values = table.column(name).combine_chunks()
            if pa.types.is_fixed_size_list(values.type):
                values = values.flatten()
            arr = np.full((capacity, *shape), fill, dtype)
            arr[: len(self.ids)] = np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype).reshape(-1, *shape)
            self.arrays[name] = arr


def _ring(size: int, dtype: type, fill: float | int) -> tuple[tuple[int, ...], np.dtype, float | int]:
    return (size,), np.dtype(dtype), fill


def _scalar(dtype: type, fill: float | int) -> tuple[tuple[int, ...], np.dtype, float | int]:
    return (), np.dtype(dtype), fill


# Decayed sums kept per customer, as of the customer's last transaction, and their time constants.
DECAYED = (
    "count_7d", "amount_7d",
    "count", "amount", "amount_sq", "log_amount", "log_amount_sq", "hour_sin", "hour_cos", "online",
    "lat", "lon", "location_dev", "gaps", "log_gap", "log_gap_sq",
)
TAU_S = np.array([7 * 86_400.0] * 2 + [30 * 86_400.0] * (len(DECAYED) - 2))
HOURS, CATEGORY_BINS, MODE_BINS, CHANNEL_BINS = 24, 14, 8, 6  # each with one "other" bin beyond the known values
# One decayed (30-day) histogram per customer: hours, then categories, modes, channels.
HIST_OFFSET = {
    "hour": 0, "category": HOURS, "mode": HOURS + CATEGORY_BINS, "channel": HOURS + CATEGORY_BINS + MODE_BINS
}
HIST_BINS = HOURS + CATEGORY_BINS + MODE_BINS + CHANNEL_BINS


def customer_columns() -> dict[str, tuple[tuple[int, ...], np.dtype, float | int]]:
    return {
        "n": _scalar(np.int64, 0),
        "t_last": _scalar(np.int64, EMPTY_TS),
        "lat_last": _scalar(np.float64, np.nan),
        "lon_last": _scalar(np.float64, np.nan),
        "streak": _scalar(np.int64, 0),
        "decayed": ((len(DECAYED),), np.dtype(np.float64), 0.0),
        "hist": ((HIST_BINS,), np.dtype(np.float64), 0.0),  # decayed counts, each as of hist_t
        "hist_t": ((HIST_BINS,), np.dtype(np.int64), EMPTY_TS),  # when each cell was last touched
        "ring_ts": _ring(CUSTOMER_RING, np.int64, EMPTY_TS),
        "ring_amount": _ring(CUSTOMER_RING, np.float64, 0.0),
        "ring_merchant": _ring(CUSTOMER_RING, np.int32, -1),
        "ring_device": _ring(CUSTOMER_RING, np.int32, -1),
        "ring_city_bit": _ring(CUSTOMER_RING, np.uint32, 0),  # 1 << (city code mod 32)
        "ring_category_bit": _ring(CUSTOMER_RING, np.uint16, 0),  # 1 << category code (14 bins)
        "ring_declined": _ring(CUSTOMER_RING, np.bool_, False),
        "ring_reversed": _ring(CUSTOMER_RING, np.bool_, False),
        "ring_flag": _ring(CUSTOMER_RING, np.bool_, False),
    }


@dataclass
class FeatureState:
    """Everything the extractor remembers between batches."""

    customers: Keyed = field(default_factory=lambda: Keyed(customer_columns()))
    merchants: Keyed = field(default_factory=lambda: Keyed({
        "ring_ts": _ring(MERCHANT_RING, np.int64, EMPTY_TS),
        "ring_customer": _ring(MERCHANT_RING, np.int32, -1),
        "ring_amount": _ring(MERCHANT_RING, np.float64, 0.0),
    }))
    devices: Keyed = field(default_factory=lambda: Keyed({"ring_customer": _ring(DEVICE_RING, np.int32, -1)}))
    cities: Keyed = field(default_factory=lambda: Keyed({"seen": _scalar(np.int64, 0)}))

    def nbytes(self) -> int:
        return sum(a.nbytes for k in (self.customers, self.merchants, self.devices) for a in k.arrays.values())

    def snapshot(self, directory: Path) -> None:
        """Write the state as Parquet files (one per key kind), each atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("customers", "merchants", "devices", "cities"):
            with atomic_path(directory / f"{name}.parquet") as tmp:
                pq.write_table(getattr(self, name).to_table(), tmp, compression="zstd")

    @classmethod
    def restore(cls, directory: Path) -> FeatureState:
        state = cls()
        for name in ("customers", "merchants", "devices", "cities"):
            path = Path(directory) / f"{name}.parquet"
            if not path.is_file():
                raise SchemaError(f"{path}: missing; not a feature-state snapshot")
            getattr(state, name).load_table(pq.read_table(path))
        return state
