"""A real PostgreSQL for the store tests: one fresh, migrated schema per test (dropped after), plus a
module-wide schema holding the session dataset for the read-only query tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_schemas import fresh_schema, migrated

from synfinance.store.connect import Database
from synfinance.store.load import analyze_schema, load_dataset


@pytest.fixture(scope="module")
def loaded_db(pg_url: str, dataset_dir: Path) -> Iterator[Database]:
    """The session dataset loaded once per module (read-only tests share it)."""
    db = asyncio.run(migrated(fresh_schema(pg_url, "loaded")))

    async def load() -> None:
        await load_dataset(db, dataset_dir)
        conn = await db.connect(bulk=True)
        try:
            await analyze_schema(conn)
        finally:
            await conn.close()

    asyncio.run(load())
    yield db
    asyncio.run(db.drop_schema())
