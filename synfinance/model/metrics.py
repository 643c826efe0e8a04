"""Evaluation of fraud scores: ranking, the decision policy's outcomes, calibration, per-type recall."""

from __future__ import annotations

from typing import Any

import numpy as np

from synfinance.model.policy import Policy, outcomes


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision: the mean of precision at each fraud's rank (ties broken pessimistically)."""
    order = np.lexsort((y, -score))  # within tied scores, genuine rows first
    hits = y[order] == 1
    if not hits.any():
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, len(y) + 1)
    return float(precision[hits].mean())


def recall_at_fpr(y: np.ndarray, score: np.ndarray, fpr: float = 0.01) -> float:
    negatives = np.sort(score[y == 0])
    if len(negatives) == 0 or not (y == 1).any():
        return float("nan")
    cut = negatives[min(int(np.ceil((1 - fpr) * len(negatives))), len(negatives) - 1)]
    return float((score[y == 1] > cut).mean())


def reliability(y: np.ndarray, score: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(score, edges) - 1, 0, bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            table.append({"from": float(edges[b]), "to": float(edges[b + 1]), "rows": int(inside.sum()),
                          "mean_score": float(score[inside].mean()), "fraud_rate": float(y[inside].mean())})
    return table


def evaluate(y: np.ndarray, score: np.ndarray, policy: Policy, fraud_type: np.ndarray) -> dict[str, Any]:
    """Every metric of the report, as plain JSON-able values; "flagged" means reviewed or declined."""
    at_policy = outcomes(y, score, policy, fraud_type)
    precision, recall = at_policy["precision"], at_policy["recall"]
    return {
        "rows": len(y), "frauds": int(y.sum()), "threshold": policy.review_at,
        "roc_auc": roc_auc(y, score), "pr_auc": pr_auc(y, score),
        **at_policy,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "recall_at_1pct_fpr": recall_at_fpr(y, score, 0.01),
        "brier": float(np.mean((score - y) ** 2)),
        "reliability": reliability(y, score),
    }
