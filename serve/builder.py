"""The Serve application from the settings: ingress (holding the feature store and model, or calling its shard
actors), query.

    serve run serve.builder:app_builder          # or `serve deploy serve/config.yaml`, or `synfinance api start`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.serve import Application
from ray.serve.config import DeploymentActorConfig
from ray.serve.schema import LoggingConfig

from actors.handles import LIMIT_BANK, FeatureShards
from actors.live import hub_name
from serve.deployments import FeatureShard, FeatureStoreSpec, LimitBank, Query
from serve.ingress import Ingress
from synfinance.errors import ValidationError
from synfinance.settings import Settings, load_settings

APP_NAME = "synfinance"


def build_app(settings: Settings, config_version: str = "-", name: str = APP_NAME,
              autoscaling: dict[str, Any] | None = None) -> Application:
    """The app; its processes follow live configuration changes published to hub_name(name) (actors.live). With
    `autoscaling` (Serve's autoscaling_config, as serve/config.yaml gives the Ingress) the ingress replicas
    follow the load instead of server.replicas."""
    server = settings.server
    live = (hub_name(name), config_version)
    if server.feature_store == "ingress" and autoscaling:
        raise ValidationError.single("server.feature_store", server.feature_store,
                                     "shards when the ingress autoscales (each replica would hold its own copy of "
                                     "every customer's state)")
    store = FeatureStoreSpec(server.feature_shards, server.warm_from, settings.ml, settings.monitoring,
                             settings.database, embedded=server.feature_store == "ingress")
    shards = [] if store.embedded else [
        DeploymentActorConfig(name=FeatureShards.name(i), actor_class=FeatureShard, actor_options={"num_cpus": 0},
                              init_args=store.shard_args(i, live))
        for i in range(store.shards)]
    bank = DeploymentActorConfig(name=LIMIT_BANK, actor_class=LimitBank, actor_options={"num_cpus": 0})
    # mypy sees the classes, not the Deployments the decorators made of them.
    # Serve's own lines as JSON too, and no second access line (the ingress writes http.request with the trace)
    serve_logs = LoggingConfig(encoding="JSON", enable_access_log=False, log_level=settings.monitoring.log_level)
    query = Query.options(logging_config=serve_logs).bind(  # type: ignore[attr-defined]
        settings.database, settings.monitoring, live)
    replicas: dict[str, Any] = {"autoscaling_config": autoscaling} if autoscaling else {"num_replicas": server.replicas}
    ingress = Ingress.options(**replicas, deployment_actors=[*shards, bank],  # type: ignore[attr-defined]
                              logging_config=serve_logs)
    return ingress.bind(  # type: ignore[no-any-return]
        store, query, settings.security, server.max_request_bytes, config_version,
        settings.monitoring, live, disk_paths(settings), server.timeout_s)


def disk_paths(settings: Settings) -> tuple[Path, ...]:
    """Where the app writes, whose free space /health reports: the model registry, its state, its traces."""
    tracing = settings.monitoring.tracing
    return (settings.ml.registry_path, settings.server.state_dir,
            *([Path(tracing.file_dir)] if tracing.exporter == "file" else []))


def app_builder(args: dict[str, Any]) -> Application:
    """Entry point for `serve run` / `serve deploy`: settings from the environment (args may name `env`)."""
    loaded = load_settings(env=args.get("env"))
    return build_app(loaded.settings, loaded.version)
