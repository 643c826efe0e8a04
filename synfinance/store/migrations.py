"""Versioned SQL migrations: NNNN_name.up.sql / NNNN_name.down.sql, applied one transaction each.

A `schema_migrations` table records version, name, checksum (sha256 of the up file) and time. A session
advisory lock keyed on the schema serialises runners, so two never race. An applied file whose checksum
changed, or that disappeared, stops every migration until someone looks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg

from synfinance._bundled import resource_dir
from synfinance.errors import MigrationError
from synfinance.store.connect import Database
from synfinance.store.sqlfile import split_statements

T = TypeVar("T")
MIGRATIONS_DIR = resource_dir("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$")

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up: Path
    down: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up.read_bytes()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    checksum: str
    applied_at: dt.datetime


@dataclass(frozen=True)
class MigrationState:
    version: int
    name: str
    state: str  # applied | pending | changed (file edited after it ran) | missing (file gone)
    applied_at: dt.datetime | None


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration pair in the directory, by version; a lone half or a stray file is an error."""
    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    halves: dict[int, dict[str, Path]] = {}
    names: dict[int, str] = {}
    problems = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if m is None:
            problems.append(f"{path.name}: expected NNNN_name.up.sql or NNNN_name.down.sql")
            continue
        version = int(m.group(1))
        if names.setdefault(version, m.group(2)) != m.group(2):
            problems.append(f"{path.name}: version {version:04d} is also used by {names[version]}")
        halves.setdefault(version, {})[m.group(3)] = path
    for version, pair in sorted(halves.items()):
        for half in ("up", "down"):
            if half not in pair:
                problems.append(f"{version:04d}_{names[version]}: the .{half}.sql file is missing")
    if problems:
        raise MigrationError("; ".join(problems))
    return [Migration(v, names[v], p["up"], p["down"]) for v, p in sorted(halves.items())]


class MigrationRunner:
    """Applies and rolls back migrations on one connection, holding the schema's advisory lock meanwhile."""

    def __init__(self, conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> None:
        self.conn, self.directory = conn, directory

    async def status(self) -> list[MigrationState]:
        migrations = discover(self.directory)
        async with self._locked():
            applied = await self._applied()
        return _states(migrations, applied)

    async def migrate(self, to: int | None = None) -> list[Migration]:
        """Apply pending migrations up to version `to` (default: all); returns those applied."""
        migrations = discover(self.directory)
        if to is not None and to not in {m.version for m in migrations} | {0}:
            raise MigrationError(f"--to: no migration has version {to}; known: {_versions(migrations)}")
        async with self._locked():
            applied = await self._applied()
            _refuse_drift(_states(migrations, applied))
            target = max((m.version for m in migrations), default=0) if to is None else to
            todo = [m for m in migrations if m.version not in applied and m.version <= target]
            for migration in todo:
                await self._run(migration, migration.up, record=True)
            return todo

    async def rollback(self, steps: int = 1) -> list[Migration]:
        """Undo the last `steps` applied migrations, newest first; returns those undone."""
        if steps < 1:
            raise MigrationError(f"--steps: expected at least 1, got {steps}")
        migrations = {m.version: m for m in discover(self.directory)}
        async with self._locked():
            applied = await self._applied()
            _refuse_drift(_states(list(migrations.values()), applied))
            undo = [migrations[v] for v in sorted(applied, reverse=True)[:steps]]
            for migration in undo:
                await self._run(migration, migration.down, record=False)
            return undo

    async def _run(self, migration: Migration, path: Path, record: bool) -> None:
        statements = split_statements(path.read_text())
        async with self.conn.transaction():
            for number, statement in enumerate(statements, 1):
                try:
                    await self.conn.execute(statement.text)
                except asyncpg.PostgresError as exc:
                    raise MigrationError(
                        f"{path.name}: statement {number} at line {statement.line} failed and the migration was "
                        f"rolled back: {type(exc).__name__}: {exc} -- in: {statement.summary}"
                    ) from exc
            if record:
                await self.conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum,
                )
            else:
                await self.conn.execute("DELETE FROM schema_migrations WHERE version = $1", migration.version)

    async def _applied(self) -> dict[int, Applied]:
        await self.conn.execute(_LEDGER)
        rows = await self.conn.fetch("SELECT version, name, checksum, applied_at FROM schema_migrations")
        return {r["version"]: Applied(r["version"], r["name"], r["checksum"], r["applied_at"]) for r in rows}

    def _locked(self) -> _AdvisoryLock:
        return _AdvisoryLock(self.conn)


class _AdvisoryLock:
    """Session-level pg_advisory_lock keyed on the current schema; released even when a migration fails."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def __aenter__(self) -> None:
        await self.conn.execute("SELECT pg_advisory_lock(hashtext('synfinance_migrations:' || current_schema()))")

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.execute("SELECT pg_advisory_unlock(hashtext('synfinance_migrations:' || current_schema()))")


def _states(migrations: Sequence[Migration], applied: dict[int, Applied]) -> list[MigrationState]:
    states = []
    known = {m.version for m in migrations}
    for m in migrations:
        done = applied.get(m.version)
        if done is None:
            states.append(MigrationState(m.version, m.name, "pending", None))
        else:
            state = "applied" if done.checksum == m.checksum else "changed"
            states.append(MigrationState(m.version, m.name, state, done.applied_at))
    for version in sorted(set(applied) - known):
        states.append(MigrationState(version, applied[version].name, "missing", applied[version].applied_at))
    return sorted(states, key=lambda s: s.version)


def _refuse_drift(states: list[MigrationState]) -> None:
    why = {"changed": "was edited after it was applied (checksum differs)",
           "missing": "was applied but its file is gone"}
    bad = [f"{s.version:04d}_{s.name} {why[s.state]}" for s in states if s.state in why]
    if bad:
        raise MigrationError(f"refusing to migrate: {', '.join(bad)}; restore the file or add a new migration instead")


def _versions(migrations: Sequence[Migration]) -> str:
    return ", ".join(str(m.version) for m in migrations) or "none"


async def with_runner(db: Database, work: Callable[[MigrationRunner], Awaitable[T]],
                      directory: Path = MIGRATIONS_DIR) -> T:
    """Create the schema if it is missing, then run `work` with a runner on a connection of its own."""
    await db.ensure_schema()
    conn = await db.connect(bulk=True)
    try:
        return await work(MigrationRunner(conn, directory))
    finally:
        await conn.close()


async def migrate(db: Database, to: int | None = None, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply pending migrations to the database's schema (creating it); returns those applied."""
    return await with_runner(db, lambda runner: runner.migrate(to), directory)


async def current_version(conn: asyncpg.Connection) -> int:
    """The highest applied version in the connection's schema (0 before any migration)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))
