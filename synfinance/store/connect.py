"""Connections to PostgreSQL from DatabaseConfig: search path, timeouts, and one clear line when it fails."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from synfinance.errors import ConfigError, Problem, StoreUnavailable
from synfinance.settings.models import DatabaseConfig

URL_FORM = "postgresql://user[:password]@host[:port]/database"


def where(url: str) -> str:
    """host:port/database of a URL, never its password."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError:
        return "<unparsable URL>"
    user = f"{parts.username}@" if parts.username else ""
    return f"{user}{parts.hostname or 'localhost'}:{port}{parts.path or '/'}"


def check_url(url: str) -> None:
    """Raise ConfigError naming database.url unless it is a PostgreSQL URL with a host."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        shown = f"{parts.scheme}://{where(url)}" if parts is not None else "<unparsable URL>"
        raise ConfigError([Problem("database.url", shown, f"a URL of the form {URL_FORM}")])


def unavailable(url: str, exc: BaseException) -> StoreUnavailable:
    """The one-line error for a failed connection: which server, what went wrong."""
    reason = _reason(exc)
    return StoreUnavailable(f"PostgreSQL at {where(url)}: {reason}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return f"authentication failed ({exc})"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"database does not exist ({exc})"
    if isinstance(exc, socket.gaierror):
        return "unknown host (name resolution failed)"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "no answer in time (server down, or a firewall dropping packets?)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running and listening there?)"
    if isinstance(exc, OSError):
        return f"cannot connect: {exc.strerror or exc}"
    if isinstance(exc, asyncpg.PostgresError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


# What a connection can fail with before SynFinance gets to use it.
CONNECT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
# asyncpg's errors that say the server is unhealthy (for synfinance.resilience.Guard), not that a query is wrong.
FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.CannotConnectNowError)
# What a bulk write retries on a new connection: the above, a failed connect, a dropped socket.
RETRYABLE: tuple[type[BaseException], ...] = (*FAILURES, StoreUnavailable, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Database:
    """Where SynFinance's tables live (URL and schema) and how long a connection and a statement may take."""

    url: str
    schema: str = "public"
    connect_timeout_s: float = 5.0
    statement_timeout_s: float | None = 5.0
    pool_min: int = 1
    pool_max: int = 10

    @classmethod
    def from_config(cls, config: DatabaseConfig) -> Database:
        url = config.url.get_secret_value()
        check_url(url)
        return cls(url, config.schema_name, config.connect_timeout_s, config.statement_timeout_s,
                   config.pool.min_size, config.pool.max_size)

    @property
    def where(self) -> str:
        return f"{where(self.url)} (schema {self.schema})"

    def server_settings(self, statement_timeout_s: float | None, application: str = "synfinance") -> dict[str, str]:
        timeout_ms = 0 if statement_timeout_s is None else max(1, round(statement_timeout_s * 1000))
        return {
            "search_path": self.schema,
            "statement_timeout": str(timeout_ms),
            "application_name": application,
            "TimeZone": "UTC",
        }

    async def connect(self, bulk: bool = False, application: str = "synfinance") -> asyncpg.Connection:
        """One connection with the configured statement timeout; bulk=True lifts it (loads, index builds). The
        server lists it under `application` (pg_stat_activity.application_name)."""
        timeout = None if bulk else self.statement_timeout_s
        try:
            return await asyncpg.connect(self.url, timeout=self.connect_timeout_s,
                                         server_settings=self.server_settings(timeout, application))
        except CONNECT_ERRORS as exc:
            raise unavailable(self.url, exc) from exc

    async def pool(self, **overrides: Any) -> asyncpg.Pool:
        """A connection pool sized from the config, every connection with the statement timeout."""
        try:
            pool = await asyncpg.create_pool(
                self.url, min_size=self.pool_min, max_size=self.pool_max, timeout=self.connect_timeout_s,
                server_settings=self.server_settings(self.statement_timeout_s), **overrides,
            )
        except CONNECT_ERRORS as exc:
            raise unavailable(self.url, exc) from exc
        assert pool is not None
        return pool

    async def drop_schema(self) -> None:
        """Drop the schema and everything in it (tests and benchmarks work in throw-away schemas)."""
        await self._execute(f"DROP SCHEMA IF EXISTS {quote_ident(self.schema)} CASCADE")

    async def ensure_schema(self) -> None:
        """Create the schema if it is missing (migrations create the tables in it)."""
        await self._execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")

    async def _execute(self, sql: str) -> None:
        """One statement on a connection of its own."""
        conn = await self.connect()
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


def quote_ident(name: str) -> str:
    """A safely quoted SQL identifier (schema and table names cannot be bind parameters)."""
    return '"' + name.replace('"', '""') + '"'
