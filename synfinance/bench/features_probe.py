"""Feature-extraction measurements in a fresh process; prints one JSON line.

    python -m synfinance.bench.features_probe batch COUNT [CUSTOMERS]   rows/s of batch extraction, per shard
    python -m synfinance.bench.features_probe floor COUNT     rows/s of only converting the input columns
    python -m synfinance.bench.features_probe online COUNT    p50/p99 ms of one-transaction extraction
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from synfinance.bench.report import emit
from synfinance.features.extractor import FeatureExtractor
from synfinance.features.inputs import INPUT_COLUMNS, to_rows
from synfinance.generation import GenerationParams, GenerationPlan, generate_shard

ONLINE_SAMPLE = 5_000  # transactions extracted one at a time, at most; a tenth of a smaller count


def shards(count: int, customers: int | None = None) -> Iterator[pa.Table]:
    """The dataset's shards one at a time, so only one is ever in memory."""
    plan = GenerationPlan(GenerationParams(count=count, customers=customers))
    return (generate_shard(plan, s) for s in range(plan.n_shards))


def measure(kind: str, count: int, customers: int | None = None) -> dict[str, float]:
    pa.set_cpu_count(1)  # one core: the figure is per core
    parts = shards(count, customers)
    first = next(parts)
    FeatureExtractor().extract(first.slice(0, 2_000))  # warm-up: first calls pay one-off costs
    if kind == "online":
        part = first
        cut = max(part.num_rows - min(ONLINE_SAMPLE, count // 10), 0)
        extractor = FeatureExtractor()
        extractor.extract(part.slice(0, cut))
        latencies = []
        for row in part.slice(cut).select(list(INPUT_COLUMNS)).to_pylist():
            begun = time.perf_counter()
            extractor.extract_one(row)
            latencies.append(time.perf_counter() - begun)
        ms = np.array(latencies) * 1000
        return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)), "n": len(ms)}
    seconds, state_bytes = 0.0, 0
    for part in itertools.chain([first], parts):
        begun = time.perf_counter()
        if kind == "batch":
            extractor = FeatureExtractor()
            extractor.extract(part)
            state_bytes += extractor.state.nbytes()
        else:
            to_rows(part)
        seconds += time.perf_counter() - begun
    return {"seconds": seconds, "rows": count, "state_mb": state_bytes / 2**20}


def main(argv: list[str]) -> None:
    kind, count = argv[0], int(argv[1])
    emit(kind, measure(kind, count, int(argv[2]) if len(argv) > 2 else None))


if __name__ == "__main__":
    main(sys.argv[1:])
