"""A real PostgreSQL for the store tests: one fresh, migrated schema per test (dropped after), plus a
module-wide schema holding the session dataset for the read-only query tests."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from synfinance.errors import StoreUnavailable
from synfinance.store.connect import Database
from synfinance.store.load import load_dataset
from synfinance.store.migrations import MigrationRunner

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def database_url() -> str:
    return os.environ.get("SYNFINANCE_DATABASE__URL", DEFAULT_URL)


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = database_url()

    async def probe() -> None:
        conn = await Database(url).connect()
        await conn.close()

    try:
        asyncio.run(probe())
    except StoreUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {exc}")
        pytest.skip(f"no PostgreSQL: {exc} (scripts/test starts one)")
    return url


async def _drop(db: Database) -> None:
    conn = await asyncpg.connect(db.url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE')
    finally:
        await conn.close()


async def _migrated(db: Database) -> Database:
    await db.ensure_schema()
    conn = await db.connect()
    try:
        await MigrationRunner(conn).migrate()
    finally:
        await conn.close()
    return db


def fresh_schema(url: str, prefix: str = "t") -> Database:
    return Database(url, f"{prefix}_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def empty_db(pg_url: str) -> Iterator[Database]:
    """A schema that does not exist yet; dropped after the test."""
    db = fresh_schema(pg_url)
    yield db
    asyncio.run(_drop(db))


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    """A fresh schema with every migration applied; dropped after the test."""
    db = asyncio.run(_migrated(fresh_schema(pg_url)))
    yield db
    asyncio.run(_drop(db))


@pytest.fixture(scope="module")
def loaded_db(pg_url: str, dataset_dir: Path) -> Iterator[Database]:
    """The session dataset loaded once per module (read-only tests share it)."""
    db = asyncio.run(_migrated(fresh_schema(pg_url, "loaded")))

    async def load() -> None:
        await load_dataset(db, dataset_dir)
        conn = await db.connect(statement_timeout_s=None)
        try:
            await conn.execute("ANALYZE")
        finally:
            await conn.close()

    asyncio.run(load())
    yield db
    asyncio.run(_drop(db))
