"""`synfinance api start --detach | status | stop` as a user runs them: real processes, a real Ray, real HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from examples import example
from localhost import descendants, free_port, held_ports, wait_for

from actors.handles import CHOSEN, HAPROXY_PORTS
from synfinance.cli import main
from synfinance.generation import GenerationParams
from synfinance.model import registry
from synfinance.model.fitting import fit_model
from synfinance.runner import write_dataset

pytestmark = pytest.mark.ray



OPS_KEY = "ops-key-for-the-cli-test"
HAPROXY_DEFAULTS = (8404, 9101)  # Ray's RAY_SERVE_HAPROXY_STATS_PORT and RAY_SERVE_HAPROXY_METRICS_PORT


@pytest.fixture
def other_haproxy() -> Iterator[list[int]]:
    """Another Serve's HAProxy on the machine: its stats and metrics ports held, Ray's defaults (where free) and
    two of its own (actors.handles.local_ray_env chose them in a SynFinance process)."""
    with held_ports(2, also=HAPROXY_DEFAULTS) as taken:
        yield taken


def test_start_detached_status_reload_and_stop(tmp_path: Path, other_haproxy: list[int]) -> None:
    """The --help examples of api, cache, health and metrics, against one detached API (each example's --url or
    --port pointed at this test's; the later option wins), started beside another Serve's HAProxy."""
    cli = shutil.which("synfinance", path=str(Path(sys.executable).parent))
    assert cli is not None
    config = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config)
    models = tmp_path / "models"
    env = {**os.environ, "SYNFINANCE_SERVER__STATE_DIR": str(tmp_path / "state"), "SYNFINANCE_ENV": "test",
           "SYNFINANCE_CONFIG_DIR": str(config),
           "SYNFINANCE_ML__REGISTRY_PATH": str(models), "SYNFINANCE_SERVER__FEATURE_SHARDS": "1",
           "SYNFINANCE_SECURITY__API_KEYS": json.dumps([{"name": "ops", "key": OPS_KEY, "scopes": ["admin"]}]),
           "SYNFINANCE_API_KEY": OPS_KEY, "RAY_USAGE_STATS_ENABLED": "0"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def spawn(*args: str) -> subprocess.CompletedProcess[str]:
        """A command as its own process (api start and stop: the detached API is their child)."""
        return subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        """A client command in this process (an interpreter start saved per call), same environment and folder."""
        with contextlib.chdir(tmp_path):
            done = CliRunner().invoke(main, list(args), env={k: v for k, v in env.items() if k not in os.environ
                                                             or os.environ[k] != v})
        return subprocess.CompletedProcess(args, done.exit_code, done.stdout, done.stderr)

    for name, held in zip(HAPROXY_PORTS, other_haproxy, strict=True):
        env[name] = env[CHOSEN + name] = str(held)  # as inherited from a SynFinance process whose Ray chose them
    started = spawn(*example("api", "start"), "--port", str(port), "--json")
    try:
        assert started.returncode == 0, started.stderr
        assert json.loads(started.stdout)["url"] == url
        agents = ray_agents() & descendants(json.loads(started.stdout)["pid"])  # its own Ray's (not another's)
        assert agents, "the API's Ray has no agent processes"
        assert requests.get(f"{url}/health/live", timeout=30).status_code == 200
        # no model in that registry: not ready, and the status says why
        assert requests.get(f"{url}/health/ready", timeout=30).status_code == 503
        status = run(*example("api", "status"))
        assert status.returncode == 0 and "running" in status.stdout and "model: unavailable" in status.stdout
        assert run(*example("health", "check"), "--url", url).returncode == 1  # not ready: no model
        again = spawn("api", "start", "--detach", "--port", str(port))
        assert again.returncode != 0 and "running already" in again.stderr + again.stdout

        # a model deployed to its registry is picked up; the caches are warmed from a dataset, shown and cleared
        write_dataset(GenerationParams(count=20_000, seed=3, customers=200, merchants=500), tmp_path / "dataset",
                      features=True)
        registry.deploy(models, fit_model(tmp_path / "dataset", models, seed=1, num_threads=2).version)
        warmed = run(*example("cache", "warm"), "--url", url, "--json")
        assert warmed.returncode == 0, warmed.stderr
        report = json.loads(warmed.stdout)
        assert report["replayed_rows"] == 20_000 and report["features"]["customers"] == 200
        assert report["model"]["versions"] == ["v0001"] and report["model"]["bytes"] > 0
        scored = run(*example("api", "score"), "--json")
        assert scored.returncode == 0, scored.stderr
        assert len(json.loads(scored.stdout)["scored"]) == 5
        checked = run(*example("health", "check"), "--url", url, "--json")
        assert checked.returncode == 0 and json.loads(checked.stdout)["ready_for_route"] is True
        stats = run(*example("cache", "stats"), "--url", url, "--json")
        assert json.loads(stats.stdout)["features"]["customers"] >= 200

        def exported() -> str:
            """A snapshot of the API's /metrics: the scores show once Ray's agent has the replica's next report (every
            ~10 s), not at once."""
            done = run(*example("metrics", "export"), "--source", "api", "--url", url, "--json")
            assert done.returncode == 0 and json.loads(done.stdout)["source"] == f"api {url}", done.stderr
            return (tmp_path / "metrics.prom").read_text()

        wait_for(lambda: "synfinance_scores_total{" in exported(), 60, "the scores in a snapshot of the API's metrics")
        cleared = run(*example("cache", "clear"), "--url", url, "--json")
        assert cleared.returncode == 0 and json.loads(cleared.stdout)["features"]["customers"] == 0
        refused = run(*example("cache", "stats"), "--url", url, "--key", "not-a-key")
        assert refused.returncode == 1 and "HTTP 401" in refused.stderr and "Traceback" not in refused.stderr

        # a configuration edit reaches the running API: it is redeployed on the new settings
        before = requests.get(f"{url}/health", timeout=30).json()["config_version"]
        test_yaml = config / "test.yaml"
        test_yaml.write_text(test_yaml.read_text().replace("log_level: WARNING", "log_level: ERROR"))

        def version() -> str | None:
            try:
                return str(requests.get(f"{url}/health", timeout=30).json()["config_version"])
            except (requests.RequestException, ValueError, KeyError):
                return None  # replicas being replaced

        wait_for(lambda: version() not in (before, None), 120, "the edited configuration to be in force")
    finally:
        stopped = spawn(*example("api", "stop"), "--json")
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["stopped_pid"] > 0
    assert run("api", "status").returncode == 1
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/health/live", timeout=5)
    # the API's own Ray went with it: no agent of its node is left behind
    wait_for(lambda: not ray_agents() & agents, 20, "the API's Ray agents to exit")  # left alone they linger ~1 min


def ray_agents() -> set[int]:
    """Pids of Ray's per-node agent processes on this machine."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            title = (proc / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if proc.name.isdigit() and (b"DashboardAgent" in title or b"RuntimeEnvAgent" in title):
            found.add(int(proc.name))
    return found
