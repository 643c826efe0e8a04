"""The model a serving process scores with: loaded from the registry, reloaded when a version or policy changes.

    served = ServedModel(settings.ml, watching=True)
    model = served.ready()                 # ModelUnavailable (503) when there is none, before any state moves
    scored = served.score(x, "flagged")    # score_columns, and the watch's decisions and drift

Every feature-store shard of the API holds one (the model sits where the customer's features are, so a
single score is one hop: docs/api.md). Every RELOAD_CHECK_S it looks at the registry: a version deployed
since, or a policy re-derived with `model deploy V --review-rate R`, is used from the next request on.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from synfinance.errors import ModelError, ModelUnavailable
from synfinance.model import promotion, registry
from synfinance.model.fitting import PolicyRule, rechoose
from synfinance.model.policy import DECISIONS
from synfinance.model.scoring import Scored, score_columns
from synfinance.model.watch import ServedWatch
from synfinance.observability import metrics
from synfinance.schema import FEATURE_NAMES
from synfinance.settings.models import MLConfig

RELOAD_CHECK_S = 2.0  # how often a serving process looks for a newly deployed version or policy


class ServedModel:
    def __init__(self, ml: MLConfig, watching: bool = True) -> None:
        self.ml = ml
        self.watching = watching  # off: no decision counts or drift bins (the baseline of `bench api`)
        self.rule: PolicyRule | None = None  # a decision rule set live, replacing the version's stored policy
        self.watch: ServedWatch | None = None
        self.model: registry.FraudModel | None = None
        self.test_metrics: dict[str, Any] = {}  # the model's test-week metrics, read once with the model
        self.reason = "not loaded yet"
        self.revision: tuple[Any, ...] | None = None
        self.challenger: registry.FraudModel | None = None  # scored beside the champion, never deciding
        self.shadow: promotion.Shadow | None = None
        self.shadow_counts = ShadowCounts()
        self.rng = np.random.default_rng()  # which rows the challenger scores (its share); decides nothing
        self.checked_at = time.monotonic()
        self.guard = threading.RLock()  # threads may score at once (LightGBM predicts concurrently); loading and
        self.load()                      # the watch's counts take turns

    def reconfigure(self, ml: MLConfig) -> None:
        """A changed decision rule (ml.policy, review_rate, decline_precision, review_cost_inr) re-chooses the served
        version's policy from its stored validation scores, as `model deploy V --review-rate R` would, in memory
        (the registry is not written)."""
        rule = PolicyRule.of(ml)
        if rule != PolicyRule.of(self.ml):
            self.ml, self.rule = ml, rule
            self.load()

    def _revision(self, root: Path) -> tuple[Any, ...]:
        return registry.revision(root, self.ml.active_version), promotion.challenger(root)

    def load(self) -> None:
        """Load the active (or pinned) version and the challenger; on failure keep serving the one loaded before."""
        with self.guard:
            root = Path(self.ml.registry_path)
            self.revision = self._revision(root)
            self._load_challenger(root)
            try:
                model = registry.load(root, self.ml.active_version)
            except ModelError as exc:
                self.reason = str(exc)
                return
            metrics_path = root / model.version / "metrics.json"
            self.test_metrics = json.loads(metrics_path.read_text()).get("test", {}) if metrics_path.is_file() else {}
            if self.rule is not None:
                model.policy, chosen = rechoose(root, model.version, self.rule)
                self.test_metrics = chosen.get("test", self.test_metrics)
            self.watch = ServedWatch.of(model, root, self.test_metrics) if self.watching else None
            model.tables  # noqa: B018 - built now, not by the first flagged score
            self.model = model

    def _load_challenger(self, root: Path) -> None:
        shadow = promotion.challenger(root)
        if shadow is None or shadow.version == registry.active_version(root):
            self.challenger, self.shadow = None, None
            return
        if self.shadow is None or self.shadow.version != shadow.version:
            try:
                self.challenger = registry.load(root, shadow.version)
            except ModelError:
                self.challenger, self.shadow = None, None  # a broken challenger never stops the champion
                return
            self.shadow_counts = ShadowCounts()
        self.shadow = shadow

    def ready(self) -> registry.FraudModel:
        """The model to score with (a newer deployment picked up), or ModelUnavailable saying why there is none."""
        now = time.monotonic()
        if self.model is None or now - self.checked_at >= RELOAD_CHECK_S:
            with self.guard:
                self.checked_at = now
                if self.model is None or self._revision(Path(self.ml.registry_path)) != self.revision:
                    self.load()
        model = self.model
        if model is None:
            raise ModelUnavailable(f"no model to score with: {self.reason}")
        return model

    def cached(self) -> dict[str, Any]:
        """The model cache: the loaded version (None when none is) and the size of its trees in memory."""
        if self.model is None:
            return {"version": None, "bytes": 0, "reason": self.reason}
        return {"version": self.model.version, "bytes": len(self.model.booster.model_to_string()),
                "trees": self.model.booster.num_trees()}

    def forget(self) -> None:
        """Drop the loaded model: the next score reads the registry's active version again."""
        with self.guard:
            self.model, self.watch, self.revision, self.reason = None, None, None, "cleared; loaded again on demand"

    def info(self) -> dict[str, Any]:
        """What GET /v1/model shows, or {ready: False, reason}."""
        try:
            model = self.ready()
        except ModelUnavailable as exc:
            return {"ready": False, "reason": str(exc)}
        challenger, shadow = self.challenger, self.shadow
        return {"ready": True, "version": model.version, "policy": model.policy.to_json(),
                "created_at": model.metadata.get("created_at"), "metrics": self.test_metrics,
                "feature_names": list(FEATURE_NAMES), "registry": str(self.ml.registry_path),
                "challenger": None if challenger is None or shadow is None else {
                    "version": challenger.version, "share": shadow.share, "since": shadow.since,
                    "policy": challenger.policy.to_json(), **self.shadow_counts.to_json()}}

    def score(self, x: np.ndarray, explain: str = "flagged") -> Scored:
        scored = score_columns(self.ready(), x, explain)
        watch = self.watch
        if watch is not None and len(scored):
            with self.guard:
                watch.observe(x, scored)
        self._shadow_score(x, scored)
        return scored

    def _shadow_score(self, x: np.ndarray, scored: Scored) -> None:
        """The challenger scores the same features (a share of the rows); what it would have decided is counted
        beside the champion's decision, and nothing else."""
        challenger, shadow = self.challenger, self.shadow
        if challenger is None or shadow is None or not len(scored):
            return
        rows = self.rng.random(len(scored)) < shadow.share
        if not rows.any():
            return
        code = challenger.policy.codes(challenger.predict(x[rows]))
        agree = int((code == scored.code[rows]).sum())
        decided = np.bincount(code, minlength=len(DECISIONS))
        with self.guard:
            self.shadow_counts.add(decided, agree)
        for decision, count in zip(DECISIONS, decided, strict=True):
            if count:
                metrics.SHADOW_SCORES.labels(decision, challenger.version).inc(int(count))
        for label, count in (("yes", agree), ("no", int(rows.sum()) - agree)):
            if count:
                metrics.SHADOW_AGREEMENT.labels(scored.model_version, challenger.version, label).inc(count)


class ShadowCounts:
    """What a challenger did in this process since it started shadowing: rows, decisions, agreement."""

    def __init__(self) -> None:
        self.decisions = np.zeros(len(DECISIONS), dtype=np.int64)
        self.agreed = 0

    def add(self, decided: np.ndarray, agreed: int) -> None:
        self.decisions += decided
        self.agreed += agreed

    def to_json(self) -> dict[str, Any]:
        scored = int(self.decisions.sum())
        return {"scored": scored, "decisions": dict(zip(DECISIONS, self.decisions.tolist(), strict=True)),
                "agreement": self.agreed / scored if scored else None}
