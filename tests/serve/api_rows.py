"""Request bodies made from a generated dataset: observable fields or whole records, under fresh ids."""

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


def renamed(table: pa.Table, tag: str, shift: dt.timedelta = dt.timedelta(0),
            keys: tuple[str, ...] = ("transaction_id",)) -> pa.Table:
    """The same rows with `tag` prefixed to the given id columns and timestamps moved by `shift`."""
    import pyarrow.compute as pc

    for name in keys:
        i = table.column_names.index(name)
        table = table.set_column(i, name, pc.binary_join_element_wise(pa.scalar(tag), table.column(name), ""))
    if shift:
        i = table.column_names.index("timestamp")
        moved = pc.add(table.column("timestamp"), pa.scalar(shift, pa.duration("us")))
        table = table.set_column(i, "timestamp", moved)
        j = table.column_names.index("local_date")
        days = pc.add(table.column("local_date").cast(pa.int32()), pa.scalar(shift.days, pa.int32()))
        table = table.set_column(j, "local_date", days.cast(pa.date32()))
    return table
