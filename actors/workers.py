"""The pipeline's actors: shard workers (generate -> patterns -> features) and a sink actor.

No domain logic here: a worker calls synfinance.runner.build_shard, the sink actor its synfinance.sinks.Sink.
Both record their metrics through Ray's metrics agent (actors.metrics).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import ray
import structlog

from actors import metrics as ray_metrics
from actors.live import follow
from synfinance.faults import ShardFault, WriteFault
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.observability import metrics, tracing
from synfinance.observability.logs import get_logger
from synfinance.observability.memory import peak_rss_mb, private_mb
from synfinance.observability.tracing import traced
from synfinance.output.dataset import FileEntry
from synfinance.runner import build_shard
from synfinance.settings.models import MonitoringConfig, Settings
from synfinance.sinks import ShardOutput, Sink

if TYPE_CHECKING:
    from synfinance.model.scoring import ScoreStage


log = get_logger("synfinance.pipeline")


class UsageWatch:
    """An actor's resources: the highest private memory seen at the end of each unit of work, and the CPU its
    process used since the actor started (every thread; not the worker process's start before it)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.cpu_at_start = time.process_time()

    def sample(self) -> None:
        self.peak = max(self.peak, private_mb())

    def report(self) -> dict[str, float]:
        return {"peak_rss_mb": peak_rss_mb(), "peak_private_mb": self.peak,
                "cpu_s": time.process_time() - self.cpu_at_start}


@ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)
class ShardWorker:
    """Builds the plan once, then shards on request. Restarted by Ray if its process dies."""

    def __init__(self, params: GenerationParams, features: bool, name: str, fault: ShardFault | None = None,
                 score: ScoreStage | None = None, monitoring: MonitoringConfig | None = None,
                 live: tuple[str, str] | None = None) -> None:
        ray_metrics.instrument("shard-worker", monitoring)
        follow(live, lambda settings, _: ray_metrics.retune("shard-worker", settings.monitoring), "shard-worker")
        self.plan = GenerationPlan(params)
        self.features, self.name, self.fault, self.score = features, name, fault, score
        self.usage_watch = UsageWatch()

    @ray.method(num_returns=2)
    @traced("pipeline.shard")
    def run(self, shard: int) -> tuple[dict[str, Any], ShardOutput]:
        """(small facts about the shard, the shard itself): the driver reads the first, the sink the second."""
        started = time.time()
        tracing.annotate(shard=shard, worker=self.name)
        if self.fault is not None:
            self.fault.before_shard(shard)
        with structlog.contextvars.bound_contextvars(shard=shard):
            output = build_shard(self.plan, shard, self.features, self.score)
            log.debug("pipeline.shard", rows=output.transactions.num_rows, worker=self.name)
        seconds = time.time() - started
        metrics.ROWS_GENERATED.labels(self.name).inc(output.transactions.num_rows)
        metrics.SHARD_SECONDS.labels(self.name).observe(seconds)
        facts = {"shard": shard, "rows": output.transactions.num_rows, "worker": self.name, "pid": os.getpid(),
                 "started": started, "seconds": seconds}
        self.usage_watch.sample()
        return facts, output

    def pid(self) -> int:
        return os.getpid()

    def usage(self) -> dict[str, float]:
        return self.usage_watch.report()


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class SinkActor:
    """Writes shards through a sink (one at a time: a sync actor). A redone shard replaces itself."""

    def __init__(self, sink: Sink, fault: WriteFault | None = None, monitoring: MonitoringConfig | None = None,
                 live: tuple[str, str] | None = None) -> None:
        ray_metrics.instrument("sink", monitoring)
        self.sink, self.fault = sink, fault
        self.usage_watch = UsageWatch()
        follow(live, self.apply_live, "sink")

    def apply_live(self, settings: Settings, version: str) -> None:
        """Log level and sampling; a sink that has live settings of its own (PostgreSQL: bulk_retry) takes them."""
        ray_metrics.retune("sink", settings.monitoring)
        reconfigure = getattr(self.sink, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(settings)

    @traced("pipeline.write")
    def write(self, output: ShardOutput) -> tuple[list[FileEntry], float]:
        """The shard's entries and the time the write finished."""
        started = time.time()
        tracing.annotate(shard=output.shard, sink=self.sink.kind)
        if self.fault is not None:
            self.fault.before_write(output.shard)
        entries = self.sink.write(output)
        metrics.WRITE_SECONDS.labels(self.sink.kind).observe(time.time() - started)
        self.usage_watch.sample()
        return entries, time.time()

    def usage(self) -> dict[str, float]:
        return self.usage_watch.report()
