"""`synfinance api start --detach | status | stop` as a user runs them: real processes, a real Ray, real HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from localhost import free_port, wait_for

pytestmark = pytest.mark.ray



def test_start_detached_status_reload_and_stop(tmp_path: Path) -> None:
    cli = shutil.which("synfinance", path=str(Path(sys.executable).parent))
    assert cli is not None
    config = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config)
    env = {**os.environ, "SYNFINANCE_SERVER__STATE_DIR": str(tmp_path / "state"), "SYNFINANCE_ENV": "test",
           "SYNFINANCE_CONFIG_DIR": str(config),
           "SYNFINANCE_ML__REGISTRY_PATH": str(tmp_path / "no-models"), "SYNFINANCE_SERVER__FEATURE_SHARDS": "1",
           "RAY_USAGE_STATS_ENABLED": "0"}
    port = free_port()
    agents = ray_agents()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([cli, "api", *args], env=env, capture_output=True, text=True, timeout=300)

    started = run("start", "--detach", "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        assert f"http://127.0.0.1:{port}" in started.stdout
        assert requests.get(f"http://127.0.0.1:{port}/health/live", timeout=30).status_code == 200
        # no model in that registry: not ready, and the status says why
        assert requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=30).status_code == 503
        status = run("status")
        assert status.returncode == 0 and "running" in status.stdout and "model: unavailable" in status.stdout
        again = run("start", "--detach", "--port", str(port))
        assert again.returncode != 0 and "running already" in again.stderr + again.stdout
        # a configuration edit reaches the running API: it is redeployed on the new settings
        before = requests.get(f"http://127.0.0.1:{port}/health", timeout=30).json()["config_version"]
        test_yaml = config / "test.yaml"
        test_yaml.write_text(test_yaml.read_text().replace("log_level: WARNING", "log_level: ERROR"))

        def version() -> str | None:
            try:
                return str(requests.get(f"http://127.0.0.1:{port}/health", timeout=30).json()["config_version"])
            except (requests.RequestException, ValueError, KeyError):
                return None  # replicas being replaced

        wait_for(lambda: version() not in (before, None), 120, "the edited configuration to be in force")
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0 and "stopped API" in stopped.stdout
    assert run("status").returncode == 1
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health/live", timeout=5)
    # the API's own Ray went with it: no agent of its node is left behind
    wait_for(lambda: ray_agents() <= agents, 20, "the API's Ray agents to exit")  # left alone they linger ~1 min


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
