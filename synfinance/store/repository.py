"""Read queries over the store: plain SQL, every value a bind parameter, keyset pagination with opaque cursors.

Listings order by a unique key and continue after the last row of the previous page, so a page never
repeats or skips a row however many rows are inserted meanwhile (rows inserted behind the cursor are
simply not part of this walk). Each listing has an index that leads with its filter and ends in its
order; tests check EXPLAIN for every query.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from synfinance.errors import ValidationError
from synfinance.features.reference import CUSTOMER_FIELDS, MERCHANT_FIELDS
from synfinance.store.connect import quote_ident
from synfinance.store.cursor import decode_cursor, encode_cursor
from synfinance.store.tables import TABLES

MAX_PAGE = 1000
Row = dict[str, Any]


class Executor(Protocol):
    """An asyncpg Connection or Pool."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...
    async def fetchrow(self, query: str, *args: Any) -> Any: ...


@dataclass
class Where:
    """Conditions built from fixed SQL fragments; `{}` in a fragment becomes the next $n bind parameter."""

    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, fragment: str, *values: Any) -> None:
        refs = []
        for value in values:
            self.params.append(value)
            refs.append(f"${len(self.params)}")
        self.clauses.append(fragment.format(*refs))

    def equal(self, column: str, value: Any) -> None:
        """`column = value` when a value is given (column is fixed SQL, never input)."""
        if value is not None:
            self.add(f"{column} = {{}}", value)

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


@dataclass(frozen=True)
class Page:
    items: list[Row]
    next_cursor: str | None


@dataclass(frozen=True)
class TransactionFilter:
    customer_id: str | None = None
    merchant_id: str | None = None
    start: dt.datetime | None = None  # inclusive
    end: dt.datetime | None = None  # exclusive
    fraud_type: str | None = None
    status: str | None = None
    min_score: float | None = None
    max_score: float | None = None


def _columns(table: str, alias: str) -> str:
    return ", ".join(f'{alias}."{c}"' for c in TABLES[table].schema.names)


async def _by_key(db: Executor, table: str, alias: str, column: str, value: str) -> Row | None:
    """The one row whose `column` equals `value` (a bind parameter), or None."""
    row = await db.fetchrow(
        f"SELECT {_columns(table, alias)} FROM {table} {alias} WHERE {alias}.{column} = $1", value)
    return None if row is None else dict(row)


