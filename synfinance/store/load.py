"""Load generated data into PostgreSQL: one transaction per shard, idempotent, several connections at once.

`load_part` is the unit the pipeline's PostgreSQL sink and `synfinance db load` share: a shard's
transactions (+ its features, + its predictions, + the fraud/anomaly label rows derived from it) in one
transaction.
Loading into an empty transactions table is a bulk load: its secondary indexes are dropped first and
rebuilt once at the end (much faster than maintaining them row by row, as pg_restore does). The dropped
definitions are recorded in `deferred_indexes` in the same transaction as the drop, so a load that dies
half-way leaves a note the next load acts on (it rebuilds them first).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncpg
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import MigrationError, SchemaError
from synfinance.observability.logs import get_logger
from synfinance.output.dataset import FEATURES, PARTS, PREDICTIONS, read_manifest
from synfinance.output.files import sha256_file
from synfinance.output.formats import read_table
from synfinance.resilience import RetryPolicy
from synfinance.schema import PREDICTION_SCHEMA, SCHEMAS, TRANSACTION_SCHEMA
from synfinance.settings.models import DatabaseConfig
from synfinance.store.connect import RETRYABLE, Database, quote_ident
from synfinance.store.copy import Batch, copy_batch, copy_rows, prepare
from synfinance.store.migrations import MIGRATIONS_DIR, current_version, discover
from synfinance.store.predictions import stored_predictions
from synfinance.store.tables import TABLES

log = get_logger("synfinance.store")
T = TypeVar("T")
WATCH_S = 0.5  # how often a load checks its connection is still there

LOAD_WORKERS = 2  # concurrent connections; PostgreSQL parses each COPY on one core


@dataclass
class LoadCounts:
    """Rows inserted per table (rows already present are not counted)."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n

    def merge(self, other: LoadCounts) -> None:
        for table, n in other.rows.items():
            self.add(table, n)


@dataclass
class LoadReport:
    inserted: LoadCounts
    offered: LoadCounts  # rows read from the dataset
    seconds: float
    bulk: bool


def label_rows(txns: pa.Table, kind: str) -> pa.Table:
    """The fraud_labels or anomaly_labels rows of a batch: its labelled transactions, evidence as JSON text."""
    labelled = txns.filter(pc.equal(txns[f"is_{kind}"], True))
    spec = TABLES[f"{kind}_labels"]
    return pa.table(
        [labelled["transaction_id"], labelled[f"{kind}_type"], labelled[f"{kind}_severity"],
         labelled[f"{kind}_confidence"], labelled[f"{kind}_evidence"]],
        schema=spec.schema,
    )


async def ensure_partitions(conn: asyncpg.Connection, txns: pa.Table) -> None:
    """Create the monthly partitions a batch needs (in its own short transaction, before the batch's)."""
    if txns.num_rows:
        bounds = pc.min_max(txns["timestamp"])
        await conn.execute("SELECT synfinance_ensure_partitions($1, $2)",
                           bounds["min"].as_py(), bounds["max"].as_py())


def prepare_part(txns: pa.Table, features: pa.Table | None = None,
                 predictions: pa.Table | None = None) -> list[Batch]:
    """A shard's batches for every table it touches, encoded for COPY (CPU only; run it in a thread)."""
    batches = [prepare(TABLES["transactions"], txns)]
    if features is not None:
        batches.append(prepare(TABLES["features"], features))
    if predictions is not None:
        batches.append(prepare(TABLES["predictions"], stored_predictions(predictions)))
    batches += [prepare(TABLES[f"{kind}_labels"], label_rows(txns, kind)) for kind in ("fraud", "anomaly")]
    return batches


async def load_part(conn: asyncpg.Connection, txns: pa.Table, features: pa.Table | None = None,
                    predictions: pa.Table | None = None) -> LoadCounts:
    """One shard in one transaction: transactions, features, predictions (PREDICTION_SCHEMA), labels.
    A redone shard inserts nothing twice."""
    batches = await asyncio.to_thread(prepare_part, txns, features, predictions)
    return await load_batches(conn, txns, batches)


async def load_batches(conn: asyncpg.Connection, txns: pa.Table, batches: list[Batch]) -> LoadCounts:
    counts = LoadCounts()
    await ensure_partitions(conn, txns)
    async with conn.transaction():
        for batch in batches:
            counts.add(batch.spec.name, await copy_batch(conn, batch))
    return counts


