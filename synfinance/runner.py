"""Run generation in this process: the plan, shards in order, a background writer, the sink closed last."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from synfinance.features.dataset import features_for_part
from synfinance.generation import GenerationParams, GenerationPlan, generate_shard
from synfinance.observability import metrics, tracing
from synfinance.observability.data import observe_rows
from synfinance.output.dataset import FileEntry
from synfinance.schema import LABEL_FIELDS
from synfinance.sinks import DatasetSink, ShardOutput, Sink

if TYPE_CHECKING:
    from synfinance.model.scoring import ScoreStage

ProgressCallback = Callable[[int], None]  # called with the rows just written


def build_shard(plan: GenerationPlan, shard: int, features: bool = False, score: ScoreStage | None = None
                ) -> ShardOutput:
    """Generate a shard (patterns included) and, if asked, its features and its predictions (which need the
    features, kept in the output only when asked for). Same plan, same shard, same model: same bytes."""
    with tracing.span("shard.generate", shard=shard):
        table = generate_shard(plan, shard)
    observe_rows(table, skip=frozenset(LABEL_FIELDS))
    extracted = None
    if features or score is not None:
        started = time.perf_counter()
        with tracing.span("shard.features", shard=shard, rows=table.num_rows):
            extracted = features_for_part(table, f"shard {shard}")
        metrics.FEATURE_SECONDS.labels().observe(time.perf_counter() - started)
    predictions = None
    if score is not None and extracted is not None:
        with tracing.span("shard.score", shard=shard):
            predictions = score.predictions(table, extracted)
    return ShardOutput(shard, table, extracted if features else None, predictions)


def run_shards(
    params: GenerationParams,
    sink: Sink,
    shards: Iterable[int] | None = None,
    on_progress: ProgressCallback | None = None,
    features: bool = False,
    score: ScoreStage | None = None,
) -> Path | None:
    """Generate every shard in this process into sink; returns what sink.close returns (a manifest path).

    shards may reorder the work (the bytes do not change); every shard must be written once.
    features adds the 69 features per transaction to each shard. While shard k is written on a
    background thread, shard k+1 is generated: at most two shards are in memory, whatever the count.
    """
    plan = GenerationPlan(params)
    order = list(range(plan.n_shards)) if shards is None else list(shards)
    if sorted(order) != list(range(plan.n_shards)):
        raise ValueError(f"shards must be a permutation of 0..{plan.n_shards - 1}")
    entries = sink.open(plan)
    pending: tuple[Future[list[FileEntry]], int] | None = None  # the write under way, and its rows
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synfinance-writer") as pool:
        for shard in order:
            output = build_shard(plan, shard, features, score)
            if pending is not None:
                entries.extend(_done(*pending, on_progress))
            pending = pool.submit(_write, sink, output), output.transactions.num_rows
        if pending is not None:
            entries.extend(_done(*pending, on_progress))
    return sink.close(entries)


def _write(sink: Sink, output: ShardOutput) -> list[FileEntry]:
    with tracing.span("shard.write", shard=output.shard, sink=sink.kind):
        return sink.write(output)


def write_dataset(
    params: GenerationParams,
    out: Path,
    fmt: str = "parquet",
    shards: Iterable[int] | None = None,
    on_progress: ProgressCallback | None = None,
    features: bool = False,
) -> Path:
    """Generate and write a whole dataset directory in this process (see run_shards); returns the manifest path."""
    manifest = run_shards(params, DatasetSink(out, fmt), shards, on_progress, features)
    assert manifest is not None
    return manifest


def _done(pending: Future[list[FileEntry]], rows: int, on_progress: ProgressCallback | None) -> list[FileEntry]:
    entries = pending.result()
    if on_progress is not None:
        on_progress(rows)
    return entries
