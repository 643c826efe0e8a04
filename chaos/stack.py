"""The local stack a chaos scenario runs against: a dataset, a model, PostgreSQL behind a cuttable proxy, and
(for API scenarios) a Serve app of two ingress replicas whose database is reached through that proxy.

    with local_stack(work_dir, settings, api=True) as stack:     # what `synfinance chaos run` builds
        verdict = run(scenario, stack)

Tests build a Stack from their session fixtures instead (the same proxy, database and data).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from actors.handles import deploy, free_ports, serving, session
from chaos.proxy import TcpProxy
from serve.builder import build_app
from synfinance.generation import GenerationParams
from synfinance.model import registry
from synfinance.model.fitting import fit_model
from synfinance.runner import write_dataset
from synfinance.settings import Settings, load_settings
from synfinance.settings.models import DatabaseConfig
from synfinance.store.connect import Database
from synfinance.store.load import load_dataset
from synfinance.store.migrations import migrate

CHAOS_PARAMS = GenerationParams(count=40_000, seed=31, customers=400, merchants=800)
APP = "chaos"
KINDS = ("score", "query", "write")


@dataclass
class Stack:
    data: Path  # the dataset the app is warmed with and the database holds
    models: Path  # a registry with a deployed model
    db: Database  # PostgreSQL straight (for the verdict's counts), in the stack's own schema
    proxy: TcpProxy  # in front of PostgreSQL: the app, loads and sinks connect through it
    work: Path  # scratch space for pipeline runs
    base: str | None = None  # the API, when the stack has one
    keys: dict[str, str] = field(default_factory=dict)  # request kind -> API key
    acknowledged: list[dict[str, Any]] = field(default_factory=list)  # every write the app acknowledged, all runs

    def proxied(self, schema: str | None = None) -> Database:
        """The stack's database (or another schema of it) as SynFinance processes reach it: through the proxy."""
        parts = urlsplit(self.db.url)
        netloc = f"{parts.username or 'postgres'}@127.0.0.1:{self.proxy.port}"
        return Database(urlunsplit(parts._replace(netloc=netloc)), schema or self.db.schema, connect_timeout_s=2,
                        statement_timeout_s=self.db.statement_timeout_s)

    def database_config(self) -> dict[str, Any]:
        """Settings overrides that point an app at the proxied database (fast-failing, quick to recover)."""
        proxied = self.proxied()
        return {"database.enabled": True, "database.url": proxied.url, "database.schema_name": proxied.schema,
                "database.breaker.fail_max": 3, "database.breaker.reset_s": 1.0, "database.retry.attempts": 2,
                "database.retry.backoff_base_s": 0.05, "database.retry.deadline_s": 5.0,
                "database.connect_timeout_s": 2,
                "database.statement_timeout_s": 1.0}


def app_settings(stack: Stack, replicas: int = 2) -> Settings:
    """The chaos app: two ingress replicas, two feature shards warmed from the dataset, keys of its own."""
    keys = [{"name": f"chaos-{k}", "key": v, "scopes": ["admin"]} for k, v in stack.keys.items()]
    return load_settings(env="test", environ={}, overrides={
        "security.api_keys": keys, "security.rate_limit.requests_per_s": 100_000,
        "security.rate_limit.burst": 100_000, "server.replicas": replicas, "server.feature_store": "shards",
        "server.feature_shards": 2,
        "server.warm_from": str(stack.data), "ml.registry_path": str(stack.models),
        "server.timeout_s": 6.0, **stack.database_config()}).settings


def deploy_api(stack: Stack, base: str) -> None:
    """Run the chaos app on the Serve instance answering at `base` (its routes under /chaos)."""
    stack.keys = stack.keys or {k: secrets.token_hex(12) for k in KINDS}
    deploy(build_app(app_settings(stack), "chaos", APP), APP, f"/{APP}")
    stack.base = f"{base.rstrip('/')}/{APP}"


def prepared(work: Path, database: DatabaseConfig) -> tuple[Path, Path, Database]:
    """A dataset with features, a model trained and deployed on it, and a fresh schema holding both."""
    data, models = work / "data", work / "models"
    write_dataset(CHAOS_PARAMS, data, features=True)
    registry.deploy(models, fit_model(data, models, seed=1, num_threads=2).version)
    db = Database.from_config(database)
    db = Database(db.url, f"chaos_{uuid.uuid4().hex[:10]}")

    async def fill() -> None:
        await db.ensure_schema()
        await migrate(db)
        await load_dataset(db, data)

    asyncio.run(fill())
    return data, models, db


@contextlib.contextmanager
def local_stack(work: Path, settings: Settings, api: bool) -> Iterator[Stack]:
    """Everything a scenario needs, on this machine, torn down after (the schema is dropped)."""
    with session(settings.ray):
        data, models, db = prepared(work, settings.database)
        parts = urlsplit(db.url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
        stack = Stack(data, models, db, proxy, work)
        try:
            if not api:
                yield stack
                return
            (port,) = free_ports(1)
            with serving("127.0.0.1", port):
                deploy_api(stack, f"http://127.0.0.1:{port}")
                yield stack
        finally:
            proxy.stop()
            asyncio.run(db.drop_schema())

