"""A stored raw event's behavioural columns (synfinance.store.behaviour) are the generator's: the dataset's own
values for rows stored after the rows before them."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from synfinance.errors import ValidationError
from synfinance.schema import STORED_TRANSACTION_SCHEMA
from synfinance.store.behaviour import BEHAVIOUR, MAX_PAISE, with_behaviour
from synfinance.store.connect import Database
from synfinance.store.load import load_part

pytestmark = pytest.mark.postgres


def some_customers(txns: pa.Table, count: int) -> pa.Table:
    table = txns.sort_by([("timestamp", "ascending"), ("transaction_id", "ascending")])
    chosen = pc.unique(table.column("customer_id"))[:count]
    return table.filter(pc.is_in(table.column("customer_id"), value_set=chosen)).cast(STORED_TRANSACTION_SCHEMA)


def without(table: pa.Table, names: tuple[str, ...]) -> pa.Table:
    for name in names:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(i), pa.nulls(table.num_rows, table.schema.field(i).type))
    return table


async def test_rows_stored_after_their_history_get_the_generated_behaviour(db: Database, txns: pa.Table) -> None:
    mine = some_customers(txns, 300)
    # the second part in random order, 3,000 rows: all ~17,000 in one statement can pass the test database's 5 s
    # statement timeout on a loaded machine
    history, first, second = mine.slice(0, mine.num_rows // 2), mine.slice(mine.num_rows // 2, 400), \
        mine.slice(mine.num_rows // 2 + 400, 3_000)
    assert second.num_rows == 3_000
    conn = await db.connect()
    try:
        await load_part(conn, history)
        for part in (first, second.take(pa.array(np.random.default_rng(7).permutation(second.num_rows)))):
            done = await with_behaviour(conn, without(part, BEHAVIOUR), np.ones(part.num_rows, bool))
            for name in BEHAVIOUR:
                assert done.column(name).equals(part.column(name)), name
            await load_part(conn, done)
    finally:
        await conn.close()
    assert pc.any(pc.is_valid(second.column("time_since_last_txn_s"))).as_py()
    assert not pc.all(second.column("is_first_txn_with_merchant")).as_py()


async def test_supplied_values_are_kept_and_a_null_gap_is_a_value_unless_marked(db: Database, txns: pa.Table) -> None:
    mine = some_customers(txns, 50)
    conn = await db.connect()
    try:
        await load_part(conn, mine.slice(0, mine.num_rows - 10))
        last = mine.slice(mine.num_rows - 10)
        assert (await with_behaviour(conn, last, np.zeros(10, bool))).equals(last)  # the whole record: as given
        gaps = without(last, ("time_since_last_txn_s",))
        kept = await with_behaviour(conn, gaps, np.zeros(10, bool))
        assert kept.column("time_since_last_txn_s").null_count == 10  # null given: the customer's first
        derived = await with_behaviour(conn, gaps, np.arange(10) % 2 == 0)
        assert derived.column("time_since_last_txn_s").to_pylist()[0::2] == \
            last.column("time_since_last_txn_s").to_pylist()[0::2]
        assert derived.column("time_since_last_txn_s").null_count == 5
    finally:
        await conn.close()


async def test_a_daily_amount_the_column_cannot_hold_is_refused_naming_the_row(db: Database, txns: pa.Table) -> None:
    row = without(some_customers(txns, 1).slice(0, 2), BEHAVIOUR)
    big = pa.array([Decimal(MAX_PAISE // 100 - 1)] * 2, pa.decimal128(14, 2))  # each fits, their sum does not
    row = row.set_column(row.schema.get_field_index("amount_inr"), row.schema.field("amount_inr"), big)
    conn = await db.connect()
    try:
        with pytest.raises(ValidationError) as caught:
            await with_behaviour(conn, row, np.ones(2, bool))
    finally:
        await conn.close()
    problem = caught.value.problems[0]
    assert problem.field == "$.transactions[1].amount_inr" and "daily_txn_amount_inr" in problem.expected


async def test_a_second_write_for_a_customer_waits_for_the_first_and_sees_its_rows(db: Database,
                                                                                  txns: pa.Table) -> None:
    """Two storing transactions for one customer: the second waits (its advisory lock) until the first commits,
    then derives its row over the first's, so both rows get the generator's values; without the wait it would
    count a day's transactions without the first."""
    mine = some_customers(txns, 1)
    assert mine.num_rows >= 3
    history, first, second = mine.slice(0, mine.num_rows - 2), mine.slice(mine.num_rows - 2, 1), mine.slice(
        mine.num_rows - 1, 1)
    a, b, watcher = await db.connect(), await db.connect(), await db.connect()
    try:
        await load_part(a, history)
        storing = a.transaction()
        await storing.start()
        await load_part(a, await with_behaviour(a, without(first, BEHAVIOUR), np.ones(1, bool)))

        async def store_second() -> pa.Table:
            async with b.transaction():
                done = await with_behaviour(b, without(second, BEHAVIOUR), np.ones(1, bool))
                await load_part(b, done)
                return done

        waiting = asyncio.create_task(store_second())
        deadline = time.monotonic() + 30
        while not await watcher.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"):
            assert not waiting.done() and time.monotonic() < deadline, "the second write did not wait for the first"
            await asyncio.sleep(0.01)
        await storing.commit()
        done = await asyncio.wait_for(waiting, 30)
    finally:
        for conn in (a, b, watcher):
            await conn.close()
    for name in BEHAVIOUR:
        assert done.column(name).equals(second.column(name)), name
    gap_to_first = (second.column("timestamp")[0].as_py() - first.column("timestamp")[0].as_py()).total_seconds()
    assert done.column("time_since_last_txn_s")[0].as_py() == pytest.approx(gap_to_first, abs=1e-6)
