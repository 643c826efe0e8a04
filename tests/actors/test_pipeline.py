"""The Ray pipeline: identical bytes for any worker count and after a worker dies; bounded in-flight shards;
the PostgreSQL sink loads exactly once."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pg_schemas import count_rows

from actors.pipeline import PipelineReport, run_pipeline
from chaos.faults import SinkFaults, WorkerFaults
from synfinance.errors import ParameterError
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.runner import write_dataset
from synfinance.sinks import DatasetSink, JsonlSink, PostgresSink
from synfinance.store.connect import Database
from synfinance.world.campaign import load_campaign, shipped_campaigns

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]

PARAMS = GenerationParams(count=30_000, seed=11, customers=600, merchants=2_000, shard_size=100)


def files(out: Path) -> list[dict[str, Any]]:
    """The manifest's per-file rows and sha256: the dataset's content, independent of timing."""
    return json.loads((out / "manifest.json").read_text())["files"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("reference") / "ds"
    write_dataset(PARAMS, out, features=True)
    return files(out)


def test_the_plan_has_several_shards() -> None:
    assert GenerationPlan(PARAMS).n_shards >= 5


@pytest.mark.parametrize("workers", [1, 2])
def test_same_bytes_whatever_the_worker_count(workers: int, tmp_path: Path,
                                              reference: list[dict[str, Any]]) -> None:
    report = run_pipeline(PARAMS, DatasetSink(tmp_path / "ds"), workers=workers, features=True)
    assert files(tmp_path / "ds") == reference
    assert report.rows == PARAMS.count
    assert len(report.rows_by_worker) == workers  # every worker did some of it


def test_a_worker_killed_mid_shard_is_redone_exactly_once(tmp_path: Path, reference: list[dict[str, Any]]) -> None:
    faults = WorkerFaults.arm(tmp_path / "faults", {1, 3})

    report = run_pipeline(PARAMS, DatasetSink(tmp_path / "ds"), workers=2, features=True, worker_fault=faults)

    assert faults.tripped() == {1, 3}  # both processes really died
    assert report.retries == {1: 1, 3: 1} and report.restarts == 2
    assert files(tmp_path / "ds") == reference
    assert report.rows == PARAMS.count


def _overlap(report: PipelineReport) -> int:
    """Most shards started by a worker and not yet written by the sink at any moment."""
    events = sorted([(start, 1) for _, start, _ in report.timeline] + [(end, -1) for _, _, end in report.timeline])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def test_a_slow_sink_makes_the_workers_wait(tmp_path: Path) -> None:
    slow = SinkFaults(delay_s=0.6)  # far slower than a 5,000-row shard takes to make, even on a busy machine
    bounded = run_pipeline(PARAMS, DatasetSink(tmp_path / "a"), workers=2, max_in_flight=2, write_fault=slow)
    unbounded = run_pipeline(PARAMS, DatasetSink(tmp_path / "b"), workers=2, max_in_flight=100, write_fault=slow)

    assert bounded.peak_in_flight == 2
    assert _overlap(bounded) <= 2
    # the measure can see a pile-up: without the bound, finished shards queue in front of the slow sink
    assert _overlap(unbounded) > 2
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="workers"):
        run_pipeline(PARAMS, DatasetSink(tmp_path / "x"), workers=0)
    with pytest.raises(ParameterError, match="max_in_flight"):
        run_pipeline(PARAMS, DatasetSink(tmp_path / "x"), workers=1, max_in_flight=-1)


@pytest.mark.postgres
def test_postgres_sink_loads_exactly_once(db: Database) -> None:
    for _ in range(2):
        report = run_pipeline(PARAMS, PostgresSink(db), workers=2, features=True)
        assert report.rows == PARAMS.count

    async def counts() -> dict[str, int]:
        return {t: await count_rows(db, t) for t in ("transactions", "features", "customers")}

    assert asyncio.run(counts()) == {"transactions": PARAMS.count, "features": PARAMS.count,
                                     "customers": PARAMS.customers}


def test_stdout_sink_writes_every_row_once() -> None:
    from synfinance.generation import generate_table
    from synfinance.output.jsonl import encode_jsonl

    stream = io.BytesIO()
    report = run_pipeline(PARAMS, JsonlSink(stream), workers=2)
    expected = encode_jsonl(generate_table(count=PARAMS.count, seed=PARAMS.seed, customers=PARAMS.customers,
                                           merchants=PARAMS.merchants, shard_size=PARAMS.shard_size))
    assert report.rows == PARAMS.count
    assert sorted(stream.getvalue().splitlines()) == sorted(expected.splitlines())


def test_a_live_configuration_change_reaches_every_actor_of_a_running_pipeline(tmp_path: Path) -> None:
    """The driver watches the config files (actors.live.watched_run); a changed log level is applied in place by
    the workers and the sink while the run goes on, and the run's output is unchanged."""
    import shutil
    import threading

    from localhost import wait_for
    from promtext import series

    from actors.live import watched_run
    from actors.metrics import cluster_page
    from synfinance.settings import load_settings

    config = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config)
    (config / "test.yaml").write_text("monitoring:\n  log_level: INFO\n")
    load = lambda: load_settings(env="test", config_dir=config, env_file=tmp_path / "absent.env", environ={})  # noqa: E731
    driver_saw: list[str] = []

    def applied(component: str) -> float:
        return series(cluster_page().decode(), "synfinance_config_reloads_total", component=component,
                      outcome="applied")

    before = {c: applied(c) for c in ("shard-worker", "sink")}
    with watched_run(load, lambda new, _: driver_saw.append(new.monitoring.log_level)) as live:
        slow = SinkFaults(delay_s=0.6)  # a run that lasts long enough to be changed under (6 parts: >= 3.6 s)
        done: dict[str, PipelineReport] = {}
        run = threading.Thread(target=lambda: done.setdefault("report", run_pipeline(
            PARAMS, DatasetSink(tmp_path / "ds"), workers=2, features=True, write_fault=slow, live=live)))
        run.start()
        (config / "test.yaml").write_text("monitoring:\n  log_level: WARNING\n")
        wait_for(lambda: driver_saw == ["WARNING"], 10, "the driver to apply the change")
        assert run.is_alive()  # published while the run goes on
        # the workers and the sink live only as long as the run: their counts (which reach Prometheus seconds
        # later, through Ray's agent) say they applied it while it ran
        wait_for(lambda: applied("shard-worker") >= before["shard-worker"] + 2 and applied("sink") > before["sink"],
                 30, "both workers and the sink to apply the change")
        run.join()
    assert done["report"].rows == PARAMS.count


def test_a_campaign_gives_the_same_bytes_on_two_workers_as_in_process(tmp_path: Path) -> None:
    campaign = load_campaign(shipped_campaigns()["compromised_merchant"])  # targets, merchants, two types
    params = replace(PARAMS, campaign=campaign, fraud_rate=0.05)
    write_dataset(params, tmp_path / "local")
    report = run_pipeline(params, DatasetSink(tmp_path / "ray"), workers=2)
    assert files(tmp_path / "ray") == files(tmp_path / "local")
    assert len(report.rows_by_worker) == 2
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["parameters"]["campaign"]["name"] == "compromised_merchant"
