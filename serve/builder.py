"""The Serve application from the settings: ingress, feature-store shards, scorer, query.

    serve run serve.builder:app_builder          # or `serve deploy serve/config.yaml`, or `synfinance api start`
"""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from serve.deployments import FeatureShard, Query, Scorer
from serve.ingress import Ingress
from synfinance.settings import Settings, load_settings

APP_NAME = "synfinance"


def build_app(settings: Settings, config_version: str = "-") -> Application:
    server = settings.server
    # mypy sees the classes, not the Deployments the decorators made of them.
    shards = [FeatureShard.options(name=f"FeatureShard{i}")  # type: ignore[attr-defined]
              .bind(i, server.feature_shards, server.warm_from) for i in range(server.feature_shards)]
    scorer = Scorer.bind(  # type: ignore[attr-defined]
        settings.ml, server.score_batch_max, server.score_batch_wait_ms)
    query = Query.bind(settings.database)  # type: ignore[attr-defined]
    return Ingress.options(num_replicas=server.replicas).bind(  # type: ignore[attr-defined,no-any-return]
        shards, scorer, query, settings.security, server.max_request_bytes, config_version, settings.monitoring)


def app_builder(args: dict[str, Any]) -> Application:
    """Entry point for `serve run` / `serve deploy`: settings from the environment (args may name `env`)."""
    loaded = load_settings(env=args.get("env"))
    return build_app(loaded.settings, loaded.version)
