"""What ServedWatch records of a batch: every row's decision, its scores in the histograms up to a budget of rows a
second, and a bigger sample in the drift bins."""

from __future__ import annotations

import numpy as np
import pytest

from synfinance.model.drift import DriftMonitor, Reference
from synfinance.model.policy import DECISIONS
from synfinance.model.scoring import REASONS, Scored
from synfinance.model.watch import DRIFT_SAMPLE, HISTOGRAM_PER_S, ServedWatch, spaced
from synfinance.observability import metrics
from synfinance.schema import FEATURE_NAMES

VERSION = "watch-test"


def scored(n: int, seed: int) -> Scored:
    rng = np.random.default_rng(seed)
    return Scored(rng.random(n), rng.integers(0, 3, n).astype(np.int8), np.full((n, REASONS), -1, np.int32),
                  np.zeros((n, REASONS)), rng.random(n), VERSION)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.prometheus().registry.get_sample_value(name, labels or {}) or 0.0


class Clock:
    """The watch's time, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.25

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watch(clock: Clock) -> ServedWatch:
    metrics.use_backend(metrics.prometheus())  # this process's own registry, whatever another test installed
    reference = Reference.of(np.random.default_rng(0).random((500, len(FEATURE_NAMES))))
    return ServedWatch(VERSION, DriftMonitor(Reference.of(np.linspace(0, 1, 500))), DriftMonitor(reference), clock)


def shown_count() -> tuple[float, float]:
    return sample("synfinance_fraud_probability_count"), sample("synfinance_anomaly_score_count")


@pytest.mark.parametrize("rows", [1, HISTOGRAM_PER_S, HISTOGRAM_PER_S + 1, DRIFT_SAMPLE + 1, 1000])
def test_a_batch_feeds_the_histograms_and_drift_a_sample_and_counts_every_decision(watch: ServedWatch,
                                                                                   rows: int) -> None:
    batch = scored(rows, seed=rows)
    x = np.random.default_rng(rows).random((rows, len(FEATURE_NAMES)))
    before_p, before_a = sample("synfinance_fraud_probability_count"), sample("synfinance_anomaly_score_count")
    before_sum = sample("synfinance_fraud_probability_sum")
    before_d = {d: sample("synfinance_scores_total", {"decision": d, "model_version": VERSION}) for d in DECISIONS}

    watch.observe(x, batch)

    shown = min(rows, HISTOGRAM_PER_S)  # the first batch of a second: the whole budget is free
    assert sample("synfinance_fraud_probability_count") - before_p == shown
    assert sample("synfinance_anomaly_score_count") - before_a == shown
    picked = batch.probability[spaced(rows, HISTOGRAM_PER_S)]  # evenly spaced, first and last rows included
    assert sample("synfinance_fraud_probability_sum") - before_sum == pytest.approx(picked.sum(), rel=1e-12)
    if rows > HISTOGRAM_PER_S:
        assert picked[0] == batch.probability[0] and picked[-1] == batch.probability[-1]
    assert watch.score.served == watch.features.served == min(rows, DRIFT_SAMPLE)  # type: ignore[union-attr]
    for code, decision in enumerate(DECISIONS):
        assert (sample("synfinance_scores_total", {"decision": decision, "model_version": VERSION})
                - before_d[decision]) == int((batch.code == code).sum())


def test_the_histograms_take_at_most_their_budget_of_rows_a_second(watch: ServedWatch, clock: Clock) -> None:
    def decided() -> float:
        return sum(sample("synfinance_scores_total", {"decision": d, "model_version": VERSION}) for d in DECISIONS)

    x = np.zeros((1, len(FEATURE_NAMES)))
    before, before_decided = shown_count(), decided()
    for i in range(HISTOGRAM_PER_S + 5):  # single scores, all in one second
        watch.observe(x, scored(1, seed=i))
    assert shown_count() == (before[0] + HISTOGRAM_PER_S, before[1] + HISTOGRAM_PER_S)
    assert decided() - before_decided == HISTOGRAM_PER_S + 5  # every score is still counted

    clock.now += 1.0  # the next second: a batch gets the whole budget again, evenly spaced
    before = shown_count()
    batch = scored(1000, seed=1)
    watch.observe(np.zeros((1000, len(FEATURE_NAMES))), batch)
    assert shown_count() == (before[0] + HISTOGRAM_PER_S, before[1] + HISTOGRAM_PER_S)


def test_a_batch_gets_what_is_left_of_the_second(watch: ServedWatch, clock: Clock) -> None:
    x = np.zeros((1, len(FEATURE_NAMES)))
    for i in range(HISTOGRAM_PER_S - 10):
        watch.observe(x, scored(1, seed=i))
    before_p, before_sum = sample("synfinance_fraud_probability_count"), sample("synfinance_fraud_probability_sum")
    batch = scored(100, seed=7)
    watch.observe(np.zeros((100, len(FEATURE_NAMES))), batch)
    assert sample("synfinance_fraud_probability_count") - before_p == 10
    picked = batch.probability[spaced(100, 10)]
    assert sample("synfinance_fraud_probability_sum") - before_sum == pytest.approx(picked.sum(), rel=1e-12)
