"""What feature extraction reads: observable transaction fields only, checked before any work."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import SchemaError
from synfinance.population.categories import CATEGORY_NAMES
from synfinance.population.payments import CHANNELS, MODES
from synfinance.schema import IST_OFFSET_S, LABEL_FIELDS, TRANSACTION_SCHEMA, paise_from_amounts

# The columns features may read. No label field is among them (asserted below), so no feature can leak one.
INPUT_COLUMNS = (
    "transaction_id", "customer_id", "merchant_id", "timestamp", "local_date", "local_hour",
    "festival", "amount_inr", "category", "payment_mode", "status", "channel", "is_online",
    "merchant_reputation", "city", "latitude", "longitude", "device_id", "distance_from_home_km",
)
assert not set(INPUT_COLUMNS) & set(LABEL_FIELDS)
INPUT_SCHEMA = pa.schema([TRANSACTION_SCHEMA.field(name) for name in INPUT_COLUMNS])
NATIONAL_HOLIDAYS = ((1, 26), (8, 15), (10, 2))  # Republic Day, Independence Day, Gandhi Jayanti


def check_input(table: pa.Table, where: str = "input") -> None:
    """Raise SchemaError naming every missing, mistyped or null-holding column, and unsorted time."""
    problems = []
    for field in INPUT_SCHEMA:
        if field.name not in table.column_names:
            problems.append(f"missing column {field.name!r} ({field.type})")
            continue
        actual = table.schema.field(field.name).type
        if actual != field.type:
            problems.append(f"column {field.name!r} has type {actual}, expected {field.type}")
        elif not field.nullable and table.column(field.name).null_count:
            problems.append(f"column {field.name!r} has {table.column(field.name).null_count} empty values")
    if not problems and table.num_rows > 1:
        ts = table.column("timestamp").cast(pa.int64()).to_numpy()
        back = np.flatnonzero(ts[1:] < ts[:-1])
        if len(back):
            row = int(back[0]) + 1
            tid = table.column("transaction_id")[row].as_py()
            problems.append(f"column 'timestamp' must be in time order: row {row} ({tid}) is earlier than row {row - 1}")
    if problems:
        raise SchemaError(f"{where}: " + "; ".join(problems))


def _codes(column: pa.ChunkedArray | pa.Array, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Index of each value in vocabulary; anything else (or null) gets len(vocabulary), the 'other' bin."""
    idx = pc.index_in(column, value_set=pa.array(vocabulary))
    return pc.fill_null(idx, len(vocabulary)).to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass
class Rows:
    """One batch of transactions as numpy columns (keys still as Arrow, interned by the state)."""

    ids: pa.Array
    customer: pa.Array
    merchant: pa.Array
    device: pa.Array
    city: pa.Array
    ts: np.ndarray
    amount: np.ndarray  # INR
    hour: np.ndarray
    weekend: np.ndarray
    holiday: np.ndarray
    category: np.ndarray
    mode: np.ndarray
    channel: np.ndarray
    online: np.ndarray
    declined: np.ndarray
    reversed: np.ndarray
    reputation: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    home_km: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


def to_rows(table: pa.Table) -> Rows:
    def col(name: str) -> pa.Array:
        return table.column(name).combine_chunks()

    ts = col("timestamp").cast(pa.int64()).to_numpy()
    day = (ts // 1_000_000 + IST_OFFSET_S) // 86_400
    date = col("local_date")
    month, mday = pc.month(date).to_numpy(), pc.day(date).to_numpy()
    holiday = np.zeros(len(ts), dtype=bool)
    for m, d in NATIONAL_HOLIDAYS:
        holiday |= (month == m) & (mday == d)
    status = col("status")
    return Rows(
        ids=col("transaction_id"), customer=col("customer_id"), merchant=col("merchant_id"), device=col("device_id"),
        city=col("city"), ts=ts,
        amount=paise_from_amounts(col("amount_inr")) / 100.0,
        hour=col("local_hour").to_numpy().astype(np.int64),
        weekend=(day + 3) % 7 >= 5,
        holiday=holiday | col("festival").is_valid().to_numpy(zero_copy_only=False),
        category=_codes(col("category"), CATEGORY_NAMES),
        mode=_codes(col("payment_mode"), MODES),
        channel=_codes(col("channel"), CHANNELS),
        online=col("is_online").to_numpy(zero_copy_only=False),
        declined=pc.equal(status, "declined").to_numpy(zero_copy_only=False),
        reversed=pc.equal(status, "reversed").to_numpy(zero_copy_only=False),
        reputation=col("merchant_reputation").to_numpy(),
        lat=col("latitude").to_numpy(), lon=col("longitude").to_numpy(),
        home_km=col("distance_from_home_km").to_numpy(),
    )
