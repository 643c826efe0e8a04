"""The quality checks in a fresh process pinned to one core; prints a JSON line.

    python -m synfinance.bench.quality_probe generate COUNT DATASET_DIR   (the dataset, with features; not timed)
    python -m synfinance.bench.quality_probe check COUNT DATASET_DIR      (read, then every validator, drift
                                                                           against the dataset's own profile)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads its BLAS
    os.environ[_threads] = "1"

import pyarrow as pa  # noqa: E402

from synfinance.bench.report import emit  # noqa: E402
from synfinance.generation import GenerationParams  # noqa: E402
from synfinance.quality.data import Dataset  # noqa: E402
from synfinance.quality.profile import profile  # noqa: E402
from synfinance.quality.run import check  # noqa: E402
from synfinance.runner import write_dataset  # noqa: E402


def main(argv: list[str]) -> None:
    kind, count, directory = argv[0], int(argv[1]), Path(argv[2])
    if kind == "generate":
        write_dataset(GenerationParams(count=count), directory, features=True)
        emit(kind, {"rows": count})
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core: the figure is per core
    pa.set_cpu_count(1)
    baseline = {"profile": profile(Dataset.read(directory))}  # the drift check runs too (against itself)
    begun = time.perf_counter()
    data = Dataset.read(directory, baseline)
    read_s = time.perf_counter() - begun
    begun = time.perf_counter()
    findings = check(data)
    check_s = time.perf_counter() - begun
    emit(kind, {"rows": data.rows, "read_seconds": read_s, "check_seconds": check_s,
                "validators": {f.validator: f.seconds for f in findings},
                "violations": sum(len(f.violations) for f in findings)})


if __name__ == "__main__":
    main(sys.argv[1:])
