"""What ServedWatch records of a batch: every row's decision, a sample of its scores in the histograms and a bigger
one in the drift bins."""

from __future__ import annotations

import numpy as np
import pytest

from synfinance.model.drift import DriftMonitor, Reference
from synfinance.model.policy import DECISIONS
from synfinance.model.scoring import REASONS, Scored
from synfinance.model.watch import DRIFT_SAMPLE, HISTOGRAM_SAMPLE, ServedWatch, spaced
from synfinance.observability import metrics
from synfinance.schema import FEATURE_NAMES

VERSION = "watch-test"


def scored(n: int, seed: int) -> Scored:
    rng = np.random.default_rng(seed)
    return Scored(rng.random(n), rng.integers(0, 3, n).astype(np.int8), np.full((n, REASONS), -1, np.int32),
                  np.zeros((n, REASONS)), rng.random(n), VERSION)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.prometheus().registry.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture
def watch() -> ServedWatch:
    metrics.use_backend(metrics.prometheus())  # this process's own registry, whatever another test installed
    reference = Reference.of(np.random.default_rng(0).random((500, len(FEATURE_NAMES))))
    return ServedWatch(VERSION, DriftMonitor(Reference.of(np.linspace(0, 1, 500))), DriftMonitor(reference))


@pytest.mark.parametrize("rows", [1, HISTOGRAM_SAMPLE, HISTOGRAM_SAMPLE + 1, DRIFT_SAMPLE + 1, 1000])
def test_a_batch_feeds_the_histograms_and_drift_a_sample_and_counts_every_decision(watch: ServedWatch,
                                                                                   rows: int) -> None:
    batch = scored(rows, seed=rows)
    x = np.random.default_rng(rows).random((rows, len(FEATURE_NAMES)))
    before_p, before_a = sample("synfinance_fraud_probability_count"), sample("synfinance_anomaly_score_count")
    before_sum = sample("synfinance_fraud_probability_sum")
    before_d = {d: sample("synfinance_scores_total", {"decision": d, "model_version": VERSION}) for d in DECISIONS}

    watch.observe(x, batch)

    shown = min(rows, HISTOGRAM_SAMPLE)
    assert sample("synfinance_fraud_probability_count") - before_p == shown
    assert sample("synfinance_anomaly_score_count") - before_a == shown
    picked = batch.probability[spaced(rows, HISTOGRAM_SAMPLE)]  # evenly spaced, first and last rows included
    assert sample("synfinance_fraud_probability_sum") - before_sum == pytest.approx(picked.sum(), rel=1e-12)
    if rows > HISTOGRAM_SAMPLE:
        assert picked[0] == batch.probability[0] and picked[-1] == batch.probability[-1]
    assert watch.score.served == watch.features.served == min(rows, DRIFT_SAMPLE)  # type: ignore[union-attr]
    for code, decision in enumerate(DECISIONS):
        assert (sample("synfinance_scores_total", {"decision": decision, "model_version": VERSION})
                - before_d[decision]) == int((batch.code == code).sum())
