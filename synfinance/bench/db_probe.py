"""PostgreSQL measurements in a fresh process; prints one JSON line.

    python -m synfinance.bench.db_probe db COUNT RUNS URL

Generates COUNT transactions once, then RUNS times into a new schema: bulk load (binary COPY, indexes
rebuilt after), idempotent reload of the same dataset, and an incremental load of a further 100,000 rows
(COUNT when smaller) into the populated table. On the last loaded table: get-by-id and filtered-page
latencies through the repositories (2,000 of each, or COUNT / 50 when fewer), against `SELECT 1` on the
same connection as the floor.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from synfinance.bench.report import emit
from synfinance.generation import GenerationParams
from synfinance.output.dataset import read_dataset
from synfinance.runner import write_dataset
from synfinance.store.connect import Database
from synfinance.store.load import analyze_schema, load_dataset
from synfinance.store.migrations import migrate
from synfinance.store.repository import TransactionFilter, TransactionRepository

QUERIES = 2_000  # of each kind, at most; a fiftieth of a smaller count
INCREMENT = 100_000


async def _latency_ms(call: Callable[[int], Awaitable[Any]], n: int) -> np.ndarray:
    for i in range(min(50, n)):  # warm the plan cache and the buffers
        await call(i)
    times = []
    for i in range(n):
        begun = time.perf_counter()
        await call(i)
        times.append(time.perf_counter() - begun)
    return np.array(times) * 1000


async def _fresh(url: str) -> Database:
    db = Database(url, f"bench_{uuid.uuid4().hex[:10]}", statement_timeout_s=None)
    await migrate(db)
    return db


async def measure(count: int, runs: int, url: str, work: Path) -> dict[str, Any]:
    write_dataset(GenerationParams(count=count), work / "data")
    increment = min(INCREMENT, count)
    write_dataset(GenerationParams(count=increment, seed=4242), work / "more")
    loads, reloads, increments = [], [], []
    db = None
    for run in range(runs):
        db = await _fresh(url)
        loads.append((await load_dataset(db, work / "data")).seconds)
        reloads.append((await load_dataset(db, work / "data")).seconds)
        increments.append((await load_dataset(db, work / "more")).seconds)
        if run < runs - 1:
            await db.drop_schema()
    assert db is not None
    try:
        return {"load_s": loads, "reload_s": reloads, "increment_s": increments, "count": count,
                "increment_rows": increment, **await _queries(db, work / "data", min(QUERIES, count // 50))}
    finally:
        await db.drop_schema()


async def _queries(db: Database, data: Path, n: int) -> dict[str, float]:
    txns = read_dataset(data, verify=False)["transactions"]
    rng = random.Random(7)
    ids = [txns["transaction_id"][rng.randrange(txns.num_rows)].as_py() for _ in range(n)]
    customers = pc.unique(txns["customer_id"]).to_pylist()
    picked = [customers[rng.randrange(len(customers))] for _ in range(n)]
    merchants = pc.unique(txns["merchant_id"]).to_pylist()
    picked_m = [merchants[rng.randrange(len(merchants))] for _ in range(n)]
    since = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    conn = await db.connect()
    try:
        await analyze_schema(conn)
        repo = TransactionRepository(conn)
        floor = await _latency_ms(lambda i: conn.fetchval("SELECT 1"), n)
        by_id = await _latency_ms(lambda i: repo.get(ids[i]), n)
        page = await _latency_ms(lambda i: repo.list(TransactionFilter(customer_id=picked[i]), limit=50), n)
        page_m = await _latency_ms(
            lambda i: repo.list(TransactionFilter(merchant_id=picked_m[i], start=since), limit=50), n)
    finally:
        await conn.close()
    out = {}
    for name, ms in (("floor", floor), ("get_by_id", by_id), ("page", page), ("merchant_page", page_m)):
        out[f"{name}_p50_ms"] = float(np.percentile(ms, 50))
        out[f"{name}_p99_ms"] = float(np.percentile(ms, 99))
    return out


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="synfinance-bench-db-") as tmp:
        emit(argv[0], asyncio.run(measure(int(argv[1]), int(argv[2]), argv[3], Path(tmp))))


if __name__ == "__main__":
    main(sys.argv[1:])
