"""The generation job on a simulated autoscaling cluster: Ray's fake multi-node provider on this
machine, a head with no CPUs and a worker node type of 1 CPU from 0 to 3 nodes. `ray job submit` of
`generate transactions --workers 3 --features`, each worker asking for half a CPU (`ray.worker_cpus`, set in the
job's environment), makes the autoscaler add two nodes (three half-CPU workers fit in two), the output has the
in-process run's manifest hashes, and the idle nodes are removed afterwards.

Ray's own `ray.cluster_utils.AutoscalingCluster` is not used: it runs `ray stop --force` (every Ray on the
machine, this session's too), starts the head on port 6379 (Redis here), and its `fake_multinode` provider
type reads an example.yaml that Ray 2.60's wheel does not ship. The same provider class is named as an
`external` provider instead, and the cluster lives in its own temp dir, killed alone afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from localhost import free_port, kill_processes_naming, wait_for
from ray_jobs import submit_when_ready, until_it_ends

from synfinance.generation import GenerationParams
from synfinance.output.dataset import PARTS
from synfinance.runner import write_dataset

pytestmark = [pytest.mark.ray, pytest.mark.slow]

RAY = str(Path(sys.executable).parent / "ray")
WORKER_TYPE = "cpu1"
MAX_NODES = 3
IDLE_S = 6  # an idle worker node is removed after this


def autoscaling_config(gcs_address: str) -> dict[str, Any]:
    return {
        "cluster_name": "synfinance-fake", "max_workers": MAX_NODES, "upscaling_speed": 1.0,
        "idle_timeout_minutes": IDLE_S / 60,
        "provider": {"type": "external", "gcs_address": gcs_address,
                     "module": "ray.autoscaler._private.fake_multi_node.node_provider.FakeMultiNodeProvider",
                     # the nodes are processes here: nothing to set up over SSH, no launch config to compare
                     "use_node_id_as_ip": True, "disable_node_updaters": True, "disable_launch_config_check": True},
        "auth": {"ssh_user": "nobody"},
        "available_node_types": {
            "ray.head.default": {"resources": {}, "node_config": {}, "max_workers": 0},
            WORKER_TYPE: {"resources": {"CPU": 1}, "node_config": {}, "min_workers": 0, "max_workers": MAX_NODES},
        },
        "head_node_type": "ray.head.default",
        "file_mounts": {}, "cluster_synced_files": [], "file_mounts_sync_continuously": False,
        "initialization_commands": [], "setup_commands": [], "head_setup_commands": [], "worker_setup_commands": [],
        "head_start_ray_commands": [], "worker_start_ray_commands": [],
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    from ray._private.services import get_node_ip_address

    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_FAKE_CLUSTER": "1",
           "AUTOSCALER_UPDATE_INTERVAL_S": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("RAY_ADDRESS", None)
    port, dashboard = free_port(), free_port()
    temp = tmp_path_factory.mktemp("ray")
    config = temp / "autoscaling.yaml"
    config.write_text(yaml.safe_dump(autoscaling_config(f"{get_node_ip_address()}:{port}")))
    subprocess.run(
        [RAY, "start", "--head", "--num-cpus=0", f"--port={port}", f"--autoscaling-config={config}",
         "--include-dashboard=true", "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard}",
         f"--ray-client-server-port={free_port()}",
         f"--dashboard-agent-listen-port={free_port()}", f"--temp-dir={temp}", "--disable-usage-stats",
         # a lost node is noticed in ~1.5 s instead of Ray's default ~15 s (health checks every 0.5 s, 3 missed)
         '--system-config={"health_check_period_ms": 500, "health_check_failure_threshold": 3}'],
        env=env, check=True, capture_output=True, timeout=120,
    )
    try:
        yield f"http://127.0.0.1:{dashboard}", env
    finally:
        kill_processes_naming(temp)  # this cluster (and the nodes its autoscaler started) only


def assert_same_files(out: Path, params: GenerationParams, reference: Path) -> None:
    """The job's dataset has the in-process run's files, hash for hash (printed: the note quotes them)."""
    write_dataset(params, reference, features=True)
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert files == json.loads((reference / "manifest.json").read_text())["files"]
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    print(f"{len(files)} files, as in process; sha256 of the manifest's file list {digest[:16]}; "
          + ", ".join(f"{f['path']} {f['sha256'][:12]}" for f in files if f["path"].startswith("transactions/"))[:400])


# Each shard worker asks for half a CPU (ray.worker_cpus): three of them fit on two 1-CPU nodes. No working_dir:
# the simulated nodes share one session directory, and each unpacking the same package into it races the others'
# imports; the virtualenv's install serves every node.
HALF_CPU_WORKERS = {"env_vars": {"SYNFINANCE_RAY__WORKER_CPUS": "0.5"}}


def generation(params: GenerationParams, out: Path, *flags: str) -> str:
    """The job's entrypoint: the generation of `params` with MAX_NODES workers and features into `out`."""
    return (f"python -m synfinance generate transactions --count {params.count} --seed {params.seed} "
            f"--customers {params.customers} --merchants {params.merchants} --shard-size {params.shard_size} "
            f"--workers {MAX_NODES} --features {' '.join(flags)} --out {out}")


