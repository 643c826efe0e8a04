"""Score feature rows with a model: probability, decision, the features that pushed it up, the anomaly score."""

from __future__ import annotations

from typing import Any

import numpy as np

from synfinance.model.decision import decide
from synfinance.model.registry import FraudModel
from synfinance.schema import FEATURE_NAMES

ANOMALY = FEATURE_NAMES.index("anomaly_score")
REASONS = 3


def score_rows(model: FraudModel, x: np.ndarray, explain: bool = True) -> list[dict[str, Any]]:
    """One result per row of a (rows, 69) feature matrix in FEATURE_NAMES order (NaN = missing)."""
    # One thread: a serving process shares the cores with others, and idle OpenMP threads spin.
    probability = model.predict(x, num_threads=1)
    decisions = decide(probability, model.threshold)
    reasons = model.explain(x, REASONS, num_threads=1) if explain else [[] for _ in range(len(x))]
    anomaly = np.nan_to_num(x[:, ANOMALY], nan=0.0)
    return [
        {"fraud_probability": p, "decision": d, "threshold": model.threshold, "model_version": model.version,
         "reasons": [{"feature": name, "contribution": round(c, 6)} for name, c in r], "anomaly_score": a}
        for p, d, r, a in zip(probability.tolist(), decisions.tolist(), reasons, anomaly.tolist(), strict=True)
    ]
