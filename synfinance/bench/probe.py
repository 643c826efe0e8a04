"""One benchmark measurement in a fresh process; prints a JSON line (rows, seconds, peak_rss_mb).

    python -m synfinance.bench.probe generate COUNT OUT_DIR     (patterns on, the default job)
    python -m synfinance.bench.probe plain COUNT OUT_DIR        (patterns off)
    python -m synfinance.bench.probe floor COUNT OUT_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from synfinance.bench.report import emit
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.output.dataset import DatasetWriter
from synfinance.runner import write_dataset
from synfinance.schema import TRANSACTION_SCHEMA


def measure_generate(count: int, out: Path, patterns: bool = True) -> float:
    begun = time.perf_counter()
    write_dataset(GenerationParams(count=count, patterns=patterns), out)
    return time.perf_counter() - begun


def measure_plain(count: int, out: Path) -> float:
    """Generation with patterns off: the baseline the pattern overhead is measured against."""
    return measure_generate(count, out, patterns=False)


def measure_floor(count: int, out: Path) -> float:
    """Write count random rows of the transaction schema, in parts as large as generation's shards."""
    from synfinance.bench.random_rows import random_table

    plan = GenerationPlan(GenerationParams(count=count))
    sizes = [plan.shard_rows(s) for s in range(plan.n_shards)]
    block = random_table(TRANSACTION_SCHEMA, max(sizes))
    writer = DatasetWriter(out, "parquet")
    writer.prepare()
    begun = time.perf_counter()
    for shard, rows in enumerate(sizes):
        writer.write_part(shard, block.slice(0, rows))
    return time.perf_counter() - begun


def main(argv: list[str]) -> None:
    kind, count, out = argv[0], int(argv[1]), Path(argv[2])
    seconds = {"generate": measure_generate, "plain": measure_plain, "floor": measure_floor}[kind](count, out)
    emit(kind, {"rows": count, "seconds": seconds})


if __name__ == "__main__":
    main(sys.argv[1:])