class NodeCounts:
    """Alive worker nodes, sampled every second in a thread: (seconds since start, count)."""

    def __init__(self, address: str) -> None:
        self.address, self.samples = address, []  # type: ignore[var-annotated]
        self.started, self._stop = time.monotonic(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def alive(self) -> list[Any]:
        """The alive worker nodes (ray.util.state NodeState), the head left out."""
        from ray.util.state import list_nodes

        nodes = list_nodes(address=self.address, filters=[("state", "=", "ALIVE")], raise_on_missing_output=False)
        return [n for n in nodes if not n.is_head_node]

    def workers(self) -> int:
        return len(self.alive())

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):  # the dashboard may be busy for a moment: the next sample counts
                self.samples.append((round(time.monotonic() - self.started), self.workers()))
            self._stop.wait(1.0)

    def __enter__(self) -> NodeCounts:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((round(time.monotonic() - self.started), self.workers()))  # how it ended

    def changes(self) -> list[tuple[int, int]]:
        """The samples where the count changed (the first included)."""
        return [s for i, s in enumerate(self.samples) if i == 0 or s[1] != self.samples[i - 1][1]]


@pytest.fixture
def jobs(cluster: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """The simulated cluster's address and a job client for it (with the cluster's auth mode)."""
    from ray.job_submission import JobSubmissionClient

    address, env = cluster
    monkeypatch.setenv("RAY_AUTH_MODE", env["RAY_AUTH_MODE"])
    return address, JobSubmissionClient(address)


def test_the_job_scales_the_cluster_out_and_in_with_the_in_process_hashes(jobs: tuple[str, Any],
                                                                          tmp_path: Path) -> None:
    from ray.job_submission import JobStatus

    address, client = jobs
    params = GenerationParams(count=30_000, seed=7, customers=600, merchants=2_000, shard_size=100)
    out = tmp_path / "job-ds"
    with NodeCounts(address) as counts:
        assert counts.workers() == 0  # the head alone: no CPUs for a shard worker anywhere
        job = submit_when_ready(client, generation(params, out, "--quiet"), HALF_CPU_WORKERS)
        until_it_ends(client, job, 300)
        status = client.get_job_status(job)
        assert status == JobStatus.SUCCEEDED, client.get_job_logs(job)[-3000:]
        wait_for(lambda: counts.workers() == 0, 120, "the idle worker nodes to be removed")
    print("worker nodes over time (s, alive):", counts.changes())
    # the autoscaler added the nodes the workers' shape asks for: three half-CPU workers on 1-CPU nodes, two
    assert max(n for _, n in counts.samples) == 2, counts.changes()

    assert_same_files(out, params, tmp_path / "reference")


def node_processes(node_id: str) -> list[int]:
    """The processes of one simulated node: those started with its id in their environment (its raylet, its
    workers, its agents)."""
    marker = f"RAY_OVERRIDE_NODE_ID_FOR_TESTING={node_id}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


@pytest.mark.soak  # slow by nature: a simulated node started, lost mid-run and replaced (~35 s on 2 cores)
def test_a_node_lost_mid_run_is_redone_and_the_output_is_the_same(jobs: tuple[str, Any], tmp_path: Path) -> None:
    """A whole worker node — its raylet, its shard workers, its part of the object store — killed while shards
    remain: the job still succeeds, with the in-process run's manifest, and says how many shards it redid."""
    from ray.job_submission import JobStatus

    address, client = jobs
    params = GenerationParams(count=200_000, seed=11, customers=4_000, merchants=2_000, shard_size=100)
    out = tmp_path / "lost-ds"
    with NodeCounts(address) as counts:
        job = submit_when_ready(client, generation(params, out), HALF_CPU_WORKERS)
        wait_for(lambda: len(list((out / PARTS).glob("*"))) >= 3, 180, "the first shards written")
        assert client.get_job_status(job) == JobStatus.RUNNING  # 40 shards: most are still to come
        victim = counts.alive()[0].node_id
        doomed = node_processes(victim)
        assert doomed, f"no process of node {victim}"
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        until_it_ends(client, job, 600)
        logs = client.get_job_logs(job)
        assert client.get_job_status(job) == JobStatus.SUCCEEDED, logs[-3000:]
    redone = [line for line in logs.splitlines() if "shards redone" in line]
    print("node lost:", victim[-5:], "| worker nodes over time (s, alive):", counts.changes(), "|", redone)
    assert redone and int(redone[0].split("shards redone")[1].strip(" │|").split()[0]) >= 1, logs[-2000:]

    assert_same_files(out, params, tmp_path / "reference")
