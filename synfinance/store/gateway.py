"""The database as the API uses it: a connection pool, the repositories, every call through the breaker guard.

    gateway = Gateway(settings.database)
    row = await gateway.transaction("TXN...")     # NotFound, StoreUnavailable, CircuitOpen
    await gateway.store(transactions, features, predictions)   # one transaction; Conflict on a known id

serve.deployments.Query is this class as a Ray Serve deployment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
import numpy as np
import pyarrow as pa

from synfinance.errors import Conflict, NotFound, StoreUnavailable
from synfinance.observability import metrics
from synfinance.resilience import Guard
from synfinance.settings.models import DatabaseConfig
from synfinance.store.behaviour import with_behaviour
from synfinance.store.connect import FAILURES, Database
from synfinance.store.feedback import FeedbackRepository
from synfinance.store.idempotency import Idempotency, IdempotencyRepository, Replayed
from synfinance.store.load import load_part
from synfinance.store.repository import (
    Aggregates,
    Page,
    PopulationRepository,
    PredictionRepository,
    TransactionFilter,
    TransactionRepository,
)


class Gateway:
    def __init__(self, config: DatabaseConfig) -> None:
        self.enabled = config.enabled
        self.db = Database.from_config(config)
        self.guard = Guard.from_config("database", config, failures=FAILURES)
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        self._breaker = metrics.BREAKER_OPEN.labels("database")

    async def _connected(self) -> Any:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await self.db.pool()
            return self._pool

    async def _run(self, work: Any, *args: Any, idempotent: bool = True) -> Any:
        """work(pool, *args) through the guard; retried on the database's failures only when idempotent."""
        if not self.enabled:
            raise StoreUnavailable("the database is disabled (set database.enabled: true to query and store)")

        async def attempt() -> Any:
            pool = await self._connected()
            try:
                return await work(pool, *args)
            except asyncpg.UndefinedTableError as exc:
                raise StoreUnavailable(f"{self.db.where} has no SynFinance tables: run `synfinance db migrate`"
                                       f" ({exc})") from exc

        try:
            return await self.guard.call(attempt, idempotent=idempotent)
        finally:
            self._breaker.set(self.guard.state != "closed")  # open, or half-open on a trial: failing fast

    async def status(self) -> dict[str, Any]:
        """For /health: ok, disabled or unavailable (with why), and the breaker's state after a SELECT 1."""
        if not self.enabled:
            self._breaker.set(0)
            return {"status": "disabled", "breaker": self.guard.state}
        try:
            await self._run(lambda pool: pool.fetchval("SELECT 1"), idempotent=False)  # one try: health is quick
        except StoreUnavailable as exc:
            return {"status": "unavailable", "breaker": self.guard.state, "reason": str(exc)}
        return {"status": "ok", "breaker": self.guard.state}

    async def transaction(self, transaction_id: str) -> dict[str, Any]:
        row = await self._run(lambda pool: TransactionRepository(pool).get(transaction_id))
        return _found(row, "transaction", transaction_id)

    async def transactions(self, f: TransactionFilter, limit: int, cursor: str | None) -> Page:
        return await self._run(lambda pool: TransactionRepository(pool).list(f, limit, cursor))

    async def customer(self, customer_id: str) -> dict[str, Any]:
        return _found(await self._run(lambda pool: PopulationRepository(pool).customer(customer_id)),
                      "customer", customer_id)

    async def customers(self, city: str | None, segment: str | None, limit: int, cursor: str | None) -> Page:
        return await self._run(
            lambda pool: PopulationRepository(pool).customers(city, segment, limit, cursor))

    async def merchant(self, merchant_id: str) -> dict[str, Any]:
        return _found(await self._run(lambda pool: PopulationRepository(pool).merchant(merchant_id)),
                      "merchant", merchant_id)

    async def merchants(self, category: str | None, city: str | None, limit: int, cursor: str | None) -> Page:
        return await self._run(
            lambda pool: PopulationRepository(pool).merchants(category, city, limit, cursor))

    async def predictions_for(self, transaction_id: str) -> list[dict[str, Any]]:
        return await self._run(
            lambda pool: PredictionRepository(pool).for_transaction(transaction_id))

    async def predictions(self, start: Any, end: Any, limit: int, cursor: str | None) -> Page:
        return await self._run(
            lambda pool: PredictionRepository(pool).between(start, end, limit, cursor))

    async def fraud_stats(self, by: str, start: Any, end: Any) -> list[dict[str, Any]]:
        async def stats(pool: Any) -> list[dict[str, Any]]:
            agg = Aggregates(pool)
            return await (agg.fraud_by_day(start, end) if by == "day" else agg.fraud_by_type(start, end))
        return await self._run(stats)

    async def feedback(self, ids: list[str], is_fraud: list[bool], fraud_types: list[str | None]
                       ) -> list[dict[str, Any]]:
        """Label feedback for stored predictions (store.feedback); the rows counted now."""
        async def record(pool: Any) -> list[dict[str, Any]]:
            async with pool.acquire() as conn:
                return await FeedbackRepository(conn).record(ids, is_fraud, fraud_types)
        return await self._run(record)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def since(self, after: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
        """Stored transactions later than `after`, oldest first (a feature shard rebuilding its state)."""
        return await self._run(lambda pool: TransactionRepository(pool).since(after, columns))

    async def absent(self, ids: list[str]) -> None:
        """Conflict unless none of these transaction ids is stored."""
        await self._run(_absent, ids)

    async def replayed(self, claim: Idempotency) -> Replayed | None:
        """The answer given before to this request's idempotency key, if it was used (ValidationError if it was used
        for a different request)."""
        async def earlier(pool: Any) -> Replayed | None:
            async with pool.acquire() as conn:
                return await IdempotencyRepository(conn).earlier(claim)
        return await self._run(earlier)

    async def store(self, txns: pa.Table, features: pa.Table | None, predictions: pa.Table | None,
                    claim: Idempotency | None = None, gap_derived: np.ndarray | None = None) -> int | Replayed:
        """Transactions (with their features and PREDICTION_SCHEMA predictions) in one transaction; Conflict on a
        known id. Behavioural columns left null (and the gap where gap_derived marks it) are derived from the
        customers' stored history (synfinance.store.behaviour). With an idempotency claim, the claim is recorded
        in the same transaction, and a key answered before returns that answer (nothing written); only then is a
        failed try retried (without a key, a try whose commit was lost would be answered with a conflict on its
        own rows)."""
        derive = np.zeros(txns.num_rows, bool) if gap_derived is None else gap_derived

        async def store(pool: Any) -> int | Replayed:
            async with pool.acquire() as conn, conn.transaction():
                if claim is not None and (earlier := await IdempotencyRepository(conn).claim(claim)) is not None:
                    return earlier
                ids = txns.column("transaction_id").to_pylist()
                await _absent(conn, ids)
                counts = await load_part(conn, await with_behaviour(conn, txns, derive), features, predictions)
                if counts.rows.get("transactions", 0) < len(ids):  # another request stored one meanwhile
                    raise Conflict(_duplicates(ids))
                return len(ids)
        return await self._run(store, idempotent=claim is not None)


async def _absent(db: Any, ids: list[str]) -> None:
    known = await TransactionRepository(db).stored(ids)
    if known:
        raise Conflict(_duplicates(known))


def _duplicates(ids: list[str]) -> str:
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    return f"transaction id already stored: {shown}"


def _found(row: dict[str, Any] | None, kind: str, key: str) -> dict[str, Any]:
    if row is None:
        raise NotFound(f"no {kind} with id {key!r}")
    return row


async def stored_since(config: DatabaseConfig, after: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Transactions stored later than `after`, oldest first, through a gateway of their own (closed after)."""
    gateway = Gateway(config)
    try:
        return await gateway.since(after, columns)
    finally:
        await gateway.close()
