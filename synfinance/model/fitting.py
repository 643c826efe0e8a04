"""Fit, evaluate and register a model; a small seeded hyperparameter search around it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synfinance.model import registry
from synfinance.model.data import Labelled, TimeSplit, load_labelled, time_split
from synfinance.model.metrics import evaluate, pr_auc
from synfinance.model.threshold import Costs, best_threshold, cost_curve
from synfinance.model.train import Trained, train
from synfinance.output.dataset import read_manifest

SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "num_leaves": (15, 31, 63),
    "learning_rate": (0.1, 0.2, 0.3),
    "min_data_in_leaf": (100, 200, 400),
    "feature_fraction": (0.6, 0.8, 1.0),
}


@dataclass(frozen=True)
class Fitted:
    version: str
    metrics: dict[str, Any]


def predict(trained: Trained, x: np.ndarray) -> np.ndarray:
    return np.asarray(trained.booster.predict(x, num_iteration=trained.best_iteration))


def _report(data: Labelled, split: TimeSplit, trained: Trained, costs: Costs) -> tuple[float, dict[str, Any]]:
    valid, test = data.rows(split.valid), data.rows(split.test)
    valid_score = predict(trained, valid.x)
    curve = cost_curve(valid.y, valid_score, valid.amount_inr, costs)
    threshold = best_threshold(curve)
    test_score = predict(trained, test.x)
    test_metrics = evaluate(test.y, test_score, threshold, test.fraud_type)
    return threshold, {
        **test_metrics,  # the headline figures (test weeks) at the top, as metrics.json promises
        "valid": evaluate(valid.y, valid_score, threshold, valid.fraud_type),
        "test": test_metrics,
        "cost_curve": curve,
        "costs": vars(costs),
    }


def fit_model(data_dir: Path, models: Path, seed: int, num_threads: int, costs: Costs | None = None,
              overrides: dict[str, Any] | None = None, search: dict[str, Any] | None = None,
              data: Labelled | None = None) -> Fitted:
    """Train on the earliest 70 % of the dataset's time range, pick the threshold on the next 15 %,
    report on the last 15 %, and register the model as a new version.

    data: the dataset already loaded from data_dir (saves reading it again)."""
    costs = costs or Costs()
    data = data if data is not None else load_labelled(data_dir)
    split = time_split(data.ts)
    trained = train(data, split, seed, num_threads, overrides)
    threshold, metrics = _report(data, split, trained, costs)
    if search is not None:
        metrics["search"] = search
    manifest = read_manifest(data_dir)
    metadata = {
        "threshold": threshold, "params": trained.params, "best_iteration": trained.best_iteration,
        "training_data": {"dir": str(data_dir), "seed": manifest.get("seed"), "rows": int(split.train.sum()),
                          "valid_rows": int(split.valid.sum()), "test_rows": int(split.test.sum()),
                          "frauds": int(data.y[split.train].sum()), "valid_from_us": split.valid_from_us,
                          "test_from_us": split.test_from_us},
        "metrics": {k: metrics["test"][k] for k in ("roc_auc", "pr_auc", "recall_at_1pct_fpr", "precision",
                                                    "recall", "f1", "brier")},
    }
    version = registry.save(models, trained.booster, metadata, metrics)
    return Fitted(version, metrics)


def random_search(data: Labelled, trials: int, seed: int, num_threads: int) -> tuple[dict[str, Any], list[Any]]:
    """Try `trials` random points of SEARCH_SPACE (reproducible by seed); the best by validation PR-AUC."""
    split = time_split(data.ts)
    rng = np.random.default_rng(seed)
    valid = data.rows(split.valid)
    history: list[dict[str, Any]] = []
    for _ in range(trials):
        point = {name: options[int(rng.integers(len(options)))] for name, options in SEARCH_SPACE.items()}
        trained = train(data, split, seed, num_threads, point)
        score = pr_auc(valid.y, predict(trained, valid.x))
        history.append({"params": point, "valid_pr_auc": score, "rounds": trained.best_iteration})
    best = max(history, key=lambda h: float(h["valid_pr_auc"]))
    return dict(best["params"]), history


def evaluate_on(model: registry.FraudModel, data_dir: Path) -> dict[str, Any]:
    """Every row of another dataset (e.g. another seed: unseen customers) as a test set."""
    data = load_labelled(data_dir)
    score = model.predict(data.x)
    return evaluate(data.y, score, model.threshold, data.fraud_type)