def check_page(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError.single("limit", limit, f"an integer from 1 to {MAX_PAGE}")


def check_range(start: dt.datetime | None, end: dt.datetime | None) -> None:
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise ValidationError.single(name, value.isoformat(), "a timestamp with a time zone, e.g. ...T00:00:00Z")
    if start is not None and end is not None and end < start:
        raise ValidationError.single("to", end.isoformat(), f"a time at or after from ({start.isoformat()})")


async def _page(db: Executor, kind: str, select: str, where: Where, order: tuple[str, ...],
                key_types: tuple[type, ...], limit: int, cursor: str | None) -> Page:
    """Run a keyset-paginated SELECT: rows after the cursor's key, `limit` of them, and the next cursor."""
    check_page(limit)
    columns = ", ".join(order)
    if cursor is not None:
        key = decode_cursor(cursor, kind, key_types)
        where.add(f"({columns}) > ({', '.join('{}' for _ in key)})", *key)
    sql = f"{select} WHERE {where.sql} ORDER BY {columns} LIMIT {where.param(limit + 1)}"
    rows = [dict(r) for r in await db.fetch(sql, *where.params)]
    more = len(rows) > limit
    rows = rows[:limit]
    names = [c.split(".")[-1].strip('"') for c in order]
    next_cursor = encode_cursor(kind, tuple(rows[-1][n] for n in names)) if more else None
    return Page(rows, next_cursor)


def _names(columns: Sequence[str]) -> str:
    """Column names for a SELECT list, quoted."""
    return ", ".join(quote_ident(c) for c in columns)


class TransactionRepository:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def get(self, transaction_id: str) -> Row | None:
        return await _by_key(self.db, "transactions", "t", "transaction_id", transaction_id)

    async def stored(self, ids: list[str]) -> list[str]:
        """Which of these transaction ids are stored already."""
        rows = await self.db.fetch("SELECT transaction_id FROM transactions WHERE transaction_id = ANY($1::text[])",
                                   ids)
        return [r["transaction_id"] for r in rows]

    async def since(self, after: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
        """Every stored transaction later than `after` (a UTC datetime), oldest first: these columns of each."""
        rows = await self.db.fetch(f"SELECT {_names(columns)} FROM transactions WHERE timestamp > $1 "  # noqa: S608 (schema names)
                                   "ORDER BY timestamp, transaction_id", after)
        return [dict(r) for r in rows]

    async def census(self) -> tuple[int, int]:
        """(rows, distinct transaction ids) stored: equal unless some id was written twice."""
        row = await self.db.fetchrow("SELECT count(*) AS n, count(DISTINCT transaction_id) AS ids FROM transactions")
        return int(row["n"]), int(row["ids"])

    async def list(self, f: TransactionFilter, limit: int = 100, cursor: str | None = None) -> Page:
        """Transactions matching every given filter, oldest first."""
        check_range(f.start, f.end)
        for name, score in (("min_score", f.min_score), ("max_score", f.max_score)):
            if score is not None and not 0.0 <= score <= 1.0:
                raise ValidationError.single(name, score, "a probability from 0 to 1")
        where = Where()
        where.equal("t.customer_id", f.customer_id)
        where.equal("t.merchant_id", f.merchant_id)
        if f.start is not None:
            where.add("t.timestamp >= {}", f.start)
        if f.end is not None:
            where.add("t.timestamp < {}", f.end)
        where.equal("t.fraud_type", f.fraud_type)
        where.equal("t.status", f.status)
        if f.status is not None and f.status != "approved":
            where.add("t.status <> 'approved'")  # lets the partial index on the rarer statuses serve it
        if f.min_score is not None or f.max_score is not None:
            low, high = f.min_score or 0.0, 1.0 if f.max_score is None else f.max_score
            where.add("EXISTS (SELECT 1 FROM predictions p WHERE p.transaction_id = t.transaction_id "
                      "AND p.fraud_probability >= {} AND p.fraud_probability <= {})", low, high)
        select = f"SELECT {_columns('transactions', 't')} FROM transactions t"
        return await _page(self.db, "transactions", select, where, ("t.timestamp", "t.transaction_id"),
                           (dt.datetime, str), limit, cursor)


class PopulationRepository:
    """Customers and merchants by id and by filters."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    async def customer(self, customer_id: str) -> Row | None:
        return await _by_key(self.db, "customers", "c", "customer_id", customer_id)

    async def merchant(self, merchant_id: str) -> Row | None:
        return await _by_key(self.db, "merchants", "m", "merchant_id", merchant_id)

    async def customers(self, city: str | None = None, segment: str | None = None, limit: int = 100,
                        cursor: str | None = None) -> Page:
        return await self._listing("customers", "c", {"city": city, "segment": segment}, limit, cursor)

    async def merchants(self, category: str | None = None, city: str | None = None, limit: int = 100,
                        cursor: str | None = None) -> Page:
        return await self._listing("merchants", "m", {"category": category, "city": city}, limit, cursor)

    async def reference(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """What completes a raw event (synfinance.features.reference): every customer's id, city and home, every
        merchant's id, category and reputation."""
        customers = await self.db.fetch(f"SELECT {_names(CUSTOMER_FIELDS)} FROM customers")  # noqa: S608
        merchants = await self.db.fetch(f"SELECT {_names(MERCHANT_FIELDS)} FROM merchants")  # noqa: S608
        return [dict(r) for r in customers], [dict(r) for r in merchants]

    async def _listing(self, table: str, alias: str, equal: dict[str, str | None], limit: int,
                       cursor: str | None) -> Page:
        """Rows of a population table matching every given column value, in key order."""
        where = Where()
        for column, value in equal.items():
            where.equal(f"{alias}.{column}", value)
        (key,) = TABLES[table].key
        select = f"SELECT {_columns(table, alias)} FROM {table} {alias}"
        return await _page(self.db, table, select, where, (f"{alias}.{key}",), (str,), limit, cursor)


class PredictionRepository:
    def __init__(self, db: Executor) -> None:
        self.db = db

    async def for_transaction(self, transaction_id: str) -> list[Row]:
        rows = await self.db.fetch(
            f"SELECT {_columns('predictions', 'p')} FROM predictions p WHERE p.transaction_id = $1 "
            "ORDER BY p.scored_at, p.model_version", transaction_id)
        return [_decoded(dict(r), "reasons") for r in rows]

    async def between(self, start: dt.datetime | None = None, end: dt.datetime | None = None, limit: int = 100,
                      cursor: str | None = None) -> Page:
        check_range(start, end)
        where = Where()
        if start is not None:
            where.add("p.scored_at >= {}", start)
        if end is not None:
            where.add("p.scored_at < {}", end)
        select = f"SELECT {_columns('predictions', 'p')} FROM predictions p"
        page = await _page(self.db, "predictions", select, where, ("p.scored_at", "p.transaction_id",
                                                                   "p.model_version"),
                           (dt.datetime, str, str), limit, cursor)
        return Page([_decoded(r, "reasons") for r in page.items], page.next_cursor)


def _decoded(row: Row, column: str) -> Row:
    if isinstance(row.get(column), str):
        row[column] = json.loads(row[column])
    return row


class Aggregates:
    """Fraud rates and amounts over a time range (both ends optional: from inclusive, to exclusive)."""

    def __init__(self, db: Executor) -> None:
        self.db = db

    def _range(self, start: dt.datetime | None, end: dt.datetime | None) -> Where:
        check_range(start, end)
        where = Where()
        if start is not None:
            where.add("timestamp >= {}", start)
        if end is not None:
            where.add("timestamp < {}", end)
        return where

    async def fraud_by_day(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Row]:
        where = self._range(start, end)
        rows = await self.db.fetch(
            "SELECT local_date AS day, count(*) AS transactions, count(*) FILTER (WHERE is_fraud) AS fraud, "
            "(count(*) FILTER (WHERE is_fraud))::float8 / count(*) AS fraud_rate "
            f"FROM transactions WHERE {where.sql} GROUP BY local_date ORDER BY local_date", *where.params)
        return [dict(r) for r in rows]

    async def fraud_by_type(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Row]:
        where = self._range(start, end)
        where.add("fraud_type IS NOT NULL")
        rows = await self.db.fetch(
            "SELECT fraud_type, count(*) AS transactions, sum(amount_inr) AS amount_inr "
            f"FROM transactions WHERE {where.sql} GROUP BY fraud_type ORDER BY count(*) DESC, fraud_type",
            *where.params)
        return [dict(r) for r in rows]
