"""serve/config.yaml is a valid Serve deploy config covering every deployment the app builds, each autoscaled."""

from __future__ import annotations

from pathlib import Path

import yaml
from ray.serve.schema import ServeDeploySchema

from actors.handles import SERVE_FAST_PATH
from serve.builder import build_app
from synfinance.settings import load_settings

CONFIG = Path(__file__).parents[2] / "serve" / "config.yaml"


def test_config_yaml_is_valid_and_autoscales_every_deployment() -> None:
    config = ServeDeploySchema.model_validate(yaml.safe_load(CONFIG.read_text()))
    (app,) = config.applications
    assert app.import_path == "serve.builder:app_builder"
    named = {d.name: d for d in app.deployments}
    built = build_app(load_settings(env="test").settings)
    ingress = built._bound_deployment  # noqa: SLF001 - the ingress; its bound arguments hold the rest
    bound = [a for a in ingress.init_args if hasattr(a, "_bound_deployment")]  # the deployments it calls
    names = {ingress.name} | {a._bound_deployment.name for a in bound}  # noqa: SLF001
    assert names == set(named)
    assert all(d.autoscaling_config for d in named.values())


def test_config_yaml_tunes_replicas_as_a_local_ray_is_tuned() -> None:
    (app,) = ServeDeploySchema.model_validate(yaml.safe_load(CONFIG.read_text())).applications
    assert SERVE_FAST_PATH.items() <= app.runtime_env["env_vars"].items()
