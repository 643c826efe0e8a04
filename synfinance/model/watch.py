"""What a scorer records about what it serves: decisions, the score distributions, drift against training.

    watch = ServedWatch.of(model, registry_root)
    watch.observe(x, scored)        # after every predict, batch or single
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from synfinance.errors import ModelError
from synfinance.model import registry
from synfinance.model.drift import DriftMonitor, Reference
from synfinance.model.policy import DECISIONS
from synfinance.model.scoring import Scored
from synfinance.observability import metrics
from synfinance.schema import FEATURE_NAMES

PSI_EVERY_S = 5.0
# The score histograms take at most HISTOGRAM_PER_S rows a second per process (evenly spaced over a batch); every
# row is counted in the decisions. Ray's metrics agent replays each histogram value one by one in Python, so a
# value per scored row would keep it busy at serving rates (docs/benchmarks.md, design measurements). The drift
# bins are one vectorised pass per feature, so they keep DRIFT_SAMPLE rows of every batch.
HISTOGRAM_PER_S = 64
DRIFT_SAMPLE = 256
TEST_METRICS = ("precision", "recall", "pr_auc", "roc_auc", "review_rate")


class ServedWatch:
    def __init__(self, version: str, score: DriftMonitor, features: DriftMonitor | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.version, self.score, self.features = version, score, features
        self.clock = clock
        self.psi_at = clock()
        self.published = False
        self.second, self.shown = -1, 0  # the histograms' current second, and the rows they took in it

    @classmethod
    def of(cls, model: registry.FraudModel, root: Path, test_metrics: dict[str, float]) -> ServedWatch:
        """The watch of a freshly loaded model; also marks it the one loaded, with its test metrics."""
        for other in metrics.MODEL_LOADED._series:
            metrics.MODEL_LOADED.labels(*other).set(0)
        metrics.MODEL_LOADED.labels(model.version).set(1)
        for name in TEST_METRICS:
            if isinstance(test_metrics.get(name), int | float):
                metrics.MODEL_TEST_METRIC.labels(model.version, name).set(float(test_metrics[name]))
        path = Path(root) / model.version / registry.REFERENCE
        if path.is_file():
            body = json.loads(path.read_text())
            return cls(model.version, DriftMonitor(Reference.from_json(body["score"])),
                       DriftMonitor(Reference.from_json(body["features"])))
        try:  # a model saved before reference.json: its validation scores still give the score's reference
            stored = registry.stored_scores(root, model.version)
            scores = stored.filter(pc.equal(stored["split"], "valid"))["score"].to_numpy()
        except ModelError:  # no stored scores at all: no drift to report
            scores = np.zeros(0)
        return cls(model.version, DriftMonitor(Reference.of(scores) if len(scores) else Reference.of(np.zeros(1))),
                   None)

    def observe(self, x: np.ndarray, scored: Scored) -> None:
        counts = np.bincount(scored.code, minlength=len(DECISIONS))
        for decision, count in zip(DECISIONS, counts.tolist(), strict=True):
            if count:
                metrics.SCORES.labels(decision, self.version).inc(count)
        now = self.clock()
        self._show(scored, int(now))
        rows = spaced(len(scored), DRIFT_SAMPLE)
        self.score.add(scored.probability[rows])
        if self.features is not None:
            self.features.add(x[rows])
        if not self.published or now - self.psi_at >= PSI_EVERY_S:
            self.publish()

    def _show(self, scored: Scored, second: int) -> None:
        """Feed the score histograms what this second's budget (HISTOGRAM_PER_S) has room for."""
        if second != self.second:
            self.second, self.shown = second, 0
        room = HISTOGRAM_PER_S - self.shown
        if room <= 0:
            return
        shown = spaced(len(scored), room)
        probabilities, anomalies = scored.probability[shown].tolist(), scored.anomaly[shown].tolist()
        probability, anomaly = metrics.FRAUD_PROBABILITY.labels(), metrics.ANOMALY_SCORE.labels()
        for p, a in zip(probabilities, anomalies, strict=True):
            probability.observe(p)
            anomaly.observe(a)
        self.shown += len(probabilities)

    def publish(self) -> None:
        """Set the drift gauges now (once enough has been served)."""
        self.psi_at = self.clock()
        score_psi = self.score.psi()
        if score_psi is not None:
            metrics.SCORE_PSI.labels(self.version).set(float(score_psi[0]))
            self.published = True
        feature_psi = self.features.psi() if self.features is not None else None
        if feature_psi is not None:
            for name, value in zip(FEATURE_NAMES, feature_psi.tolist(), strict=True):
                metrics.FEATURE_PSI.labels(self.version, name).set(value)


def spaced(n: int, sample: int) -> np.ndarray | slice:
    """Positions of an evenly spaced sample of `sample` of n rows, first and last included (all of them when n is
    no more than `sample`)."""
    return np.linspace(0, n - 1, sample).astype(np.int64) if n > sample else slice(None)
