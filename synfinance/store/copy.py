"""Idempotent bulk insert of Arrow tables: binary COPY (pgpq), falling back to staging + ON CONFLICT DO NOTHING.

New rows go straight in with one binary COPY inside a savepoint. If any of them is already there (a shard
loaded twice, a retried batch), the COPY fails with a unique violation, the savepoint is rolled back, and
the batch goes through a temporary staging table and `INSERT ... SELECT ... ON CONFLICT DO NOTHING`: rows
already present are skipped, never duplicated. Tables with JSONB columns always take the staged path
(the cast from text happens in the INSERT). Callers run this inside their own transaction, so a batch
lands whole or not at all.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import asyncpg
import pyarrow as pa
from pgpq import ArrowToPostgresBinaryEncoder

from synfinance.errors import SchemaError, StoreUnavailable
from synfinance.schema import conforms, missing_values
from synfinance.store.connect import quote_ident
from synfinance.store.tables import TableSpec


def encode(table: pa.Table) -> bytes:
    """PostgreSQL binary COPY bytes for an Arrow table (header, rows, trailer)."""
    encoder = ArrowToPostgresBinaryEncoder(table.schema)
    chunks = [encoder.write_header()]
    chunks.extend(encoder.write_batch(batch) for batch in table.to_batches())
    chunks.append(encoder.finish())
    return b"".join(bytes(c) for c in chunks)


def conform(spec: TableSpec, table: pa.Table) -> pa.Table:
    """The table's columns in the spec's order and types; SchemaError naming every mismatch otherwise."""
    missing = [name for name in spec.schema.names if name not in table.column_names]
    if missing:
        raise SchemaError(f"{spec.name}: missing columns {', '.join(missing)}")
    table = table.select(spec.schema.names)
    problems = conforms(table.schema, spec.schema, nullability=False) or missing_values(table, spec.schema)
    if problems:
        raise SchemaError(f"{spec.name}: " + "; ".join(problems) + "; nothing of the batch was written")
    return table.cast(spec.schema)


@dataclass(frozen=True)
class Batch:
    """Rows for one table, already encoded for binary COPY (encoding is CPU work: do it off the event loop)."""

    spec: TableSpec
    data: bytes
    rows: int


def prepare(spec: TableSpec, table: pa.Table) -> Batch:
    return Batch(spec, encode(conform(spec, table)) if table.num_rows else b"", table.num_rows)


async def copy_rows(conn: asyncpg.Connection, spec: TableSpec, table: pa.Table) -> int:
    """Insert the rows whose key is not present yet; returns how many were inserted. Call inside a transaction."""
    return await copy_batch(conn, prepare(spec, table))


async def copy_batch(conn: asyncpg.Connection, batch: Batch) -> int:
    """copy_rows for a prepared batch. Rows the table refuses raise SchemaError naming the table and why."""
    if batch.rows == 0:
        return 0
    try:
        return await _copy(conn, batch)
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
        raise SchemaError(f"{batch.spec.name}: PostgreSQL refused a batch of {batch.rows:,} rows "
                          f"({type(exc).__name__}: {exc}); nothing of the batch was written") from exc
    except asyncpg.PostgresError as exc:
        raise StoreUnavailable(f"{batch.spec.name}: loading {batch.rows:,} rows failed: "
                               f"{type(exc).__name__}: {exc}") from exc


async def _copy(conn: asyncpg.Connection, batch: Batch) -> int:
    spec = batch.spec
    if spec.json_columns:
        return await _copy_staged(conn, spec, batch.data)
    try:
        async with conn.transaction():
            await conn.copy_to_table(spec.name, source=io.BytesIO(batch.data), columns=spec.schema.names,
                                     format="binary")
        return batch.rows
    except asyncpg.UniqueViolationError:  # some rows are already there: stage this batch instead
        return await _copy_staged(conn, spec, batch.data)


async def _copy_staged(conn: asyncpg.Connection, spec: TableSpec, data: bytes) -> int:
    stage = quote_ident(f"stage_{spec.name}")
    names = spec.schema.names
    stage_columns = ", ".join(f"{quote_ident(c)} {spec.stage_type(c)}" for c in names)
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({stage_columns}) ON COMMIT DELETE ROWS")
    await conn.execute(f"TRUNCATE {stage}")
    await conn.copy_to_table(f"stage_{spec.name}", source=io.BytesIO(data), columns=names, format="binary")
    target = ", ".join(quote_ident(c) for c in names)
    select = ", ".join(
        f"{quote_ident(c)}::jsonb" if c in spec.json_columns else quote_ident(c) for c in names
    )
    status = await conn.execute(
        f"INSERT INTO {quote_ident(spec.name)} ({target}) SELECT {select} FROM {stage} ON CONFLICT DO NOTHING"
    )
    return int(status.split()[-1])
