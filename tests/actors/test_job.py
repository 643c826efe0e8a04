"""`ray job submit` of the generation job against a real `ray start --head` cluster (bounded: one small job)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from localhost import free_port, kill_processes_naming
from ray_jobs import submit_when_ready, until_it_ends

from synfinance.generation import GenerationParams
from synfinance.runner import write_dataset

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).parent / "ray")



@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    # the job's `python` is the first on the cluster's PATH: this virtualenv's, as when a user starts Ray from it
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("RAY_ADDRESS", None)
    dashboard = free_port()
    temp = tmp_path_factory.mktemp("ray")
    subprocess.run(
        [RAY, "start", "--head", "--num-cpus=2", f"--port={free_port()}", "--include-dashboard=true",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}", f"--ray-client-server-port={free_port()}",
         f"--dashboard-agent-listen-port={free_port()}",
         f"--temp-dir={temp}", "--disable-usage-stats"],
        env=env, check=True, capture_output=True, timeout=120,
    )
    try:
        yield f"http://127.0.0.1:{dashboard}", env
    finally:
        kill_processes_naming(temp)  # this cluster only


def test_generation_runs_as_a_ray_job(cluster: tuple[str, dict[str, str]], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ray.job_submission import JobStatus, JobSubmissionClient

    address, env = cluster
    monkeypatch.setenv("RAY_AUTH_MODE", env["RAY_AUTH_MODE"])
    params = GenerationParams(count=20_000, seed=5, customers=400, merchants=2_000, shard_size=100)
    out = tmp_path / "job-ds"
    client = JobSubmissionClient(address)
    job = submit_when_ready(client, (
        f"python -m synfinance generate transactions --count {params.count} --seed {params.seed} "
        f"--customers {params.customers} --merchants {params.merchants} --shard-size 100 --workers 2 --quiet "
        f"--out {out}"), {"working_dir": str(ROOT), "excludes": [
            ".venv", ".git", ".synfinance", ".hypothesis", "dataset", "models", "*.parquet"]})
    until_it_ends(client, job, 240)
    status = client.get_job_status(job)
    assert status == JobStatus.SUCCEEDED, client.get_job_logs(job)[-3000:]

    write_dataset(params, tmp_path / "reference")
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert files == json.loads((tmp_path / "reference" / "manifest.json").read_text())["files"]


def test_a_local_run_starts_its_own_ray_beside_a_started_cluster(tmp_path: Path) -> None:
    """`ray start` on the machine (in the default temp dir, here a private TMPDIR) must not capture a run that
    asks for a local Ray: it used to join that cluster and die on num_cpus."""
    private = Path(tempfile.mkdtemp(prefix="sfray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "TMPDIR": str(private), "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    subprocess.run([RAY, "start", "--head", "--num-cpus=1", f"--port={free_port()}", "--include-dashboard=false",
                    f"--dashboard-port={free_port()}", f"--ray-client-server-port={free_port()}",
                    f"--dashboard-agent-listen-port={free_port()}", "--disable-usage-stats"],
                   env=env, check=True, capture_output=True, timeout=120)
    try:
        done = subprocess.run([sys.executable, "-m", "synfinance", "generate", "transactions", "--count", "2000",
                               "--workers", "1", "--quiet", "--out", str(tmp_path / "ds")],
                              env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        assert (tmp_path / "ds" / "manifest.json").is_file()
    finally:
        kill_processes_naming(private)  # that cluster only
        shutil.rmtree(private, ignore_errors=True)
