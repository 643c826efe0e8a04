"""Helpers for the store tests: the test database URL and throw-away schemas."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from synfinance.store.connect import Database
from synfinance.store.migrations import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def database_url() -> str:
    return os.environ.get("SYNFINANCE_DATABASE__URL", DEFAULT_URL)


async def migrated(db: Database) -> Database:
    await migrate(db)
    return db


# A throw-away schema is named for the test process that made it, so that a later session can tell one left by a
# run interrupted before its teardown (the process is gone) from one still in use (by this or another session).
THROWAWAY = re.compile(r"^[a-z]+_(\d+)_[0-9a-f]{8}$")
LOCAL_HOSTS = {"", "127.0.0.1", "localhost", "::1"}


def schema_name(prefix: str = "t") -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def fresh_schema(url: str, prefix: str = "t") -> Database:
    return Database(url, schema_name(prefix))


def drop_orphans(url: str) -> list[str]:
    """Drop the throw-away schemas whose test process is gone; only where the database runs on this machine (a pid
    means nothing elsewhere). The names dropped."""
    if (urlsplit(url).hostname or "") not in LOCAL_HOSTS:
        return []
    names = [r["nspname"] for r in fetch(Database(url), "SELECT nspname FROM pg_namespace")]
    orphans = [n for n in names if (m := THROWAWAY.match(n)) and not Path(f"/proc/{m.group(1)}").exists()]
    for name in orphans:
        asyncio.run(Database(url, name).drop_schema())
    return orphans


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
