"""Score feature rows with a model: probability, decision, the features that pushed it up, the anomaly score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synfinance.model.decision import decide
from synfinance.model.registry import FraudModel
from synfinance.schema import FEATURE_NAMES

ANOMALY = FEATURE_NAMES.index("anomaly_score")
REASONS = 3


@dataclass(frozen=True)
class Scored:
    """The scores of a batch, column by column (cheap to pass between processes and to write as Arrow)."""

    probability: np.ndarray
    decision: np.ndarray  # approve / review / decline, as Python strings
    threshold: float
    model_version: str
    reasons: list[list[tuple[str, float]]]  # per row; empty lists when not explained
    anomaly: np.ndarray

    @classmethod
    def empty(cls) -> Scored:
        """The scores of no rows."""
        return cls(np.zeros(0), np.zeros(0, object), 0.0, "", [], np.zeros(0))

    def __len__(self) -> int:
        return len(self.probability)

    def reason_lists(self) -> list[list[dict[str, Any]]]:
        """Each row's reasons as {feature, contribution} (rounded to 6 places), as the API and store show them."""
        return [[{"feature": name, "contribution": round(c, 6)} for name, c in r] for r in self.reasons]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, the fields of the API's Score."""
        return [
            {"fraud_probability": p, "decision": d, "threshold": self.threshold, "model_version": self.model_version,
             "reasons": r, "anomaly_score": a}
            for p, d, r, a in zip(self.probability.tolist(), self.decision.tolist(), self.reason_lists(),
                                  self.anomaly.tolist(), strict=True)
        ]


def score_columns(model: FraudModel, x: np.ndarray, explain: bool = True) -> Scored:
    """Scores of every row of a (rows, 69) feature matrix in FEATURE_NAMES order (NaN = missing)."""
    # One thread: a serving process shares the cores with others, and idle OpenMP threads spin.
    probability = model.predict(x, num_threads=1)
    reasons = model.explain(x, REASONS, num_threads=1) if explain else [[] for _ in range(len(x))]
    return Scored(probability, decide(probability, model.threshold), model.threshold, model.version, reasons,
                  np.nan_to_num(x[:, ANOMALY], nan=0.0))

