"""The driver: shards to worker actors, finished shards to a sink actor, a bound on shards in flight.

    driver ──shard k──► ShardWorker ──(facts, shard ref)──► driver ──shard ref──► sink actor ──► files / rows

A shard counts as in flight from the moment it is handed to a worker until its sink has written it;
the driver hands out no new shard while `max_in_flight` are outstanding, so a slow sink makes the
workers wait and memory stays flat however large the run. Shard data never passes through the driver:
the sink receives the worker's object reference. When a worker dies mid-shard, Ray restarts it and the
driver gives the shard out again; sinks replace a redone shard, so the output is exactly once and, the
shards being deterministic, byte-identical to a run without the failure.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import ray
from ray.exceptions import ObjectLostError, RayActorError

from actors import metrics
from actors.workers import DatasetSink, PostgresSink, ShardWorker
from chaos.faults import SinkFaults, WorkerFaults
from synfinance.errors import ParameterError, Problem, WorkerLost
from synfinance.generate import GenerationParams, GenerationPlan
from synfinance.output.dataset import DatasetWriter, FileEntry
from synfinance.runner import ShardOutput, finish_dataset, start_dataset
from synfinance.stream.sinks import JsonlSink

Progress = Callable[[int, str], None]  # rows just written, by which worker


@dataclass
class PipelineReport:
    rows: int
    seconds: float
    workers: int
    max_in_flight: int
    peak_in_flight: int = 0
    restarts: int = 0
    retries: dict[int, int] = field(default_factory=dict)
    rows_by_worker: dict[str, int] = field(default_factory=dict)
    timeline: list[tuple[int, float, float]] = field(default_factory=list)  # shard, started, written
    memory_mb: dict[str, dict[str, float]] = field(default_factory=dict)  # per worker and sink, at the end
    manifest: Path | None = None


def run_pipeline(
    params: GenerationParams,
    out: Path | None = None,
    fmt: str = "parquet",
    workers: int = 2,
    features: bool = False,
    database: Any = None,
    stdout: BinaryIO | None = None,
    max_in_flight: int | None = None,
    on_progress: Progress | None = None,
    worker_faults: WorkerFaults | None = None,
    sink_faults: SinkFaults | None = None,
    max_retries: int = 3,
) -> PipelineReport:
    """Generate (+ features) on `workers` actors into a dataset directory (out), PostgreSQL (database) or
    JSON Lines on a byte stream of the driver (stdout; transactions only, shards in completion order)."""
    if workers < 1:
        raise ParameterError([Problem("workers", workers, "at least 1 (0 runs in-process, without Ray)")])
    if sum(x is not None for x in (out, database, stdout)) != 1:
        raise ParameterError([Problem("out", out, "exactly one sink: a dataset directory, a database or stdout")])
    bound = max_in_flight or 2 * workers
    if bound < 1:
        raise ParameterError([Problem("max_in_flight", bound, "at least 1")])
    started = time.perf_counter()
    plan = GenerationPlan(params)
    files: dict[int, list[FileEntry]] = {}
    population: list[FileEntry] = []
    writer = None
    sink: Any = None  # the sink actor, if the sink is one
    if out is not None:
        writer = DatasetWriter(out, fmt)
        population = start_dataset(plan, writer)
        sink = DatasetSink.remote(Path(out), fmt, sink_faults)  # type: ignore[attr-defined]
    elif database is not None:
        sink = PostgresSink.remote(database)  # type: ignore[attr-defined]
        ray.get(sink.start.remote(plan.customers.table, plan.merchants.table))
    # submit(shard ref) -> ref of (file entries, written at): a sink actor's write, or the driver's own stdout
    # (an actor's stdout goes to its log), written at once and its result put in the store like an actor's
    submit: Callable[[Any], Any]
    if sink is not None:
        submit = sink.write.remote
    else:
        assert stdout is not None
        submit = partial(_write_stdout, JsonlSink(stdout))
    pool = [ShardWorker.remote(params, features, f"worker-{i}", worker_faults)  # type: ignore[attr-defined]
            for i in range(workers)]
    actors = pool if sink is None else [*pool, sink]
    report = PipelineReport(0, 0.0, workers, bound)
    try:
        _drive(plan.n_shards, pool, submit, bound, max_retries, report, files, on_progress)
        if out is not None:
            names = [f"worker-{i}" for i in range(workers)] + ["sink"]
            memory = ray.get([a.memory_mb.remote() for a in actors])
            report.memory_mb = dict(zip(names, memory, strict=True))
    finally:
        for actor in actors:
            ray.kill(actor)
    if writer is not None:
        entries = population + [e for shard in sorted(files) for e in files[shard]]
        report.manifest = finish_dataset(plan, writer, entries, features)
    report.seconds = time.perf_counter() - started
    return report


def _drive(n_shards: int, pool: list[Any], submit: Callable[[Any], Any], bound: int, max_retries: int,
           report: PipelineReport, files: dict[int, list[FileEntry]], on_progress: Progress | None) -> None:
    todo = deque(range(n_shards))
    idle = deque(range(len(pool)))
    generating: dict[Any, tuple[int, int, Any]] = {}  # facts ref -> (shard, worker index, shard ref)
    writing: dict[Any, tuple[int, dict[str, Any]]] = {}  # sink ref -> (shard, facts)
    # A worker that died gets no shard until Ray has restarted it: a call sent while it restarts fails
    # at once ("the actor is restarting") and would be miscounted as a second death. The probe is retried
    # by Ray until the actor is back, then the worker is idle again.
    recovering: dict[Any, int] = {}  # probe ref -> worker index
    while todo or generating or writing:
        while todo and idle and len(generating) + len(writing) < bound:
            shard, worker = todo.popleft(), idle.popleft()
            facts_ref, shard_ref = pool[worker].run.remote(shard)
            generating[facts_ref] = (shard, worker, shard_ref)
        in_flight = len(generating) + len(writing)
        report.peak_in_flight = max(report.peak_in_flight, in_flight)
        metrics.in_flight().set(in_flight)
        ready, _ = ray.wait([*generating, *writing, *recovering], num_returns=1)
        for ref in ready:
            if ref in recovering:
                worker = recovering.pop(ref)
                ray.get(ref)  # retried until the actor is back; an error here means it cannot come back
                idle.append(worker)
            elif ref in generating:
                shard, worker, shard_ref = generating.pop(ref)
                try:
                    facts = ray.get(ref)
                except RayActorError:
                    _redo(shard, todo, max_retries, report)
                    recovering[pool[worker].pid.options(max_task_retries=-1).remote()] = worker
                    continue
                idle.append(worker)
                writing[submit(shard_ref)] = (shard, facts)
            else:
                shard, facts = writing.pop(ref)
                try:
                    result = ray.get(ref)
                except ObjectLostError:
                    # the shard's data went with its node before the sink read it (multi-node only): redo it
                    _redo(shard, todo, max_retries, report)
                    continue
                _written(report, files, shard, facts, result, on_progress)


def _written(report: PipelineReport, files: dict[int, list[FileEntry]], shard: int, facts: dict[str, Any],
             result: tuple[list[FileEntry], float], on_progress: Progress | None) -> None:
    entries, written_at = result
    files[shard] = entries
    report.rows += facts["rows"]
    report.rows_by_worker[facts["worker"]] = report.rows_by_worker.get(facts["worker"], 0) + facts["rows"]
    report.timeline.append((shard, facts["started"], written_at))
    if on_progress is not None:
        on_progress(facts["rows"], facts["worker"])


def _write_stdout(jsonl: JsonlSink, shard_ref: Any) -> Any:
    """Write a finished shard's JSON Lines to the driver's stream; its result as an object ref, like a sink's."""
    output: ShardOutput = ray.get(shard_ref)
    jsonl(output.transactions)
    entries = [FileEntry(f"<stdout shard {output.shard}>", output.transactions.num_rows, "")]
    return ray.put((entries, time.time()))


def _redo(shard: int, todo: deque[int], max_retries: int, report: PipelineReport) -> None:
    """The worker died mid-shard: Ray restarts it; the shard goes to the front of the queue again."""
    tries = report.retries.get(shard, 0) + 1
    if tries > max_retries:
        raise WorkerLost(f"shard {shard}: its worker died {tries} times (limit {max_retries}); giving up")
    report.retries[shard] = tries
    report.restarts += 1
    metrics.restarts().inc()
    metrics.shard_retries().inc()
    todo.appendleft(shard)
