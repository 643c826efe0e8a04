"""The pipeline's actors: shard workers (generate -> patterns -> features) and a dataset sink.

No domain logic here: a worker calls synfinance.runner.build_shard, the sink calls write_shard.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import ray

from actors import metrics
from chaos.faults import SinkFaults, WorkerFaults
from synfinance.bench.memory import peak_rss_mb, private_mb
from synfinance.generate import GenerationParams, GenerationPlan
from synfinance.output.dataset import DatasetWriter, FileEntry
from synfinance.runner import ShardOutput, build_shard, write_shard


class MemoryWatch:
    """The highest private memory seen at the end of each unit of work."""

    def __init__(self) -> None:
        self.peak = 0.0

    def sample(self) -> None:
        self.peak = max(self.peak, private_mb())

    def report(self) -> dict[str, float]:
        return {"peak_rss_mb": peak_rss_mb(), "peak_private_mb": self.peak}


@ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)
class ShardWorker:
    """Builds the plan once, then shards on request. Restarted by Ray if its process dies."""

    def __init__(self, params: GenerationParams, features: bool, name: str,
                 faults: WorkerFaults | None = None) -> None:
        self.plan = GenerationPlan(params)
        self.features, self.name, self.faults = features, name, faults
        self.memory = MemoryWatch()

    @ray.method(num_returns=2)
    def run(self, shard: int) -> tuple[dict[str, Any], ShardOutput]:
        """(small facts about the shard, the shard itself): the driver reads the first, the sink the second."""
        started = time.time()
        if self.faults is not None:
            self.faults.before_shard(shard)
        output = build_shard(self.plan, shard, self.features)
        seconds = time.time() - started
        metrics.rows_generated().inc(output.transactions.num_rows, tags={"worker": self.name})
        metrics.shard_seconds().observe(seconds, tags={"worker": self.name})
        facts = {"shard": shard, "rows": output.transactions.num_rows, "worker": self.name, "pid": os.getpid(),
                 "started": started, "seconds": seconds}
        self.memory.sample()
        return facts, output

    def pid(self) -> int:
        return os.getpid()

    def memory_mb(self) -> dict[str, float]:
        return self.memory.report()


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class DatasetSink:
    """Writes shards into one dataset directory. A redone shard replaces its files (atomic renames)."""

    def __init__(self, out: Path, fmt: str, faults: SinkFaults | None = None) -> None:
        self.writer = DatasetWriter(out, fmt)
        self.faults = faults
        self.memory = MemoryWatch()

    def write(self, output: ShardOutput) -> tuple[list[FileEntry], float]:
        """The shard's file entries and the time the write finished."""
        started = time.time()
        if self.faults is not None:
            self.faults.before_write(output.shard)
        entries = write_shard(self.writer, output)
        metrics.write_seconds().observe(time.time() - started, tags={"sink": "dataset"})
        self.memory.sample()
        return entries, time.time()

    def memory_mb(self) -> dict[str, float]:
        return self.memory.report()


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class PostgresSink:
    """Loads shards into PostgreSQL with synfinance.store.load_part: one transaction per shard, idempotent.

    One connection, one shard at a time (a lock: an asyncpg connection runs one statement at once).
    """

    def __init__(self, database: Any) -> None:
        self.database = database
        self.conn: Any = None
        self.lock = asyncio.Lock()

    async def _connection(self) -> Any:
        if self.conn is None:
            self.conn = await self.database.connect(bulk=True)
        return self.conn

    async def start(self, customers: Any, merchants: Any) -> None:
        """Check the schema is migrated, then load the population (idempotently)."""
        from synfinance.store.load import load_population, require_migrated

        conn = await self._connection()
        await require_migrated(conn)
        async with self.lock:
            await load_population(conn, customers, merchants)

    async def write(self, output: ShardOutput) -> tuple[list[FileEntry], float]:
        from synfinance.store.load import load_part

        started = time.time()
        async with self.lock:
            counts = await load_part(await self._connection(), output.transactions, output.features)
        metrics.write_seconds().observe(time.time() - started, tags={"sink": "postgres"})
        inserted = counts.rows.get("transactions", 0)
        return [FileEntry(f"postgres:shard-{output.shard}", inserted, "")], time.time()
