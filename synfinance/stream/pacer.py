"""Pacing: each row has a due time (a steady rate, or its own timestamp at X times speed); every tick emits
the rows that are due as one batch, and records how late each was (lag).

The row source is generated up front for the whole run and sorted globally by timestamp, so the stream is
in event-time order (a dataset's shards are each time-ordered, but not with each other). The number of
rows is bounded (MAX_ROWS), and the error says so.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import ParameterError, Problem
from synfinance.features.dataset import features_for_part
from synfinance.generation import GenerationParams, GenerationPlan, generate_shard
from synfinance.sinks import ShardOutput, Sink

if TYPE_CHECKING:
    from synfinance.model.scoring import ScoreStage
    from synfinance.world.campaign import Campaign

MAX_ROWS = 20_000_000


@dataclass(frozen=True)
class StreamReport:
    rows: int
    seconds: float
    requested_rate: float
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    interrupted: bool

    @property
    def achieved_rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Clock:
    """Where the pacer reads time and how it waits (a test may drive its own)."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def check(rate: float, duration_s: float, speedup: float | None) -> int:
    problems = []
    if not 0 < rate <= 1_000_000:
        problems.append(Problem("rate", rate, "transactions per second, more than 0 and at most 1,000,000"))
    if not 0 < duration_s <= 7 * 86_400:
        problems.append(Problem("duration", duration_s, "seconds, more than 0 and at most a week"))
    if speedup is not None and not 0 < speedup <= 1_000_000:
        problems.append(Problem("speedup", speedup, "a factor more than 0 and at most 1,000,000"))
    rows = math.ceil(rate * duration_s)
    if not problems and rows > MAX_ROWS:
        problems.append(Problem("duration", duration_s, f"rate x duration at most {MAX_ROWS:,} rows, got {rows:,}"))
    if problems:
        raise ParameterError(problems)
    return max(rows, 1)


def span_days(duration_s: float, speedup: float | None) -> int:
    """The simulated days a run covers: duration x speedup in whole days, or 92 without a speedup."""
    return 92 if speedup is None else max(1, math.ceil(duration_s * speedup / 86_400))


def source(rows: int, seed: int, speedup: float | None, duration_s: float, start: dt.date | None = None,
           campaign: Campaign | None = None) -> tuple[GenerationPlan, pa.Table, np.ndarray]:
    """The run's plan, its rows in event-time order and each row's due offset in seconds from the start.

    With a speedup, the simulated span is duration x speedup (whole days) and `rows` is spread over the
    whole span, so the emission rate follows the data's own daily rhythm around the requested average.
    """
    params = GenerationParams(count=rows, seed=seed, days=span_days(duration_s, speedup), campaign=campaign)
    plan = GenerationPlan(params if start is None else replace(params, start=start))
    table = pa.concat_tables(generate_shard(plan, shard) for shard in range(plan.n_shards))
    table = table.take(pc.sort_indices(table, [("timestamp", "ascending"), ("transaction_id", "ascending")]))
    if speedup is None:
        due = np.arange(rows, dtype=np.float64) * (duration_s / rows)
    else:
        ts = table["timestamp"].combine_chunks().cast(pa.int64()).to_numpy() / 1e6
        due = (ts - ts[0]) / speedup
    return plan, table, due


def run(table: pa.Table, due: np.ndarray, sink: Sink, duration_s: float, requested_rate: float,
        clock: Clock | None = None, tick_s: float = 0.01, predictions: pa.Table | None = None) -> StreamReport:
    """Emit `table` paced by `due` (seconds from start) until the rows or the duration run out, or Ctrl-C.
    predictions, row-aligned with table, go out with each batch."""
    clock = clock or Clock()
    start = clock.now()
    emitted, interrupted = 0, False
    lags: list[np.ndarray] = []
    try:
        while emitted < len(due):
            elapsed = clock.now() - start
            if elapsed >= duration_s:
                break
            ready = int(np.searchsorted(due, elapsed, side="right"))
            if ready > emitted:
                scored = None if predictions is None else predictions.slice(emitted, ready - emitted)
                sink.write(ShardOutput(len(lags), table.slice(emitted, ready - emitted), predictions=scored))
                lags.append(elapsed - due[emitted:ready])
                emitted = ready
            if emitted < len(due):
                # at least 0.1 ms: a wait that rounds to nothing would spin without time moving on
                clock.sleep(max(1e-4, min(tick_s, due[emitted] - (clock.now() - start))))
    except KeyboardInterrupt:
        interrupted = True  # what was emitted stays emitted; the caller flushes its sink
    seconds = clock.now() - start
    lag_ms = np.concatenate(lags) * 1000 if lags else np.zeros(1)
    return StreamReport(emitted, seconds, requested_rate, float(np.percentile(lag_ms, 50)),
                        float(np.percentile(lag_ms, 99)), float(lag_ms.max()), interrupted)


def stream(rate: float, duration_s: float, sink: Sink, seed: int = 42, speedup: float | None = None,
           clock: Clock | None = None, score: ScoreStage | None = None, start: dt.date | None = None,
           campaign: Campaign | None = None) -> StreamReport:
    """Generate rate x duration transactions and emit them paced (see the module docstring). With score, every
    row is scored up front (features over the whole stream in time order) and its prediction goes with it."""
    rows = check(rate, duration_s, speedup)
    if speedup is not None:  # the average rate over the whole simulated span
        span_s = max(1, math.ceil(duration_s * speedup / 86_400)) * 86_400
        rows = check(rate, span_s / speedup, speedup)
    plan, table, due = source(rows, seed, speedup, duration_s, start, campaign)
    predictions = None
    if score is not None:
        predictions = score.predictions(table, features_for_part(table, "stream"))
    sink.open(plan)
    return run(table, due, sink, duration_s, rate, clock, predictions=predictions)

