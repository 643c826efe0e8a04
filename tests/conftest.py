"""Shared fixtures: one generated dataset per session, read back through the public reader."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("SYNFINANCE_ENV", "test")
# benchmark figures and quality runs of the tests stay out of the developer's .synfinance/ (gates read them)
_STATE = tempfile.mkdtemp(prefix="synfinance-test-state-")
os.environ.setdefault("SYNFINANCE_QUALITY__BENCH_DIR", os.path.join(_STATE, "bench"))
os.environ.setdefault("SYNFINANCE_QUALITY__HISTORY_PATH", os.path.join(_STATE, "quality-history.jsonl"))

from pg_schemas import database_url, drop_orphans, fresh_schema, migrated  # noqa: E402

from synfinance.errors import StoreUnavailable  # noqa: E402
from synfinance.generation import GenerationParams, GenerationPlan  # noqa: E402
from synfinance.output.dataset import read_dataset  # noqa: E402
from synfinance.runner import write_dataset  # noqa: E402
from synfinance.store.connect import Database  # noqa: E402

SESSION_PARAMS = GenerationParams(count=300_000, seed=7, customers=3_000, merchants=6_000)


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the whole session (2 CPUs, no dashboard), shut down at the end; tuned as
    `synfinance` tunes a Ray it starts (actors.handles.LOCAL_RAY_ENV)."""
    import ray

    from actors.handles import local_ray_env

    if not ray.is_initialized():
        # Serve drains a replica or proxy going away for 0.5 s (nothing here balances load in front of it)
        for drain in ("RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S", "RAY_SERVE_PROXY_MIN_DRAINING_PERIOD_S"):
            os.environ.setdefault(drain, "0.5")
        local_ray_env()
        os.environ.setdefault("RAY_metrics_report_interval_ms", "500")  # metrics reach the agent within a second
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def plan() -> GenerationPlan:
    return GenerationPlan(SESSION_PARAMS)


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset") / "ds"
    write_dataset(SESSION_PARAMS, out)
    return out


@pytest.fixture(scope="session")
def tables(dataset_dir: Path) -> dict[str, pa.Table]:
    return read_dataset(dataset_dir)


@pytest.fixture(scope="session")
def txns(tables: dict[str, pa.Table]) -> pa.Table:
    return tables["transactions"]


@pytest.fixture(scope="session")
def plain_txns() -> pa.Table:
    """The session's transactions without injected patterns: the base behavioural model alone."""
    from dataclasses import replace

    import synfinance

    p = replace(SESSION_PARAMS, patterns=False)
    return synfinance.generate(count=p.count, seed=p.seed, customers=p.customers, merchants=p.merchants, patterns=False)


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
    drop_orphans(url)  # what an interrupted run left behind
    return url


@pytest.fixture
def empty_db(pg_url: str) -> Iterator[Database]:
    """A schema that does not exist yet; dropped after the test."""
    db = fresh_schema(pg_url)
    yield db
    asyncio.run(db.drop_schema())


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    """A fresh schema with every migration applied; dropped after the test."""
    db = asyncio.run(migrated(fresh_schema(pg_url)))
    yield db
    asyncio.run(db.drop_schema())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak cases run only when asked for (-m soak, or SYNFINANCE_SOAK=1): the default suite stays bounded."""
    if "soak" in (config.getoption("-m") or "") or os.environ.get("SYNFINANCE_SOAK") == "1":
        return
    skip = pytest.mark.skip(reason="soak: run with -m soak (or SYNFINANCE_SOAK=1)")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
