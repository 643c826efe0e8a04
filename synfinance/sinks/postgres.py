"""PostgreSQL: the population once, then each shard in one transaction with synfinance.store.load_part."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from synfinance.observability.logs import get_logger
from synfinance.output.dataset import FileEntry
from synfinance.resilience import RetryPolicy
from synfinance.settings.models import DatabaseConfig, Settings
from synfinance.sinks.base import ShardOutput
from synfinance.store.connect import RETRYABLE, Database
from synfinance.store.load import load_part, load_population, require_migrated, watched
from synfinance.world.plan import GenerationPlan

T = TypeVar("T")
log = get_logger("synfinance.sinks")


def _log_retry(attempt: int, exc: BaseException, wait_s: float) -> None:
    log.warning("sink.retry", sink="postgres", attempt=attempt, wait_s=round(wait_s, 3), error=str(exc))


class PostgresSink:
    """One connection, opened on first use in the process that writes (it is not pickled with the sink).

    A write that loses its connection (PostgreSQL restarting, a network cut) is tried again on a new one by the
    retry policy (database.bulk_retry): a shard is one transaction and loads idempotently, so a try that did
    commit before its answer was lost inserts nothing the second time.
    """

    kind = "postgres"
    travels = True

    def __init__(self, database: Database, retry: RetryPolicy | None = None) -> None:
        self.database = database
        self.retry = retry or RetryPolicy.from_config(DatabaseConfig().bulk_retry)
        self._runner: asyncio.Runner | None = None
        self._conn: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"database": self.database, "retry": self.retry, "_runner": None, "_conn": None}

    def reconfigure(self, settings: Settings) -> None:
        """A live configuration change: the retry policy of the writes from now on."""
        self.retry = RetryPolicy.from_config(settings.database.bulk_retry)

    def _retried(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """work(connection), on a new connection after each lost one, while the retry policy allows."""
        def once() -> T:
            try:
                conn = self._connection()
                return self._run(watched(conn, work(conn)))
            except RETRYABLE:
                self._drop()
                raise
        return self.retry.run_sync(once, retry_on=RETRYABLE, on_retry=_log_retry)

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

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
        self._retried(require_migrated)
        counts = self._retried(lambda conn: load_population(conn, plan.customers.table, plan.merchants.table))
        return [FileEntry(f"postgres:{table}", n, "") for table, n in sorted(counts.rows.items())]

    def write(self, output: ShardOutput) -> list[FileEntry]:
        counts = self._retried(lambda conn: load_part(conn, output.transactions, output.features, output.predictions))
        return [FileEntry(f"postgres:shard-{output.shard}", counts.rows.get("transactions", 0), "")]

    def close(self, entries: list[FileEntry]) -> Path | None:
        if self._conn is not None:
            self._run(self._conn.close())
            self._conn = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        return None
