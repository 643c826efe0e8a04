"""Helpers for the store tests: the test database URL and throw-away schemas."""

from __future__ import annotations

import os
import uuid

import asyncpg

from synfinance.store.connect import Database
from synfinance.store.migrations import MigrationRunner

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def database_url() -> str:
    return os.environ.get("SYNFINANCE_DATABASE__URL", DEFAULT_URL)


async def drop_schema(db: Database) -> None:
    conn = await asyncpg.connect(db.url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE')
    finally:
        await conn.close()


async def migrated(db: Database) -> Database:
    await db.ensure_schema()
    conn = await db.connect()
    try:
        await MigrationRunner(conn).migrate()
    finally:
        await conn.close()
    return db


def fresh_schema(url: str, prefix: str = "t") -> Database:
    return Database(url, f"{prefix}_{uuid.uuid4().hex[:12]}")


