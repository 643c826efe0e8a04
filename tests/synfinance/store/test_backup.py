"""Backup to Parquet and restore into an empty schema: a round trip reproduces every table byte for byte."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pg_schemas import fresh_schema

from synfinance.errors import OutputError, SchemaError
from synfinance.output.dataset import read_dataset
from synfinance.schema import STORED_TRANSACTION_SCHEMA
from synfinance.store.backup import MANIFEST, backup, restore
from synfinance.store.connect import Database
from synfinance.store.load import load_part
from synfinance.store.pgdump import dump

pytestmark = pytest.mark.postgres


@pytest.fixture
def second_db(pg_url: str) -> Iterator[Database]:
    db = fresh_schema(pg_url, "restore")
    yield db
    asyncio.run(db.drop_schema())


async def _fill(db: Database, dataset_dir: Path) -> pa.Table:
    """A shard of transactions plus a row in each table the dataset does not fill."""
    part = read_dataset(dataset_dir)["transactions"].slice(0, 5_000)
    conn = await db.connect()
    try:
        await load_part(conn, part)
        await conn.execute(
            "INSERT INTO predictions (transaction_id, model_version, fraud_probability, decision, reasons, "
            "anomaly_score) VALUES ($1, 'v0001', 0.91, 'decline', $2::jsonb, 0.2)",
            part["transaction_id"][0].as_py(), json.dumps([{"feature": "amount_zscore", "contribution": 1.2}]))
    finally:
        await conn.close()
    return part


async def test_round_trip_reproduces_every_table(db: Database, second_db: Database, dataset_dir: Path,
                                                 tmp_path: Path) -> None:
    part = await _fill(db, dataset_dir)

    first = await backup(db, tmp_path / "a")
    counts = await restore(second_db, tmp_path / "a")
    again = await backup(second_db, tmp_path / "b")

    assert counts["transactions"] == part.num_rows and counts["predictions"] == 1
    assert {k: v["rows"] for k, v in first["tables"].items()} == counts
    assert {k: v["sha256"] for k, v in first["tables"].items()} == {k: v["sha256"] for k, v in again["tables"].items()}
    restored = pq.read_table(tmp_path / "b" / "transactions.parquet")
    # as stored: the dataset's columns, those a raw event may leave unknown nullable
    assert restored.equals(part.sort_by([("transaction_id", "ascending"), ("timestamp", "ascending")])
                           .cast(STORED_TRANSACTION_SCHEMA))


async def test_restore_refuses_a_schema_with_rows(db: Database, dataset_dir: Path, tmp_path: Path) -> None:
    await _fill(db, dataset_dir)
    await backup(db, tmp_path / "a")
    with pytest.raises(SchemaError, match=r"already holds rows"):
        await restore(db, tmp_path / "a")


async def test_restore_refuses_a_tampered_backup(db: Database, second_db: Database, dataset_dir: Path,
                                                 tmp_path: Path) -> None:
    await _fill(db, dataset_dir)
    await backup(db, tmp_path / "a")
    manifest = json.loads((tmp_path / "a" / MANIFEST).read_text())
    pq.write_table(pq.read_table(tmp_path / "a" / "merchants.parquet").slice(1), tmp_path / "a" / "merchants.parquet")
    with pytest.raises(SchemaError, match=r"merchants\.parquet is missing or does not match"):
        await restore(second_db, tmp_path / "a")
    assert manifest["tables"]["merchants"]["rows"] >= 0


async def test_backup_refuses_a_non_empty_directory(db: Database, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"not an empty directory"):
        await backup(db, tmp_path)


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump not installed")
async def test_pg_dump_round_trip(db: Database, dataset_dir: Path, tmp_path: Path) -> None:
    part = await _fill(db, dataset_dir)
    manifest = dump(db, tmp_path / "dump")
    await db.drop_schema()

    counts = await restore(db, tmp_path / "dump")

    assert manifest["method"] == "pg_dump"
    assert counts["transactions"] == part.num_rows and counts["predictions"] == 1
    with pytest.raises(SchemaError, match=r"already exists"):
        await restore(db, tmp_path / "dump")
