"""Fit, evaluate and register a model; a small seeded hyperparameter search around it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import ModelError
from synfinance.model import registry
from synfinance.model.data import Labelled, load_labelled, time_split
from synfinance.model.drift import Reference
from synfinance.model.metrics import evaluate, pr_auc
from synfinance.model.policy import Policy, check, choose
from synfinance.model.threshold import Costs, cost_curve
from synfinance.model.train import Trained, train
from synfinance.output.dataset import read_manifest
from synfinance.settings.models import MLConfig

MIN_ROWS, MIN_FRAUDS = 200, 20  # fewer cannot be split into training, validation and test weeks that mean anything
SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "num_leaves": (15, 31, 63),
    "learning_rate": (0.1, 0.2, 0.3),
    "min_data_in_leaf": (100, 200, 400),
    "feature_fraction": (0.6, 0.8, 1.0),
}


@dataclass(frozen=True)
class PolicyRule:
    """How to choose the decision policy on the validation weeks (settings ml.policy, ml.review_rate, ...)."""

    rule: str = "budget"
    review_rate: float = 0.01
    decline_precision: float = 0.9
    costs: Costs = Costs()

    def __post_init__(self) -> None:
        check(self.rule, self.review_rate, self.decline_precision, self.costs.review_inr)

    @classmethod
    def of(cls, ml: MLConfig) -> PolicyRule:
        """The rule the settings ask for (ml.policy, ml.review_rate, ml.decline_precision, ml.review_cost_inr)."""
        return cls(ml.policy, ml.review_rate, ml.decline_precision, Costs(review_inr=ml.review_cost_inr))

    def choose(self, y: np.ndarray, score: np.ndarray, amount_inr: np.ndarray) -> Policy:
        return choose(y, score, amount_inr, self.rule, self.review_rate, self.decline_precision, self.costs)


@dataclass(frozen=True)
class Fitted:
    version: str
    metrics: dict[str, Any]


def predict(trained: Trained, x: np.ndarray) -> np.ndarray:
    return np.asarray(trained.booster.predict(x, num_iteration=trained.best_iteration))


def scores_table(valid: Labelled, valid_score: np.ndarray, test: Labelled, test_score: np.ndarray) -> pa.Table:
    """The validation and test weeks' scores and labels, kept with the version (registry.SCORES)."""
    return pa.table({
        "split": pa.array(["valid"] * len(valid) + ["test"] * len(test)),
        "score": np.concatenate([valid_score, test_score]),
        "is_fraud": np.concatenate([valid.y, test.y]).astype(bool),
        "fraud_type": pa.array(list(valid.fraud_type) + list(test.fraud_type), pa.string()),
        "amount_inr": np.concatenate([valid.amount_inr, test.amount_inr]),
    })


class Split(NamedTuple):
    """One split's rows of a version's stored scores."""

    y: np.ndarray
    score: np.ndarray
    fraud_type: np.ndarray
    amount_inr: np.ndarray


def stored_split(scores: pa.Table, split: str) -> Split:
    rows = scores.filter(pc.equal(scores["split"], split))
    return Split(rows["is_fraud"].to_numpy(zero_copy_only=False).astype(np.int8), rows["score"].to_numpy(),
                 np.array(rows["fraud_type"].to_pylist(), dtype=object), rows["amount_inr"].to_numpy())


def report(policy: Policy, scores: pa.Table, costs: Costs) -> dict[str, Any]:
    """metrics.json: test weeks at the top (headline), validation weeks, the policy and the cost curve."""
    valid, test = stored_split(scores, "valid"), stored_split(scores, "test")
    test_metrics = evaluate(test.y, test.score, policy, test.fraud_type)
    return {
        **test_metrics,  # the headline figures (test weeks) at the top, as metrics.json promises
        "valid": evaluate(valid.y, valid.score, policy, valid.fraud_type),
        "test": test_metrics,
        "policy": policy.to_json(),
        "cost_curve": cost_curve(valid.y, valid.score, valid.amount_inr, costs),
        "costs": vars(costs),
    }


