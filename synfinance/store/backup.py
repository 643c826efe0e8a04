"""Backup every table to Parquet (one consistent snapshot, with a manifest of row counts and sha256), and restore.

A backup reads each table with COPY ... TO STDOUT (CSV, streamed through a temporary file) and converts it
batch by batch with pyarrow to the table's Arrow schema, so memory stays flat and no row passes through a
Python loop. The transactions file of a backup is a valid dataset part. Restore goes into an empty schema
(migrated to the backup's version if it has no tables yet), in one transaction, and checks every count.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from synfinance.errors import OutputError, SchemaError
from synfinance.output.files import atomic_path, sha256_file
from synfinance.store.connect import Database, quote_ident
from synfinance.store.copy import copy_batch, prepare
from synfinance.store.load import ensure_partitions
from synfinance.store.migrations import MigrationRunner, current_version
from synfinance.store.pgdump import restore_dump
from synfinance.store.tables import TABLES, TableSpec, tables_at

MANIFEST = "backup.json"
_LIST_SEPARATOR = "\x1f"  # unit separator: never inside a category, payment mode or hour
BATCH_ROWS = 100_000


def _select(spec: TableSpec) -> str:
    columns = []
    for f in spec.schema:
        name = quote_ident(f.name)
        if pa.types.is_timestamp(f.type):
            columns.append(f"(extract(epoch FROM {name}) * 1000000)::bigint AS {name}")
        elif pa.types.is_list(f.type):
            columns.append(f"array_to_string({name}, E'\\x1f') AS {name}")
        elif f.name in spec.json_columns:
            columns.append(f"{name}::text AS {name}")
        else:
            columns.append(name)
    order = ", ".join(quote_ident(k) for k in spec.key)
    return f"SELECT {', '.join(columns)} FROM {quote_ident(spec.name)} ORDER BY {order}"


def _wire_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.int64()
    if pa.types.is_list(t):
        return pa.string()
    return t


def _from_wire(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    arrays = []
    for f in schema:
        column = batch.column(f.name)
        if pa.types.is_timestamp(f.type):
            column = column.cast(f.type)
        elif pa.types.is_list(f.type):
            column = pc.split_pattern(column, _LIST_SEPARATOR).cast(f.type)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


async def backup(db: Database, out: Path) -> dict[str, Any]:
    """Write every table of the schema to <out>/<table>.parquet plus backup.json; returns the manifest."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"--out: {out} exists and is not an empty directory")
    out.mkdir(parents=True, exist_ok=True)
    conn = await db.connect(bulk=True)
    tables: dict[str, Any] = {}
    try:
        version = await current_version(conn)
        if version == 0:
            raise SchemaError(f"{db.where}: no SynFinance tables to back up (run `synfinance db migrate`)")
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            for name, spec in tables_at(version).items():
                tables[name] = await _backup_table(conn, spec, out)
    finally:
        await conn.close()
    manifest = {
        "schema_version": version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "source": db.where,
        "tables": tables,
    }
    with atomic_path(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


async def _backup_table(conn: asyncpg.Connection, spec: TableSpec, out: Path) -> dict[str, Any]:
    csv_path = out / f".{spec.name}.csv"
    target = out / f"{spec.name}.parquet"
    try:
        await conn.copy_from_query(_select(spec), output=str(csv_path), format="csv")
        rows = 0
        with atomic_path(target) as tmp, pq.ParquetWriter(tmp, spec.schema, compression="zstd") as writer:
            for batch in _read_wire(csv_path, spec):
                writer.write_batch(_from_wire(batch, spec.schema))
                rows += batch.num_rows
    finally:
        with contextlib.suppress(FileNotFoundError):
            csv_path.unlink()
    return {"file": target.name, "rows": rows, "sha256": sha256_file(target)}


def _read_wire(csv_path: Path, spec: TableSpec) -> Iterator[pa.RecordBatch]:
    if csv_path.stat().st_size == 0:  # an empty table: pyarrow refuses an empty CSV
        return
    wire = pa.schema([pa.field(f.name, _wire_type(f.type)) for f in spec.schema])
    yield from pacsv.open_csv(
        csv_path,
        read_options=pacsv.ReadOptions(column_names=wire.names, block_size=32 << 20),
        convert_options=pacsv.ConvertOptions(
            column_types=wire, true_values=["t"], false_values=["f"], null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=False,
        ),
    )


async def restore(db: Database, source: Path) -> dict[str, int]:
    """Restore a backup into the configured schema, which must hold no rows; returns rows per table."""
    source = Path(source)
    if _read_manifest(source).get("method") == "pg_dump":
        return await _restore_pg_dump(db, source)
    manifest = _verified_manifest(source)
    await db.ensure_schema()
    conn = await db.connect(bulk=True)
    try:
        version = await current_version(conn)
        if version == 0:
            await MigrationRunner(conn).migrate(to=manifest["schema_version"])
        elif version != manifest["schema_version"]:
            raise SchemaError(f"restore: {db.where} is at schema version {version}, the backup at "
                              f"{manifest['schema_version']}; restore into an empty schema")
        await _require_empty(conn, db, manifest["schema_version"])
        counts: dict[str, int] = {}
        async with conn.transaction():
            for name, spec in tables_at(manifest["schema_version"]).items():
                counts[name] = await _restore_table(conn, spec, source / manifest["tables"][name]["file"])
            for name, count in counts.items():
                expected = manifest["tables"][name]["rows"]
                if count != expected:
                    raise SchemaError(f"restore: {name} got {count} rows, the backup holds {expected}; rolled back")
    finally:
        await conn.close()
    return counts


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise SchemaError(f"--in: {source} has no {MANIFEST}; not a SynFinance backup")
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


async def _restore_pg_dump(db: Database, source: Path) -> dict[str, int]:
    conn = await db.connect()
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", db.schema):
            raise SchemaError(f"restore: schema {db.schema} already exists; pg_restore needs it absent")
        await asyncio.to_thread(restore_dump, db, source, _read_manifest(source))
        version = int(_read_manifest(source).get("schema_version", max(t.since for t in TABLES.values())))
        return {name: int(await conn.fetchval(f"SELECT count(*) FROM {quote_ident(name)}"))
                for name in tables_at(version)}
    finally:
        await conn.close()


def _verified_manifest(source: Path) -> dict[str, Any]:
    manifest = _read_manifest(source)
    missing = sorted(set(tables_at(int(manifest.get("schema_version", 0)))) - set(manifest.get("tables", {})))
    if missing:
        raise SchemaError(f"--in: the backup lacks tables {', '.join(missing)}")
    for entry in manifest["tables"].values():
        file = source / entry["file"]
        if not file.is_file() or sha256_file(file) != entry["sha256"]:
            raise SchemaError(f"--in: {file} is missing or does not match the manifest's sha256")
    return manifest


async def _require_empty(conn: asyncpg.Connection, db: Database, version: int) -> None:
    for name in tables_at(version):
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {quote_ident(name)})"):
            raise SchemaError(f"restore: table {name} in {db.where} already holds rows; "
                              "restore needs an empty schema (set database.schema_name to a new one)")


async def _restore_table(conn: asyncpg.Connection, spec: TableSpec, path: Path) -> int:
    rows = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        table = pa.Table.from_batches([batch])
        if spec.name == "transactions":
            await ensure_partitions(conn, table)
        rows += await copy_batch(conn, prepare(spec, table))
    return rows
