"""PostgreSQL: the population once, then each shard in one transaction with synfinance.store.load_part."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from synfinance.output.dataset import FileEntry
from synfinance.sinks.base import ShardOutput
from synfinance.store.connect import Database
from synfinance.store.load import load_part, load_population, require_migrated
from synfinance.world.plan import GenerationPlan


class PostgresSink:
    """One connection, opened on first use in the process that writes (it is not pickled with the sink)."""

    kind = "postgres"
    travels = True

    def __init__(self, database: Database) -> None:
        self.database = database
        self._runner: asyncio.Runner | None = None
        self._conn: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"database": self.database, "_runner": None, "_conn": None}

    def _run(self, work: Any) -> Any:
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(work)

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._run(self.database.connect(bulk=True))
        return self._conn

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        """Check the schema is migrated, then load customers and merchants (rows already there are kept)."""
        conn = self._connection()
        self._run(require_migrated(conn))
        counts = self._run(load_population(conn, plan.customers.table, plan.merchants.table))
        return [FileEntry(f"postgres:{table}", n, "") for table, n in sorted(counts.rows.items())]

    def write(self, output: ShardOutput) -> list[FileEntry]:
        counts = self._run(load_part(self._connection(), output.transactions, output.features, output.predictions))
        return [FileEntry(f"postgres:shard-{output.shard}", counts.rows.get("transactions", 0), "")]

    def close(self, entries: list[FileEntry]) -> Path | None:
        if self._conn is not None:
            self._run(self._conn.close())
            self._conn = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        return None
