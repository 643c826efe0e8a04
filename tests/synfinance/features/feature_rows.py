"""Build small, readable transaction tables for feature tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa

from synfinance.features.inputs import INPUT_SCHEMA

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
T0 = dt.datetime(2025, 10, 6, 10, 0, tzinfo=dt.UTC)  # a Monday, 15:30 IST


def txn(n: int, customer: str, minutes: float, amount: str, **fields: Any) -> dict[str, Any]:
    """One transaction n, minutes after T0, with sensible defaults for everything else."""
    ts = T0 + dt.timedelta(minutes=minutes)
    local = ts.astimezone(IST)
    row = {
        "transaction_id": f"T{n:04d}",
        "customer_id": customer,
        "merchant_id": "M1",
        "timestamp": ts,
        "local_date": local.date(),
        "local_hour": local.hour,
        "festival": None,
        "amount_inr": Decimal(amount),
        "category": "Groceries",
        "payment_mode": "UPI",
        "status": "approved",
        "channel": "Mobile App",
        "is_online": True,
        "merchant_reputation": 0.9,
        "city": "Mumbai",
        "latitude": 19.076,
        "longitude": 72.8777,
        "device_id": f"D-{customer}",
        "distance_from_home_km": 1.0,
    }
    row.update(fields)
    return row


def table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
