"""Choose the decision threshold that minimises expected cost: missed fraud against manual reviews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Costs:
    missed_fraud_share: float = 1.0  # share of a missed fraud's amount that is lost
    review_inr: float = 50.0  # cost of one manual review of a flagged transaction


def cost_curve(y: np.ndarray, score: np.ndarray, amount_inr: np.ndarray, costs: Costs,
               thresholds: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Expected cost, precision, recall and reviews at each threshold."""
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2) if thresholds is None else thresholds
    fraud_amount = np.where(y == 1, amount_inr, 0.0)
    curve = []
    for t in grid:
        flagged = score >= t
        missed = fraud_amount[~flagged].sum() * costs.missed_fraud_share
        reviews = int(flagged.sum())
        tp = int((flagged & (y == 1)).sum())
        curve.append({
            "threshold": float(t), "cost_inr": float(missed + reviews * costs.review_inr), "reviews": reviews,
            "precision": tp / reviews if reviews else 0.0, "recall": tp / max(int(y.sum()), 1),
        })
    return curve


def best_threshold(curve: list[dict[str, Any]]) -> float:
    return float(min(curve, key=lambda point: (point["cost_inr"], -point["threshold"]))["threshold"])
