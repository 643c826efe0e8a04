"""replayed(): new ids, later timestamps, and IST date/hour/weekday that agree with them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from synfinance.generation.replay import replayed
from synfinance.schema import IST_OFFSET_S

IST = dt.timezone(dt.timedelta(seconds=IST_OFFSET_S))


def test_replayed_moves_time_renames_keys_and_keeps_local_fields_consistent(txns: pa.Table) -> None:
    table = txns.slice(0, 500)
    later = replayed(table, "R-", dt.timedelta(hours=7, minutes=40), keys=("transaction_id", "customer_id"))
    assert later.column("transaction_id").to_pylist() == ["R-" + t for t in table.column("transaction_id").to_pylist()]
    assert later.column("customer_id").to_pylist() == ["R-" + c for c in table.column("customer_id").to_pylist()]
    assert later.column("merchant_id").equals(table.column("merchant_id"))  # keys not named stay
    for before, row in zip(table.to_pylist(), later.to_pylist(), strict=True):
        assert row["timestamp"] == before["timestamp"] + dt.timedelta(hours=7, minutes=40)
        local = row["timestamp"].astimezone(IST)
        assert (row["local_date"], row["local_hour"], row["day_of_week"]) == (local.date(), local.hour,
                                                                            local.weekday())


def test_replayed_without_a_shift_only_renames(txns: pa.Table) -> None:
    table = txns.slice(0, 50)
    same = replayed(table, "X")
    assert same.drop_columns(["transaction_id"]).equals(table.drop_columns(["transaction_id"]))
