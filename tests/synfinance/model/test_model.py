"""Model: leakage guard, time split, determinism, explanations, registry round-trip and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from synfinance.errors import ModelError, SchemaError
from synfinance.generation import GenerationParams
from synfinance.model import registry
from synfinance.model.data import FORBIDDEN, Labelled, feature_matrix, load_labelled, time_split
from synfinance.model.explain import contributions
from synfinance.model.fitting import fit_model
from synfinance.model.metrics import pr_auc, recall_at_fpr, roc_auc
from synfinance.model.threshold import Costs, best_threshold, cost_curve
from synfinance.model.train import train
from synfinance.runner import write_dataset
from synfinance.schema import FEATURE_NAMES, LABEL_FIELDS


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "ds"
    write_dataset(GenerationParams(count=120_000, seed=21, fraud_rate=0.03), out, features=True)
    return out


@pytest.fixture(scope="module")
def labelled(dataset: Path) -> Labelled:
    return load_labelled(dataset)


def test_labels_and_ids_can_never_be_features(labelled: Labelled) -> None:
    assert not set(FEATURE_NAMES) & FORBIDDEN
    assert set(LABEL_FIELDS) <= FORBIDDEN
    table = pa.table({name: np.zeros(3) for name in (*FEATURE_NAMES, "is_fraud")})
    with pytest.raises(SchemaError, match=r"label or id columns \['is_fraud'\]"):
        feature_matrix(table, (*FEATURE_NAMES, "is_fraud"))
    assert labelled.x.shape[1] == 69


def test_time_split_never_mixes_periods(labelled: Labelled) -> None:
    split = time_split(labelled.ts)
    ts = labelled.ts
    assert ts[split.train].max() < ts[split.valid].min() <= ts[split.valid].max() < ts[split.test].min()
    shares = [m.mean() for m in (split.train, split.valid, split.test)]
    assert shares == pytest.approx([0.70, 0.15, 0.15], abs=0.01)
    assert (split.train ^ split.valid ^ split.test).all()


def test_training_is_deterministic_by_seed(labelled: Labelled) -> None:
    split = time_split(labelled.ts)
    a = train(labelled, split, seed=1, num_threads=2).booster.model_to_string()
    b = train(labelled, split, seed=1, num_threads=2).booster.model_to_string()
    c = train(labelled, split, seed=2, num_threads=2).booster.model_to_string()
    strip = lambda text: text.split("parameters:")[0]  # noqa: E731 - the trees, without the echoed params
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


def test_explanations_sum_to_the_raw_score(labelled: Labelled) -> None:
    split = time_split(labelled.ts)
    booster = train(labelled, split, seed=1, num_threads=2).booster
    x = labelled.x[:500]
    contrib = contributions(booster, x)
    assert contrib.shape == (500, 70)
    np.testing.assert_allclose(contrib.sum(axis=1), booster.predict(x, raw_score=True), rtol=1e-9, atol=1e-9)


def test_registry_round_trip_and_refusals(dataset: Path, labelled: Labelled, tmp_path: Path) -> None:
    fitted = fit_model(dataset, tmp_path, seed=3, num_threads=2)
    assert fitted.version == "v0001"
    assert 0.3 < fitted.metrics["test"]["pr_auc"] <= 1.0
    with pytest.raises(ModelError, match="no active model"):
        registry.load(tmp_path)
    registry.deploy(tmp_path, "v0001")
    model = registry.load(tmp_path)
    assert (tmp_path / "v0001" / "model.txt").read_text().startswith("tree")  # LightGBM text, not a pickle
    np.testing.assert_array_equal(model.predict(labelled.x[:1000]), model.booster.predict(labelled.x[:1000]))
    assert 0 < model.policy.review_at < 1 and model.metadata["training_data"]["seed"] == 21
    assert model.policy.decline_at is None or model.policy.decline_at >= model.policy.review_at
    # a model trained on another feature list is refused, with what differs
    meta_path = tmp_path / "v0001" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["feature_names"] = [*meta["feature_names"][:-1], "old_feature"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"different feature list \(unknown to this code: \['old_feature'\]"):
        registry.load(tmp_path, "v0001")
    with pytest.raises(ModelError, match="model 'v0042' not found"):
        registry.load(tmp_path, "v0042")


def test_metrics_on_known_cases() -> None:
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert pr_auc(y, np.array([0.1, 0.9, 0.8, 0.2])) == pytest.approx((1 / 2 + 2 / 3) / 2)  # frauds at ranks 2, 3
    assert recall_at_fpr(np.array([0] * 100 + [1, 1]), np.r_[np.linspace(0, 0.5, 100), [0.9, 0.4]]) == 0.5


def test_threshold_minimises_expected_cost() -> None:
    y = np.array([1, 0, 0, 0])
    score = np.array([0.6, 0.3, 0.2, 0.1])
    amounts = np.array([10_000.0, 10.0, 10.0, 10.0])
    curve = cost_curve(y, score, amounts, Costs(review_inr=50.0))
    best = best_threshold(curve)
    assert 0.3 < best <= 0.6  # catches the fraud and reviews nothing else
    assert min(p["cost_inr"] for p in curve) == 50.0


def test_policy_is_chosen_on_validation_and_rechosen_without_retraining(dataset: Path, tmp_path: Path) -> None:
    # setup: the default policy (review budget 1 %, declines at >= 90 % precision), then a halved budget
    fitted = fit_model(dataset, tmp_path, seed=4, num_threads=2)
    valid, test = fitted.metrics["valid"], fitted.metrics["test"]
    rows = valid["rows"]
    # check: on the validation weeks the rule holds by construction
    assert valid["review_rate"] == pytest.approx(0.01, abs=1.5 / rows)
    assert valid["decline_rate"] == 0 or valid["decline_precision"] >= 0.9
    # on the test weeks (unseen): flagged at most the budget plus the frauds, most of them fraud, most frauds caught
    frauds = test["frauds"] / test["rows"]
    assert test["flagged_rate"] <= 0.01 + frauds + 3 * np.sqrt(frauds / test["rows"])
    # with 3 % fraud and a 1 % review budget, recall rests on the declines; the legitimate look-alikes leave fewer
    # frauds certain enough to decline, and 120,000 rows give about 0.45
    assert test["precision"] >= 0.5 and test["recall"] >= 0.4, (test["precision"], test["recall"])
    model = registry.load(tmp_path, fitted.version)
    assert model.policy.to_json() == fitted.metrics["policy"]
    before = registry.revision(tmp_path, fitted.version)

    from synfinance.model.fitting import PolicyRule, repolicy

    again = repolicy(tmp_path, fitted.version, PolicyRule(review_rate=0.005))
    assert again.metrics["valid"]["review_rate"] == pytest.approx(0.005, abs=1.5 / rows)
    assert again.metrics["valid"]["decline_rate"] == valid["decline_rate"]  # the decline rule did not change
    reloaded = registry.load(tmp_path, fitted.version)
    assert reloaded.policy.review_at > model.policy.review_at and reloaded.policy.review_rate == 0.005
    assert json.loads((tmp_path / fitted.version / "metrics.json").read_text())["policy"] == reloaded.policy.to_json()
    assert registry.revision(tmp_path, fitted.version) != before  # what a running scorer watches for
