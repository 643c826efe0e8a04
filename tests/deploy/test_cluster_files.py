"""The cluster files in docs/deploy are what they claim: the launcher YAML passes Ray's own cluster-config
validation, and the KubeRay RayJob and RayService autoscale as it does, start Serve's fast path as a local Ray
does, and (RayService) deploy serve/config.yaml as it stands."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config
from ray.serve.schema import ServeDeploySchema

from actors.handles import SERVE_FAST_PATH

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def cluster() -> dict[str, Any]:
    return load(DEPLOY / "cluster.yaml")  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=["rayjob", "rayservice"])
def kuberay(request: pytest.FixtureRequest) -> dict[str, Any]:
    manifest = load(DEPLOY / "kuberay" / f"{request.param}.yaml")
    return manifest["spec"]["rayClusterSpec" if manifest["kind"] == "RayJob" else "rayClusterConfig"]  # type: ignore[no-any-return]


def test_the_launcher_yaml_passes_rays_cluster_config_validation(cluster: dict[str, Any]) -> None:
    validate_config(prepare_config(copy.deepcopy(cluster)))  # Ray's ray-schema.json, after Ray fills defaults
    misspelt = copy.deepcopy(cluster)
    misspelt["available_node_types"]["workers"]["min_worker"] = 0  # the validation is not a formality
    with pytest.raises(jsonschema.ValidationError, match="min_worker"):
        validate_config(prepare_config(misspelt))


def test_the_head_runs_no_work_and_the_workers_autoscale_from_zero(cluster: dict[str, Any]) -> None:
    head = cluster["available_node_types"][cluster["head_node_type"]]
    workers = [t for n, t in cluster["available_node_types"].items() if n != cluster["head_node_type"]]
    assert head["resources"] == {"CPU": 0}
    assert [(w["min_workers"], w["max_workers"]) for w in workers] == [(0, cluster["max_workers"])]


def test_kuberay_autoscales_as_the_launcher_does(cluster: dict[str, Any], kuberay: dict[str, Any]) -> None:
    (workers,) = (t for n, t in cluster["available_node_types"].items() if n != cluster["head_node_type"])
    assert kuberay["enableInTreeAutoscaling"] is True
    assert kuberay["autoscalerOptions"]["idleTimeoutSeconds"] == cluster["idle_timeout_minutes"] * 60
    assert kuberay["headGroupSpec"]["rayStartParams"]["num-cpus"] == str(
        cluster["available_node_types"][cluster["head_node_type"]]["resources"]["CPU"])
    (group,) = kuberay["workerGroupSpecs"]
    assert (group["minReplicas"], group["maxReplicas"]) == (workers["min_workers"], workers["max_workers"])


def test_every_node_starts_serves_fast_path(cluster: dict[str, Any], kuberay: dict[str, Any]) -> None:
    wanted = {f"{k}={v}" for k, v in SERVE_FAST_PATH.items()}
    for commands in (cluster["head_start_ray_commands"], cluster["worker_start_ray_commands"]):
        (start,) = (c for c in commands if "ray start" in c)
        assert wanted <= set(start.split())
    groups = [kuberay["headGroupSpec"], *kuberay["workerGroupSpecs"]]
    for group in groups:
        for container in group["template"]["spec"]["containers"]:
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert {k: env.get(k) for k in SERVE_FAST_PATH} == SERVE_FAST_PATH


def test_the_rayservice_deploys_serve_config_yaml_as_it_stands() -> None:
    service = load(DEPLOY / "kuberay" / "rayservice.yaml")
    embedded, ours = yaml.safe_load(service["spec"]["serveConfigV2"]), load(ROOT / "serve" / "config.yaml")
    assert embedded == ours
    ServeDeploySchema.model_validate(embedded)  # Ray Serve's own schema of a deploy config
    ingress = next(d for d in embedded["applications"][0]["deployments"] if d["name"] == "Ingress")
    assert ingress["autoscaling_config"]["min_replicas"] < ingress["autoscaling_config"]["max_replicas"]
