"""Pipeline measurements in a fresh process (its own local Ray); prints one JSON line.

    python -m actors.bench pipeline COUNT OUT WORKERS     Ray pipeline, WORKERS actors
    python -m actors.bench local COUNT OUT                in-process write_dataset (no Ray)

Both generate + inject patterns + extract features and write Parquet. Memory: this driver's peak RSS,
plus (pipeline) each worker's and the sink's peak RSS and peak private (anonymous) memory, read from the
actors before they stop. CPU: this process's during the run (every thread), plus (pipeline) each worker's and
the sink's since it started (`cpu_s`, `cpu_us_per_row`: what one row costs, whoever computes it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from actors.handles import connect
from actors.pipeline import run_pipeline
from synfinance.bench.report import emit
from synfinance.generation import GenerationParams
from synfinance.runner import write_dataset
from synfinance.settings.models import RayConfig
from synfinance.sinks import DatasetSink


def measure(kind: str, count: int, workers: int, out: Path) -> dict[str, Any]:
    params = GenerationParams(count=count)
    if kind == "local":
        begun, cpu = time.perf_counter(), time.process_time()
        write_dataset(params, out, features=True)
        seconds, cpu = time.perf_counter() - begun, time.process_time() - cpu
        return {"rows_per_s": count / seconds} | _cpu(count, {"driver": cpu})
    connect(RayConfig(num_cpus=2))
    cpu = time.process_time()
    report = run_pipeline(params, DatasetSink(out), workers=workers, features=True)
    driver = time.process_time() - cpu
    return {"rows_per_s": report.rows / report.seconds, "actors_usage": report.usage,
            "peak_in_flight": report.peak_in_flight} | _cpu(count, {"driver": driver} | {
                name: used["cpu_s"] for name, used in report.usage.items()})


def _cpu(rows: int, by_process: dict[str, float]) -> dict[str, Any]:
    total = sum(by_process.values())
    return {"cpu_s": total, "cpu_us_per_row": total * 1e6 / rows,
            "cpu_s_by_process": {k: round(v, 3) for k, v in by_process.items()}}


def main(argv: list[str]) -> None:
    kind, count, out = argv[0], int(argv[1]), Path(argv[2])
    emit(kind, measure(kind, count, int(argv[3]) if kind == "pipeline" else 0, out))


if __name__ == "__main__":
    main(sys.argv[1:])
