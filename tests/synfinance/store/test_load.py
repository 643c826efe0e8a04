"""Bulk load: counts, idempotent reloads, whole-or-nothing batches, deferred index rebuilds."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pg_schemas import count_rows, fresh_schema, migrated

from synfinance.errors import SchemaError
from synfinance.output.dataset import read_dataset
from synfinance.store.connect import Database
from synfinance.store.load import analyze_schema, defer_indexes, ensure_partitions, label_rows, load_dataset, load_part

pytestmark = pytest.mark.postgres


async def _indexes(db: Database) -> set[str]:
    conn = await db.connect()
    try:
        rows = await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2",
                                db.schema, "transactions")
    finally:
        await conn.close()
    return {r["indexname"] for r in rows}


def _part(dataset_dir: Path) -> pa.Table:
    return read_dataset(dataset_dir)["transactions"].slice(0, 20_000)


async def test_load_twice_inserts_everything_once(db: Database, dataset_dir: Path, txns: pa.Table) -> None:
    indexes = await _indexes(db)
    progress: list[int] = []

    first = await load_dataset(db, dataset_dir, on_progress=progress.append)

    assert first.bulk
    assert sum(progress) == txns.num_rows
    n_fraud = pc.sum(txns["is_fraud"]).as_py()
    n_anomaly = pc.sum(txns["is_anomaly"]).as_py()
    assert first.inserted.rows["transactions"] == txns.num_rows
    assert first.inserted.rows["fraud_labels"] == n_fraud
    assert first.inserted.rows["anomaly_labels"] == n_anomaly
    assert await _indexes(db) == indexes  # the deferred indexes are back

    second = await load_dataset(db, dataset_dir)

    assert not second.bulk
    assert all(n == 0 for n in second.inserted.rows.values()), second.inserted.rows
    assert second.offered.rows["transactions"] == txns.num_rows
    assert await count_rows(db, "transactions") == txns.num_rows
    assert await count_rows(db, "fraud_labels") == n_fraud


async def test_a_half_loaded_batch_is_completed_without_duplicates(db: Database, dataset_dir: Path) -> None:
    part = _part(dataset_dir)
    conn = await db.connect()
    try:
        first = await load_part(conn, part.slice(0, 12_000))
        second = await load_part(conn, part)  # overlaps the first 12,000: staged path
    finally:
        await conn.close()
    assert first.rows["transactions"] == 12_000
    assert second.rows["transactions"] == part.num_rows - 12_000
    assert await count_rows(db, "transactions") == part.num_rows
    assert await count_rows(db, "fraud_labels") == label_rows(part, "fraud").num_rows


@pytest.mark.parametrize(
    "break_batch",
    [
        pytest.param(lambda t: _set(t, "fraud_evidence", "{not json"), id="bad-evidence-json-in-labels"),
        pytest.param(lambda t: _set(t, "customer_id", None), id="null-in-a-not-null-column"),
    ],
)
async def test_a_failing_batch_leaves_nothing_behind(db: Database, dataset_dir: Path, break_batch: object) -> None:
    part = _part(dataset_dir)
    broken = break_batch(part)  # type: ignore[operator]
    conn = await db.connect()
    try:
        with pytest.raises(SchemaError, match=r"nothing of the batch was written"):
            await load_part(conn, broken)
    finally:
        await conn.close()
    for table in ("transactions", "fraud_labels", "anomaly_labels"):
        assert await count_rows(db, table) == 0, table


def _set(table: pa.Table, column: str, value: object) -> pa.Table:
    """The table with `column` of its last fraud row replaced by value (nullable in the Arrow sense)."""
    fraud_rows = pc.indices_nonzero(table["is_fraud"]).to_pylist()
    values = table[column].to_pylist()
    values[fraud_rows[-1]] = value
    index = table.schema.get_field_index(column)
    field = table.schema.field(index).with_nullable(True)
    return table.set_column(index, field, pa.array(values, field.type))


async def test_a_dead_bulk_load_leaves_indexes_the_next_load_rebuilds(db: Database, dataset_dir: Path) -> None:
    indexes = await _indexes(db)
    conn = await db.connect()
    try:
        dropped = await defer_indexes(conn, "transactions")  # what a bulk load does first, then "dies"
    finally:
        await conn.close()
    assert dropped == len(indexes) - 1  # all but the primary key
    assert len(await _indexes(db)) == 1

    await load_dataset(db, dataset_dir)

    assert await _indexes(db) == indexes
    assert await count_rows(db, "deferred_indexes") == 0


async def _analyzed(conn: asyncpg.Connection, schema: str) -> set[str]:
    rows = await conn.fetch("SELECT relname FROM pg_stat_user_tables WHERE schemaname = $1 "
                            "AND last_analyze IS NOT NULL", schema)
    return {r["relname"] for r in rows}


async def test_analyze_schema_covers_its_own_tables_and_partitions_only(db: Database, pg_url: str,
                                                                       dataset_dir: Path) -> None:
    other = await migrated(fresh_schema(pg_url, "other"))
    try:
        conn = await db.connect()
        try:
            await ensure_partitions(conn, read_dataset(dataset_dir)["transactions"].slice(0, 10))
            names = await analyze_schema(conn)
            analyzed = await _analyzed(conn, db.schema)
            assert await _analyzed(conn, other.schema) == set()  # another schema of the same database
        finally:
            await conn.close()
        assert "transactions" in names and "customers" in names
        assert not any(name.startswith("transactions_p") for name in names)  # the parent covers its partitions
        assert {"customers", "merchants"} <= analyzed
        assert any(name.startswith("transactions_p") for name in analyzed), analyzed
    finally:
        await other.drop_schema()
