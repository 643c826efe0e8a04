"""The decision policy (thresholds chosen on validation data by a stated rule) and the one scorer's columns."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from synfinance.errors import ParameterError
from synfinance.model.policy import Policy, calibrated, choose, decline_threshold, outcomes
from synfinance.model.scoring import Scored, top_reasons
from synfinance.schema import FEATURE_NAMES, PREDICTION_SCHEMA
from synfinance.store.predictions import stored_predictions


def validation(n: int = 20_000, fraud_rate: float = 0.02, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores where fraud scores high but overlaps the genuine tail (like a real model's)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < fraud_rate).astype(np.int8)
    score = np.where(y == 1, rng.beta(5, 2, n), rng.beta(1, 12, n))
    return y, score


def precision_above(y: np.ndarray, score: np.ndarray, t: float) -> float:
    return float(y[score >= t].mean())


def test_decline_threshold_is_where_a_transaction_is_that_likely_fraud() -> None:
    y, score = validation()
    t = decline_threshold(y, score, 0.9)
    assert t is not None and precision_above(y, score, t) >= 0.9
    ranked = np.sort(score)[::-1]
    k = int((score >= t).sum())
    # the next rows down the ranking are fraud less often than the precision asked for (the calibrated rate
    # fell below it), while the declined block as a whole is well above it
    below = (score < t) & (score >= ranked[min(k + 200, len(ranked) - 1)])
    assert y[below].mean() < 0.9 < precision_above(y, score, t)


def test_calibration_is_monotone_and_keeps_the_fraud_count() -> None:
    y, score = validation(5000)
    fitted = calibrated(y, score)
    order = np.argsort(score, kind="stable")
    assert (np.diff(fitted[order]) >= -1e-12).all()  # non-decreasing in score
    assert fitted.sum() == pytest.approx(y.sum())  # least squares with a free level keeps the mean


def test_no_decline_when_no_threshold_reaches_the_precision() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(5000) < 0.02).astype(np.int8)
    assert decline_threshold(y, rng.random(5000), 0.9) is None  # scores that say nothing: no sure declines


def test_budget_sends_exactly_the_review_rate_to_review() -> None:
    y, score = validation()
    policy = choose(y, score, np.ones(len(y)), "budget", review_rate=0.01, decline_precision=0.9)
    codes = policy.codes(score)
    assert int((codes == 1).sum()) == round(0.01 * len(y))  # scores are continuous: no ties at the cut
    assert policy.decline_at is not None and policy.review_at < policy.decline_at
    assert precision_above(y, score, policy.decline_at) >= 0.9


def test_cost_rule_reviews_where_expected_cost_is_least() -> None:
    y, score = validation()
    amounts = np.full(len(y), 10_000.0)  # every fraud costs far more than a review: review generously
    generous = choose(y, score, amounts, "cost", decline_precision=0.9)
    cheap_fraud = choose(y, score, np.full(len(y), 10.0), "cost", decline_precision=0.9)
    assert generous.review_at < cheap_fraud.review_at


def test_decisions_and_outcomes_follow_the_policy() -> None:
    policy = Policy(review_at=0.5, decline_at=0.9, rule="budget", review_rate=0.01, decline_precision=0.9)
    p = np.array([0.1, 0.5, 0.89, 0.9, 0.99])
    assert policy.decide(p).tolist() == ["approve", "review", "review", "decline", "decline"]
    y = np.array([0, 0, 1, 1, 1], dtype=np.int8)
    kinds = np.array([None, None, "card_testing", "card_testing", "stolen_card"], dtype=object)
    result = outcomes(y, p, policy, kinds)
    assert result["review_rate"] == 0.4 and result["decline_rate"] == 0.4
    assert result["precision"] == 0.75 and result["recall"] == 1.0 and result["decline_precision"] == 1.0
    assert result["per_type_recall"] == {"card_testing": 1.0, "stolen_card": 1.0}
    assert Policy.from_json(policy.to_json()) == policy


@pytest.mark.parametrize(("args", "field"), [
    pytest.param(("often", 0.01, 0.9), "policy", id="rule"),
    pytest.param(("budget", 0.0, 0.9), "review_rate", id="no-budget"),
    pytest.param(("budget", 0.5, 0.9), "review_rate", id="budget-too-large"),
    pytest.param(("budget", 0.01, 0.2), "decline_precision", id="precision-too-low"),
])
def test_bad_policy_settings_are_named(args: tuple[str, float, float], field: str) -> None:
    y, score = validation(2000)
    with pytest.raises(ParameterError) as error:
        choose(y, score, np.ones(len(y)), *args)
    assert [p.field for p in error.value.problems] == [field]


def test_top_reasons_match_a_full_sort() -> None:
    rng = np.random.default_rng(7)
    contrib = rng.normal(size=(300, len(FEATURE_NAMES) + 1))
    contrib[:5, :10] = 1.0  # ties: the earlier feature comes first
    index, value = top_reasons(contrib)
    features = contrib[:, :-1]
    expected = np.array([sorted(range(features.shape[1]), key=lambda j: (-row[j], j))[:3] for row in features])
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_array_equal(value, np.take_along_axis(features, expected, axis=1))


def scored_rows() -> Scored:
    index = np.array([[-1, -1, -1], [4, 0, 9]], dtype=np.int32)
    value = np.array([[0.0, 0.0, 0.0], [1.5, 0.25, -0.125]])
    return Scored(np.array([0.1, 0.95]), np.array([0, 2], np.int8), index, value, np.array([0.0, 0.3]), "v0007")


def test_the_predictions_table_has_the_one_schema() -> None:
    table = scored_rows().table(pa.array(["a", "b"]), np.array([1_000_000, 2_000_000]))
    assert table.schema.equals(PREDICTION_SCHEMA, check_metadata=True)
    assert table.column("decision").to_pylist() == ["approve", "decline"]
    assert table.column("reasons").to_pylist() == [[], [
        {"feature": FEATURE_NAMES[4], "contribution": 1.5}, {"feature": FEATURE_NAMES[0], "contribution": 0.25},
        {"feature": FEATURE_NAMES[9], "contribution": -0.125}]]
    assert scored_rows().reason_lists() == [[r for r in row] for row in table.column("reasons").to_pylist()]


def test_stored_reasons_are_the_same_json() -> None:
    table = scored_rows().table(pa.array(["a", "b"]), 0)
    text = stored_predictions(table).column("reasons").to_pylist()
    assert [json.loads(t) for t in text] == table.column("reasons").to_pylist()
