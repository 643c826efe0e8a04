"""Model measurements in a fresh process; prints one JSON line.

    python -m synfinance.bench.model_probe train COUNT     seconds to train on COUNT transactions (2 threads)
    python -m synfinance.bench.model_probe predict COUNT   batch rows/s, single-row p50/p99 ms, and the whole
                                                           scoring path (policy, flagged explanations, Arrow)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from synfinance.bench.report import emit
from synfinance.generation import GenerationParams
from synfinance.model.data import load_labelled, time_split
from synfinance.model.policy import choose
from synfinance.model.registry import FraudModel
from synfinance.model.scoring import score_columns
from synfinance.model.train import train
from synfinance.runner import write_dataset

THREADS = 2
SINGLE_ROWS = 2_000


def measure(kind: str, count: int, work: Path) -> dict[str, float]:
    write_dataset(GenerationParams(count=count), work / "data", features=True)
    data = load_labelled(work / "data")
    split = time_split(data.ts)
    begun = time.perf_counter()
    trained = train(data, split, seed=42, num_threads=THREADS)
    seconds = time.perf_counter() - begun
    if kind == "train":
        return {"seconds": seconds, "rows": int(split.train.sum()), "rounds": trained.best_iteration}
    booster = trained.booster
    begun = time.perf_counter()
    booster.predict(data.x, num_threads=THREADS)
    batch_s = time.perf_counter() - begun
    latencies = []
    for row in data.x[:SINGLE_ROWS]:
        one = row[None, :]
        begun = time.perf_counter()
        booster.predict(one, num_threads=1)
        latencies.append(time.perf_counter() - begun)
    ms = np.array(latencies) * 1000
    valid = data.rows(split.valid)
    policy = choose(valid.y, np.asarray(booster.predict(valid.x)), valid.amount_inr)  # default: 1 % review budget
    model = FraudModel("bench", booster, {}, policy)
    begun = time.perf_counter()
    scored = score_columns(model, data.x, "flagged", num_threads=THREADS)
    scored.table(data.ids, data.ts)
    scoring_s = time.perf_counter() - begun
    return {"batch_rows_per_s": len(data) / batch_s, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "predict_1m_seconds": scoring_s * 1_000_000 / len(data),
            "explained_share": float((scored.reason_index[:, 0] >= 0).mean())}


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="synfinance-bench-model-") as tmp:
        emit(argv[0], measure(argv[0], int(argv[1]), Path(tmp)))


if __name__ == "__main__":
    main(sys.argv[1:])
