"""Every format round-trips exactly; files appear whole or not at all; a broken run never looks complete."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synfinance.errors import OutputError, SchemaError
from synfinance.generation import GenerationParams
from synfinance.output.dataset import DatasetWriter, read_dataset, read_manifest
from synfinance.output.files import atomic_path
from synfinance.output.formats import read_table, write_table
from synfinance.output.jsonl import encode_jsonl
from synfinance.population.customers import build_customers
from synfinance.runner import write_dataset
from synfinance.schema import CUSTOMER_SCHEMA, TRANSACTION_SCHEMA

SMALL = GenerationParams(count=5_000, seed=5, customers=100, merchants=400, shard_size=30)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_text_formats_round_trip_to_the_parquet_tables(tmp_path: Path, fmt: str) -> None:
    parquet = read_dataset(write_dataset(SMALL, tmp_path / "p").parent)
    text = read_dataset(write_dataset(SMALL, tmp_path / fmt, fmt=fmt).parent)
    assert text.keys() == parquet.keys()
    for name, table in parquet.items():
        assert text[name].equals(table), name


def test_jsonl_escapes_text_and_keeps_types(tmp_path: Path) -> None:
    schema = pa.schema(
        [
            CUSTOMER_SCHEMA.field("customer_id"),
            CUSTOMER_SCHEMA.field("preferred_categories"),
            TRANSACTION_SCHEMA.field("fraud_evidence"),
            TRANSACTION_SCHEMA.field("amount_inr"),
        ]
    )
    evidence = ['{"velocity_1h": 14, "ring": "R-0007"}', None, 'back\\slash\nnew "line"\t']
    table = pa.table(
        [
            pa.array(["C1", "C2", "C3"]),
            pa.array([["Fuel"], [], ["A|B", "C"]]),
            pa.array(evidence),
            pa.array([Decimal("0.01"), Decimal("2.50"), Decimal("12345.67")], pa.decimal128(14, 2)),
        ],
        schema=schema,
    )
    raw = encode_jsonl(table)
    rows = [json.loads(line) for line in raw.decode().splitlines()]
    assert [r["fraud_evidence"] for r in rows] == evidence
    assert rows[1]["preferred_categories"] == []
    path = tmp_path / "t.jsonl"
    path.write_bytes(raw)
    assert read_table(path, "jsonl", schema).equals(table)


def test_reading_a_file_of_another_schema_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    write_table(pa.table({"customer_id": [1, 2]}), path, "parquet")
    with pytest.raises(SchemaError, match="column 'customer_id' has type int64, expected string"):
        read_table(path, "parquet", CUSTOMER_SCHEMA)


def test_atomic_path_leaves_nothing_when_the_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "part.parquet"
    with pytest.raises(ZeroDivisionError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half a file")
        _ = 1 / 0
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_run_leaves_no_manifest_and_only_whole_parts(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    write_dataset(SMALL, out)  # a complete earlier dataset in the same place
    written: list[int] = []

    def stop_after_two(rows: int) -> None:
        written.append(rows)
        if len(written) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_dataset(GenerationParams(**{**SMALL.__dict__, "seed": 6}), out, on_progress=stop_after_two)
    assert not (out / "manifest.json").exists()
    with pytest.raises(SchemaError, match="not a complete SynFinance dataset"):
        read_manifest(out)
    for part in (out / "transactions").iterdir():
        assert not part.name.startswith("."), "temporary file left behind"
        assert pq.read_table(part).schema.names == TRANSACTION_SCHEMA.names
    # and a rerun completes it and removes what the new plan does not list
    manifest = read_manifest(write_dataset(SMALL, out).parent)
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert on_disk == listed


def test_writer_refuses_a_directory_holding_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not part of a SynFinance dataset"):
        DatasetWriter(tmp_path, "parquet").check()
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_customers_file_written_before_homes_were_recorded_reads_them_as_null(tmp_path: Path) -> None:
    customers = build_customers(0, 5).table
    path = tmp_path / "customers.parquet"
    write_table(customers.drop_columns(["home_latitude", "home_longitude"]), path, "parquet")
    read = read_table(path, "parquet", CUSTOMER_SCHEMA)
    assert read.column("home_latitude").null_count == 5 and read.schema.equals(CUSTOMER_SCHEMA)
