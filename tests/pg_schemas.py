"""Helpers for the store tests: the test database URL and throw-away schemas."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from synfinance.store.connect import Database
from synfinance.store.migrations import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def database_url() -> str:
    return os.environ.get("SYNFINANCE_DATABASE__URL", DEFAULT_URL)


async def migrated(db: Database) -> Database:
    await migrate(db)
    return db


def fresh_schema(url: str, prefix: str = "t") -> Database:
    return Database(url, f"{prefix}_{uuid.uuid4().hex[:12]}")


async def count_rows(db: Database, table: str) -> int:
    """Rows in one of the schema's tables (table names come from the tests, never from input)."""
    conn = await db.connect()
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


def execute(db: Database, sql: str, *args: object) -> None:
    """One statement (from the tests, with bind parameters) on a connection of its own."""
    async def run() -> None:
        conn = await db.connect()
        try:
            await conn.execute(sql, *args)
        finally:
            await conn.close()

    asyncio.run(run())


def fetch(db: Database, sql: str, *args: object) -> list[dict[str, Any]]:
    """The rows of one query (from the tests, with bind parameters), on a connection of its own."""
    async def run() -> list[dict[str, Any]]:
        conn = await db.connect()
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())
