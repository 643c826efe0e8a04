"""One Serve app for the API tests: a small dataset, a model trained on it, PostgreSQL behind a cuttable proxy.

The app is reached over real HTTP on 127.0.0.1; its database URL points at chaos.proxy.TcpProxy so a
test can take PostgreSQL away for real and give it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from api_app import API_PARAMS, CORS_ORIGIN, Api, app_settings
from localhost import free_port, wait_for
from pg_schemas import fresh_schema, migrated

from chaos.proxy import TcpProxy
from synfinance.model import registry
from synfinance.model.fitting import fit_model
from synfinance.runner import write_dataset
from synfinance.store.load import load_dataset


@pytest.fixture(scope="session")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A dataset with features and a model trained and deployed on it."""
    root = tmp_path_factory.mktemp("api")
    data, models = root / "ds", root / "models"
    write_dataset(API_PARAMS, data, features=True)
    fitted = fit_model(data, models, seed=1, num_threads=2)
    registry.deploy(models, fitted.version)
    return data, models


@pytest.fixture(scope="session")
def api(ray_session: None, pg_url: str, api_data: tuple[Path, Path]) -> Iterator[Api]:
    from ray import serve

    from serve.builder import build_app

    data, models = api_data
    db = asyncio.run(migrated(fresh_schema(pg_url, "api")))
    asyncio.run(load_dataset(db, data))
    parts = urlsplit(pg_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"))
    port = free_port()
    loaded = app_settings(port, models, {
        "server.warm_from": str(data), "database.enabled": True, "database.url": proxied,
        "database.schema_name": db.schema, "database.breaker.fail_max": 3, "database.breaker.reset_s": 1.0,
        "database.retry.attempts": 2, "database.retry.backoff_base_s": 0.05, "database.connect_timeout_s": 2,
        "database.statement_timeout_s": 5, "security.cors_origins": [CORS_ORIGIN]})
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app(loaded.settings, loaded.version), name="synfinance", route_prefix="/")
    client = Api(f"http://127.0.0.1:{port}", data, models, db, proxy, loaded)
    wait_for(lambda: client.get("/health/ready", None).status_code == 200, what="the app to be ready")
    yield client
    serve.delete("synfinance")
    serve.shutdown()
    proxy.stop()
    asyncio.run(db.drop_schema())


@pytest.fixture(scope="session")
def no_model_api(api: Api, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second app on the same Serve instance, with an empty model registry and no database."""
    from ray import serve

    from serve.builder import build_app

    empty = tmp_path_factory.mktemp("no-models")
    loaded = app_settings(free_port(), empty, {"server.feature_shards": 1})  # port unused: one proxy for both
    serve.run(build_app(loaded.settings, loaded.version), name="nomodel", route_prefix="/nomodel")
    return api.base + "/nomodel"