async def load_population(conn: asyncpg.Connection, customers: pa.Table, merchants: pa.Table) -> LoadCounts:
    """Customers and merchants in one transaction, idempotently (rows already present are skipped)."""
    counts = LoadCounts()
    async with conn.transaction():
        counts.add("customers", await copy_rows(conn, TABLES["customers"], customers))
        counts.add("merchants", await copy_rows(conn, TABLES["merchants"], merchants))
    return counts


async def require_migrated(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> None:
    latest = max((m.version for m in discover(directory)), default=0)
    version = await current_version(conn)
    if version < latest:
        raise MigrationError(
            f"the database schema is at version {version}, this SynFinance needs {latest}: run `synfinance db migrate`"
        )


async def defer_indexes(conn: asyncpg.Connection, table: str) -> int:
    """Drop the table's secondary indexes, recording their definitions in deferred_indexes (one transaction)."""
    async with conn.transaction():
        rows = await conn.fetch(
            "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = $1::regclass AND NOT i.indisprimary AND NOT i.indisunique",
            table,
        )
        for row in rows:
            await conn.execute("INSERT INTO deferred_indexes (index_name, definition) VALUES ($1, $2) "
                               "ON CONFLICT (index_name) DO NOTHING", row["name"], row["definition"])
            await conn.execute(f"DROP INDEX {quote_ident(row['name'])}")
    return len(rows)


async def analyze_schema(conn: asyncpg.Connection) -> list[str]:
    """ANALYZE the connection's schema's tables (a partitioned table covers its partitions) and nothing else of
    the database it shares: a whole-database ANALYZE took 8.8 s here for two other schemas' 160,000 rows."""
    names = [row["relname"] for row in await conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1")]
    if names:
        await conn.execute("ANALYZE " + ", ".join(quote_ident(name) for name in names))
    return names


async def rebuild_deferred_indexes(db: Database, workers: int = LOAD_WORKERS) -> int:
    """Build every index in deferred_indexes (several at once) and strike each off as it commits."""
    conn = await db.connect(bulk=True)
    try:
        # Full indexes first, partial ones last: the long builds start at once and the short ones fill in.
        pending = await conn.fetch("SELECT index_name, definition FROM deferred_indexes "
                                   "ORDER BY definition LIKE '% WHERE %', index_name")
    finally:
        await conn.close()
    queue: asyncio.Queue[asyncpg.Record] = asyncio.Queue()
    for row in pending:
        queue.put_nowait(row)

    async def build() -> None:
        c = await db.connect(bulk=True)
        try:
            while not queue.empty():
                row = queue.get_nowait()
                # pg_get_indexdef of a partitioned table's index says ON ONLY, which would not recurse.
                definition = row["definition"].replace(" ON ONLY ", " ON ", 1)
                async with c.transaction():
                    await c.execute("SET LOCAL maintenance_work_mem = '256MB'")
                    await c.execute(definition)
                    await c.execute("DELETE FROM deferred_indexes WHERE index_name = $1", row["index_name"])
        finally:
            await c.close()

    await asyncio.gather(*(build() for _ in range(min(workers, len(pending)))))
    return len(pending)


def _read_verified(directory: Path, entry: dict[str, object], fmt: str, schema: pa.Schema) -> pa.Table:
    path = directory / str(entry["path"])
    if sha256_file(path) != entry["sha256"]:
        raise SchemaError(f"{path}: content does not match the manifest's sha256; the dataset was modified")
    return read_table(path, fmt, schema)


async def load_dataset(
    db: Database,
    directory: Path,
    workers: int = LOAD_WORKERS,
    on_progress: Callable[[int], None] | None = None,
    bulk: bool = True,
    retry: RetryPolicy | None = None,
) -> LoadReport:
    """Load a generated dataset directory (population, transactions, features, labels) idempotently.

    A part whose connection is lost (PostgreSQL restarting, a network cut) is loaded again on a new connection
    while `retry` allows (default: database.bulk_retry's defaults); each part is one transaction and inserts
    nothing twice, so the rows stored are exact however often a part was tried."""
    retry = retry or RetryPolicy.from_config(DatabaseConfig().bulk_retry)
    directory = Path(directory)
    manifest = read_manifest(directory)
    fmt = manifest["format"]
    entries = {str(e["path"]): e for e in manifest["files"]}
    parts = sorted(p for p in entries if p.startswith(f"{PARTS}/"))
    started = time.perf_counter()
    conn = await retry.run(db.connect, True, retry_on=RETRYABLE, on_retry=_log_retry)
    inserted, offered = LoadCounts(), LoadCounts()
    try:
        await require_migrated(conn)
        await rebuild_deferred_indexes(db)  # a previous bulk load that died half-way
        population = {}
        for name in ("customers", "merchants"):
            entry = next((e for p, e in entries.items() if Path(p).stem == name), None)
            if entry is None:
                raise SchemaError(f"--in: {directory} has no {name} file in its manifest")
            population[name] = _read_verified(directory, entry, fmt, SCHEMAS[name])
            offered.add(name, population[name].num_rows)
        inserted.merge(await load_population(conn, population["customers"], population["merchants"]))
        bulk = bulk and not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM transactions)")
        if bulk:
            await defer_indexes(conn, "transactions")
    finally:
        await conn.close()

    # One reader thread decodes and encodes parts (Python work) while the connections COPY (PostgreSQL
    # work); the bounded queue keeps at most `workers` prepared parts in memory.
    connections = max(1, min(workers, len(parts)))
    ready: asyncio.Queue[tuple[pa.Table, list[Batch]] | None] = asyncio.Queue(maxsize=connections)

    async def read() -> None:
        for part in parts:
            await ready.put(await asyncio.to_thread(_read_part, directory, entries, part, fmt))
        for _ in range(connections):
            await ready.put(None)

    async def copy() -> None:
        held: list[asyncpg.Connection] = []

        async def once(txns: pa.Table, batches: list[Batch]) -> LoadCounts:
            if not held:
                held.append(await db.connect(bulk=True))
            try:
                return await watched(held[0], load_batches(held[0], txns, batches))
            except RETRYABLE:
                held.pop().terminate()  # lost: the next try opens a new one
                raise

        try:
            while (item := await ready.get()) is not None:
                txns, batches = item
                for batch in batches:
                    offered.add(batch.spec.name, batch.rows)
                inserted.merge(await retry.run(once, txns, batches, retry_on=RETRYABLE, on_retry=_log_retry))
                if on_progress is not None:
                    on_progress(txns.num_rows)
        finally:
            for c in held:
                await c.close()

    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(read())
            for _ in range(connections):
                tasks.create_task(copy())
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    finally:
        if bulk:
            await rebuild_deferred_indexes(db)
    return LoadReport(inserted, offered, time.perf_counter() - started, bulk)


async def watched(conn: asyncpg.Connection, work: Awaitable[T]) -> T:
    """work on conn, failed with ConnectionResetError as soon as conn is closed under it: asyncpg can wait forever
    for the answer to a COPY whose connection was lost while it was sending (seen with the chaos proxy's cut)."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=WATCH_S)
        if done:
            return task.result()
        if conn.is_closed():
            task.cancel()
            with contextlib.suppress(BaseException):  # its own error is the lost connection's: said below
                await task
            raise ConnectionResetError("the database connection was lost during a load")


def _log_retry(attempt: int, exc: BaseException, wait_s: float) -> None:
    log.warning("db.load.retry", attempt=attempt, wait_s=round(wait_s, 3), error=str(exc))


def _first(group: BaseExceptionGroup) -> BaseException:
    """The first real error of a task group (a failed task cancels the others; report what failed)."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _read_part(directory: Path, entries: dict[str, dict[str, object]], part: str, fmt: str
               ) -> tuple[pa.Table, list[Batch]]:
    txns = _read_verified(directory, entries[part], fmt, TRANSACTION_SCHEMA)
    beside = {folder: f"{folder}/{Path(part).name}" for folder in (FEATURES, PREDICTIONS)}
    features = predictions = None
    if beside[FEATURES] in entries:
        features = _read_verified(directory, entries[beside[FEATURES]], fmt, TABLES["features"].schema)
    if beside[PREDICTIONS] in entries:
        predictions = _read_verified(directory, entries[beside[PREDICTIONS]], fmt, PREDICTION_SCHEMA)
    return txns, prepare_part(txns, features, predictions)
