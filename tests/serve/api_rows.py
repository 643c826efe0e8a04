"""Request bodies made from a generated dataset: observable fields or whole records (renamed and moved with
synfinance.generation.replay.replayed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.output.dataset import read_dataset

YEAR = dt.timedelta(days=365)


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def transactions(data: Path) -> pa.Table:
    return read_dataset(data, verify=False)["transactions"].sort_by([("timestamp", "ascending")])


def rows(table: pa.Table, columns: tuple[str, ...] = INPUT_COLUMNS) -> list[dict[str, Any]]:
    return [{k: jsonable(v) for k, v in r.items()} for r in table.select(list(columns)).to_pylist()]