def fit_model(data_dir: Path, models: Path, seed: int, num_threads: int, rule: PolicyRule | None = None,
              overrides: dict[str, Any] | None = None, search: dict[str, Any] | None = None,
              data: Labelled | None = None) -> Fitted:
    """Train on the earliest 70 % of the dataset's time range, choose the decision policy on the next 15 %,
    report on the last 15 %, and register the model as a new version.

    data: the dataset already loaded from data_dir (saves reading it again)."""
    data = data if data is not None else load_labelled(data_dir)
    source = {"dir": str(data_dir), "seed": read_manifest(data_dir).get("seed")}
    return fit_labelled(data, source, models, seed, num_threads, rule, overrides, search)


def fit_labelled(data: Labelled, source: dict[str, Any], models: Path, seed: int, num_threads: int,
                 rule: PolicyRule | None = None, overrides: dict[str, Any] | None = None,
                 search: dict[str, Any] | None = None) -> Fitted:
    """fit_model on rows already labelled (a dataset's, or what the service stored); `source` says where they came
    from and goes into the registry's training_data."""
    rule = rule or PolicyRule()
    if int(data.y.sum()) < MIN_FRAUDS or len(data) < MIN_ROWS:
        raise ModelError(f"{len(data):,} labelled rows with {int(data.y.sum()):,} frauds: at least {MIN_ROWS:,} rows "
                         f"and {MIN_FRAUDS} frauds are needed to train, choose a policy and test")
    split = time_split(data.ts)
    trained = train(data, split, seed, num_threads, overrides)
    valid, test = data.rows(split.valid), data.rows(split.test)
    valid_score, test_score = predict(trained, valid.x), predict(trained, test.x)
    policy = rule.choose(valid.y, valid_score, valid.amount_inr)
    scores = scores_table(valid, valid_score, test, test_score)
    metrics = report(policy, scores, rule.costs)
    if search is not None:
        metrics["search"] = search
    metadata = {
        "threshold": policy.review_at, "policy": policy.to_json(), "params": trained.params,
        "best_iteration": trained.best_iteration,
        "training_data": {**source, "rows": int(split.train.sum()),
                          "valid_rows": int(split.valid.sum()), "test_rows": int(split.test.sum()),
                          "frauds": int(data.y[split.train].sum()), "valid_from_us": split.valid_from_us,
                          "test_from_us": split.test_from_us},
        "metrics": {k: metrics["test"][k] for k in ("roc_auc", "pr_auc", "recall_at_1pct_fpr", "precision",
                                                    "recall", "f1", "brier", "review_rate", "decline_rate",
                                                    "flagged_rate")},
    }
    reference = {"score": Reference.of(valid_score).to_json(), "features": Reference.of(valid.x).to_json()}
    version = registry.save(models, trained.booster, metadata, metrics, scores, reference)
    return Fitted(version, metrics)


def rechoose(models: Path, version: str, rule: PolicyRule) -> tuple[Policy, dict[str, Any]]:
    """A version's policy chosen again by `rule` from its stored validation scores, with its metrics."""
    scores = registry.stored_scores(models, version)
    valid = stored_split(scores, "valid")
    policy = rule.choose(valid.y, valid.score, valid.amount_inr)
    return policy, report(policy, scores, rule.costs)


def repolicy(models: Path, version: str, rule: PolicyRule) -> Fitted:
    """Choose a version's policy again from its stored validation scores (no retraining); metrics.json follows."""
    policy, metrics = rechoose(models, version, rule)
    registry.set_policy(models, version, policy, metrics)
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


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]
    y: np.ndarray
    score: np.ndarray


def evaluate_on(model: registry.FraudModel, data_dir: Path, num_threads: int = 0) -> Evaluation:
    """Every row of another dataset (e.g. another seed: unseen customers) as a test set, at the model's policy."""
    data = load_labelled(data_dir)
    score = model.predict(data.x, num_threads=num_threads)
    return Evaluation(evaluate(data.y, score, model.policy, data.fraud_type), data.y, score)
