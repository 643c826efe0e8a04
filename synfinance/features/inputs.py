"""What feature extraction reads: observable transaction fields only, checked before any work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import SchemaError
from synfinance.population.categories import CATEGORY_NAMES
from synfinance.population.payments import CHANNELS, MODES
from synfinance.schema import EPOCH, LABEL_FIELDS, TRANSACTION_SCHEMA, ist_calendar, paise_from_amounts

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
            row = int(back[0]) + 1  # first row out of order
            tid = table.column("transaction_id")[row].as_py()
            problems.append(f"column 'timestamp' must be in time order: row {row} ({tid}) comes before row {row - 1}")
    if problems:
        raise SchemaError(f"{where}: " + "; ".join(problems))


def _codes(column: pa.ChunkedArray | pa.Array, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Index of each value in vocabulary; anything else (or null) gets len(vocabulary), the 'other' bin."""
    idx = pc.index_in(column, value_set=pa.array(vocabulary))
    return pc.fill_null(idx, len(vocabulary)).to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass
class Rows:
    """One batch of transactions as numpy columns, in the order given."""

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

    def take(self, order: np.ndarray) -> Rows:
        return Rows(**{name: value[order] for name, value in vars(self).items()})

    @staticmethod
    def of(checked: Sequence[Checked]) -> Rows:
        """Checked transactions (row_from_mapping) as columns, one array per field built once for all of them."""
        column = dict(zip(Checked._fields, zip(*checked, strict=True), strict=True))
        ts = np.array(column["ts"], dtype=np.int64)
        return Rows(ts=ts, amount=np.array(column["amount"], dtype=np.float64),
                    hour=np.array(column["hour"], dtype=np.int64), weekend=_weekend(ts),
                    **{name: np.array(column[name], dtype=bool) for name in ("holiday", "online", "declined",
                                                                            "reversed")},
                    **{name: np.array(column[name], dtype=np.int64) for name in ("category", "mode", "channel")},
                    **{name: np.array(column[name], dtype=np.float64) for name in ("reputation", "lat", "lon",
                                                                                  "home_km")})


class Checked(NamedTuple):
    """One transaction's values, checked, before they become columns (Rows.of)."""

    ts: int
    amount: float
    hour: int
    holiday: bool
    category: int
    mode: int
    channel: int
    online: bool
    declined: bool
    reversed: bool
    reputation: float
    lat: float
    lon: float
    home_km: float


KEY_COLUMNS = ("customer_id", "merchant_id", "device_id", "city")


def _weekend(ts: np.ndarray) -> np.ndarray:
    return ist_calendar(ts)[2] >= 5


def to_rows(table: pa.Table) -> Rows:
    def col(name: str) -> pa.Array:
        return table.column(name).combine_chunks()

    ts = col("timestamp").cast(pa.int64()).to_numpy()
    date = col("local_date")
    month, mday = pc.month(date).to_numpy(), pc.day(date).to_numpy()
    holiday = np.zeros(len(ts), dtype=bool)
    for m, d in NATIONAL_HOLIDAYS:
        holiday |= (month == m) & (mday == d)
    status = col("status")
    return Rows(
        ts=ts,
        amount=paise_from_amounts(col("amount_inr")) / 100.0,
        hour=col("local_hour").to_numpy().astype(np.int64),
        weekend=_weekend(ts),
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


_CATEGORY_CODE = {name: i for i, name in enumerate(CATEGORY_NAMES)}
_MODE_CODE = {name: i for i, name in enumerate(MODES)}
_CHANNEL_CODE = {name: i for i, name in enumerate(CHANNELS)}


def _one(value: Any, kind: type, name: str, problems: list[str], nullable: bool = False) -> Any:
    if value is None:
        if not nullable:
            problems.append(f"{name}: expected a value, got nothing")
        return None
    try:
        if kind is dt.datetime:
            stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            if stamp.tzinfo is None:
                raise ValueError("no time zone")
            return (stamp - EPOCH) // dt.timedelta(microseconds=1)
        if kind is dt.date:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError("not true or false")
            return value
        if kind is str:
            if not isinstance(value, str):
                raise ValueError("not text")
            return value
        return kind(value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        problems.append(f"{name}: expected {kind.__name__}, got {value!r} ({exc})")
        return None


def row_from_mapping(txn: Mapping[str, Any]) -> tuple[Checked, dict[str, str | None]]:
    """One transaction (a dict of the input columns) checked, plus its keys; SchemaError if malformed."""
    problems: list[str] = [f"{n}: missing" for n in INPUT_COLUMNS if n not in txn]
    if problems:
        raise SchemaError("transaction: " + "; ".join(problems))
    p: list[str] = []
    ts = _one(txn["timestamp"], dt.datetime, "timestamp", p)
    date = _one(txn["local_date"], dt.date, "local_date", p)
    amount = _one(txn["amount_inr"], Decimal, "amount_inr", p)
    hour = _one(txn["local_hour"], int, "local_hour", p)
    keys = {n: _one(txn[n], str, n, p, nullable=n == "device_id") for n in KEY_COLUMNS}
    text = {n: _one(txn[n], str, n, p, nullable=n == "festival")
            for n in ("transaction_id", "festival", "category", "payment_mode", "status", "channel")}
    online = _one(txn["is_online"], bool, "is_online", p)
    numbers = {n: _one(txn[n], float, n, p)
               for n in ("merchant_reputation", "latitude", "longitude", "distance_from_home_km")}
    if p:
        raise SchemaError("transaction: " + "; ".join(p))
    holiday = (date.month, date.day) in NATIONAL_HOLIDAYS or text["festival"] is not None
    checked = Checked(
        ts=ts, amount=float(round(amount, 2)), hour=hour, holiday=holiday,
        category=_CATEGORY_CODE.get(text["category"], len(CATEGORY_NAMES)),
        mode=_MODE_CODE.get(text["payment_mode"], len(MODES)),
        channel=_CHANNEL_CODE.get(text["channel"], len(CHANNELS)),
        online=online, declined=text["status"] == "declined", reversed=text["status"] == "reversed",
        reputation=numbers["merchant_reputation"], lat=numbers["latitude"], lon=numbers["longitude"],
        home_km=numbers["distance_from_home_km"])
    return checked, keys
