"""The driver: shards to worker actors, finished shards to a sink, a bound on shards in flight.

    driver ──shard k──► ShardWorker ──(facts, shard ref)──► driver ──shard ref──► SinkActor ──► sink

A shard counts as in flight from the moment it is handed to a worker until its sink has written it;
the driver hands out no new shard while `max_in_flight` are outstanding, so a slow sink makes the
workers wait and memory stays flat however large the run. Shard data never passes through the driver
when the sink travels (it runs in a sink actor, which receives the worker's object reference); a sink
bound to this process (JSON Lines on stdout) writes here. When a worker dies mid-shard, Ray restarts it
and the driver gives the shard out again; sinks replace a redone shard, so the output is exactly once
and, the shards being deterministic, byte-identical to a run without the failure.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from actors import metrics as ray_metrics
from actors.handles import Ref, SinkHandle, WorkerHandle, first_ready, put, result, results, unwrap
from actors.workers import ShardWorker, SinkActor
from synfinance.errors import (
    ActorDied,
    ActorRestarting,
    OutputError,
    ParameterError,
    Problem,
    ShardDataLost,
    WorkerLost,
)
from synfinance.faults import ShardFault, WriteFault
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.observability import metrics, tracing
from synfinance.observability.logs import get_logger
from synfinance.output.dataset import FileEntry
from synfinance.settings.models import MonitoringConfig, RayConfig
from synfinance.sinks import ShardOutput, Sink

if TYPE_CHECKING:
    from synfinance.model.scoring import ScoreStage

Progress = Callable[[int, str], None]  # rows just written, by which worker


log = get_logger("synfinance.pipeline")


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
    usage: dict[str, dict[str, float]] = field(default_factory=dict)  # per worker and sink at the end: UsageWatch
    manifest: Path | None = None


def run_pipeline(
    params: GenerationParams,
    sink: Sink,
    workers: int = 2,
    features: bool = False,
    max_in_flight: int | None = None,
    on_progress: Progress | None = None,
    worker_fault: ShardFault | None = None,
    write_fault: WriteFault | None = None,
    max_retries: int = 3,
    score: ScoreStage | None = None,
    monitoring: MonitoringConfig | None = None,
    live: tuple[str, str] | None = None,
    shape: RayConfig | None = None,
) -> PipelineReport:
    """Generate (+ features) on `workers` actors into sink; Ray must be connected (actors.handles.session). Each
    worker asks Ray for shape.worker_cpus CPUs and shape.worker_resources (an autoscaler adds nodes to fit)."""
    if workers < 1:
        raise ParameterError([Problem("workers", workers, "at least 1 (0 runs in-process, without Ray)")])
    bound = max_in_flight or 2 * workers
    if bound < 1:
        raise ParameterError([Problem("max_in_flight", bound, "at least 1")])
    monitoring = monitoring or MonitoringConfig()
    ray_metrics.install("driver", monitoring)  # this driver's metrics go through Ray's agent too
    tracing.setup(monitoring.tracing, "driver")
    run_id = uuid.uuid4().hex[:12]
    with structlog.contextvars.bound_contextvars(run_id=run_id), \
            tracing.span("pipeline.run", run_id=run_id, rows=params.count, workers=workers):
        shape = shape or RayConfig()
        options = {"num_cpus": shape.worker_cpus, "resources": dict(shape.worker_resources)}
        return _run(params, sink, workers, features, bound, on_progress, worker_fault, write_fault, max_retries,
                    score, monitoring, live, options)


def _run(params: GenerationParams, sink: Sink, workers: int, features: bool, bound: int,
         on_progress: Progress | None, worker_fault: ShardFault | None, write_fault: WriteFault | None,
         max_retries: int, score: ScoreStage | None, monitoring: MonitoringConfig,
         live: tuple[str, str] | None, options: dict[str, Any]) -> PipelineReport:
    started = time.perf_counter()
    plan = GenerationPlan(params)
    files: dict[int, list[FileEntry]] = {}
    opened = sink.open(plan)
    actor = SinkHandle.start(SinkActor, sink, write_fault, monitoring, live) if sink.travels else None
    # submit(shard ref) -> ref of (entries, written at): the sink actor's write, or this process's own
    submit: Callable[[Ref], Ref] = actor.write if actor is not None else (lambda ref: _write_here(sink, ref))
    pool = [WorkerHandle.start(ShardWorker, params, features, f"worker-{i}", worker_fault, score, monitoring, live,
                               options=options) for i in range(workers)]
    report = PipelineReport(0, 0.0, workers, bound)
    try:
        _drive(plan.n_shards, pool, submit, bound, max_retries, report, files, on_progress)
        handles: list[WorkerHandle | SinkHandle] = [*pool] + ([actor] if actor is not None else [])
        names = [f"worker-{i}" for i in range(workers)] + (["sink"] if actor is not None else [])
        report.usage = dict(zip(names, results([h.usage() for h in handles]), strict=True))
    finally:
        for handle in pool:
            handle.stop()
        if actor is not None:
            actor.stop()
    report.manifest = sink.close(opened + [e for shard in sorted(files) for e in files[shard]])
    report.seconds = time.perf_counter() - started
    return report


def _drive(n_shards: int, pool: list[WorkerHandle], submit: Callable[[Ref], Ref], bound: int, max_retries: int,
           report: PipelineReport, files: dict[int, list[FileEntry]], on_progress: Progress | None) -> None:
    todo = deque(range(n_shards))
    idle = deque(range(len(pool)))
    generating: dict[Ref, tuple[int, int, Ref]] = {}  # facts ref -> (shard, worker index, shard ref)
    writing: dict[Ref, tuple[int, dict[str, Any]]] = {}  # sink ref -> (shard, facts)
    # A worker that died gets no shard until Ray has restarted it: a call sent while it restarts fails
    # at once ("the actor is restarting") and would be miscounted as a second death. The probe is retried
    # by Ray until the actor is back, then the worker is idle again.
    recovering: dict[Ref, int] = {}  # probe ref -> worker index
    while todo or generating or writing or recovering:  # a worker still restarting is waited for, then asked
        while todo and idle and len(generating) + len(writing) < bound:
            shard, worker = todo.popleft(), idle.popleft()
            facts_ref, shard_ref = pool[worker].run(shard)
            generating[facts_ref] = (shard, worker, shard_ref)
        in_flight = len(generating) + len(writing)
        report.peak_in_flight = max(report.peak_in_flight, in_flight)
        metrics.IN_FLIGHT.labels().set(in_flight)
        for ref in first_ready([*generating, *writing, *recovering]):
            if ref in recovering:
                worker = recovering.pop(ref)
                try:
                    result(ref)  # retried by Ray until the actor is back; ActorDied means it cannot come back
                except ActorRestarting:  # reached it mid-restart (Ray 2.60 does not retry that): ask again
                    recovering[pool[worker].back()] = worker
                    continue
                idle.append(worker)
            elif ref in generating:
                shard, worker, shard_ref = generating.pop(ref)
                try:
                    facts = result(ref)
                except ActorDied:
                    _redo(shard, todo, max_retries, report)
                    recovering[pool[worker].back()] = worker
                    continue
                idle.append(worker)
                writing[submit(shard_ref)] = (shard, facts)
            else:
                shard, facts = writing.pop(ref)
                try:
                    written = result(ref)
                except ShardDataLost:
                    # the shard's data went with its node before the sink read it (multi-node only): redo it
                    _redo(shard, todo, max_retries, report)
                    continue
                except OSError as exc:  # the sink's disk or device refused (full, read-only): stop, say so
                    cause = unwrap(exc)
                    raise OutputError(f"shard {shard}: the sink could not write: {cause}; the "
                                      f"{len(files)} shard(s) written before it are complete; free the space and run "
                                      "again (the same seed rewrites the same bytes)") from None
                _written(report, files, shard, facts, written, on_progress)


def _written(report: PipelineReport, files: dict[int, list[FileEntry]], shard: int, facts: dict[str, Any],
             written: tuple[list[FileEntry], float], on_progress: Progress | None) -> None:
    entries, written_at = written
    files[shard] = entries
    report.rows += facts["rows"]
    report.rows_by_worker[facts["worker"]] = report.rows_by_worker.get(facts["worker"], 0) + facts["rows"]
    report.timeline.append((shard, facts["started"], written_at))
    first_start = min(started for _, started, _ in report.timeline)
    metrics.GENERATION_RATE.labels().set(report.rows / max(1e-3, written_at - first_start))
    if on_progress is not None:
        on_progress(facts["rows"], facts["worker"])


def _write_here(sink: Sink, shard_ref: Ref) -> Ref:
    """Write a finished shard with a sink bound to this process; its result as a ref, like a sink actor's."""
    output: ShardOutput = result(shard_ref)
    with tracing.span("pipeline.write", shard=output.shard, sink=sink.kind):
        return put((sink.write(output), time.time()))


def _redo(shard: int, todo: deque[int], max_retries: int, report: PipelineReport) -> None:
    """The worker died mid-shard: Ray restarts it; the shard goes to the front of the queue again."""
    tries = report.retries.get(shard, 0) + 1
    if tries > max_retries:
        raise WorkerLost(f"shard {shard}: its worker died {tries} times (limit {max_retries}); giving up")
    report.retries[shard] = tries
    log.warning("pipeline.shard_redone", shard=shard, tries=tries)
    report.restarts += 1
    metrics.WORKER_RESTARTS.labels().inc()
    metrics.SHARD_RETRIES.labels().inc()
    todo.appendleft(shard)
