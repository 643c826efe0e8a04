"""Transactions replayed later under new ids: the next transactions of known customers, for scoring demos,
benchmarks and tests that must not collide with what a feature store or a database holds already."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.schema import TIMESTAMP_TYPE, ist_calendar


def replayed(table: pa.Table, prefix: str, shift: dt.timedelta = dt.timedelta(0),
             keys: tuple[str, ...] = ("transaction_id",)) -> pa.Table:
    """The rows with `prefix` put before each of the `keys` columns, moved `shift` later; the IST date,
    hour and weekday (those of the columns present) follow the new timestamps. Other fields are kept."""
    for name in keys:
        renamed = pc.binary_join_element_wise(pa.scalar(prefix), table.column(name), "")
        table = table.set_column(table.column_names.index(name), name, renamed)
    if not shift:
        return table
    ts = table.column("timestamp").cast(pa.int64()).to_numpy() + shift // dt.timedelta(microseconds=1)
    day, hour, weekday = ist_calendar(ts)
    derived = {"timestamp": pa.array(ts, TIMESTAMP_TYPE), "local_date": pa.array(day.astype(np.int32), pa.date32()),
               "local_hour": pa.array(hour.astype(np.int8)), "day_of_week": pa.array(weekday.astype(np.int8))}
    for name, values in derived.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, values)
    return table
