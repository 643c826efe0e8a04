"""Connections: statement timeouts from the config, URLs shown without their password."""

from __future__ import annotations

import asyncpg
import pytest

from synfinance.errors import ConfigError
from synfinance.settings.models import DatabaseConfig
from synfinance.store.connect import Database, check_url, where

pytestmark = pytest.mark.postgres


async def test_the_pool_enforces_the_statement_timeout(pg_url: str) -> None:
    db = Database.from_config(DatabaseConfig(url=pg_url, statement_timeout_s=0.2))
    pool = await db.pool()
    try:
        with pytest.raises(asyncpg.QueryCanceledError):
            await pool.fetchval("SELECT pg_sleep(5)")
        assert await pool.fetchval("SHOW statement_timeout") == "200ms"
        assert await pool.fetchval("SHOW search_path") == "public"
    finally:
        await pool.close()


async def test_bulk_connections_lift_the_timeout(pg_url: str) -> None:
    conn = await Database(pg_url, statement_timeout_s=0.2).connect(bulk=True)
    try:
        assert await conn.fetchval("SHOW statement_timeout") == "0"
    finally:
        await conn.close()


def test_where_never_shows_the_password() -> None:
    assert where("postgresql://app:s3cret@db.internal:6543/prod") == "app@db.internal:6543/prod"


@pytest.mark.parametrize("url", ["mysql://h/db", "postgresql:///db", "not a url", "postgresql://h:99999/db"])
def test_check_url_names_the_setting(url: str) -> None:
    with pytest.raises(ConfigError, match=r"database\.url"):
        check_url(url)
