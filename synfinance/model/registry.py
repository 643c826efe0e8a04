"""Model versions on disk: models/<version>/{model.txt, metadata.json, metrics.json, scores.parquet} and an
'active' pointer; policy.json when the decision policy was re-derived after training (`model deploy --review-rate`).

Models are stored in LightGBM's own text format, never pickled. Loading refuses a model whose
feature list or feature-schema fingerprint differs from the code's. scores.parquet keeps the validation and
test weeks' scores and labels, so the policy can be chosen again without retraining; reference.json the
validation weeks' score and feature distributions, against which a scorer measures drift (model.drift).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synfinance.errors import ModelError
from synfinance.model.explain import contributions
from synfinance.model.policy import Policy
from synfinance.model.single_row import SingleRows
from synfinance.model.treeshap import LeafTables
from synfinance.output.files import atomic_path
from synfinance.schema import FEATURE_NAMES, FEATURE_SCHEMA, SCHEMA_VERSION, fingerprint

ACTIVE = "active"
POLICY = "policy.json"
SCORES = "scores.parquet"
REFERENCE = "reference.json"  # training-time distributions of the score and features (model.drift)
_VERSION = re.compile(r"^v\d{4,}$")


@dataclass
class FraudModel:
    version: str
    booster: lgb.Booster
    metadata: dict[str, Any]

    policy: Policy
    single: SingleRows = field(init=False, repr=False, compare=False)  # a few rows without Booster.predict's setup

    def __post_init__(self) -> None:
        self.single = SingleRows(self.booster)

    @cached_property
    def tables(self) -> LeafTables | None:
        """TreeSHAP by lookup (None: LightGBM's walk), built when reasons are first asked for (~0.2 s): a load that
        only predicts (`model activate`, `evaluate`, the patterns report) does not pay for it."""
        return LeafTables.of(self.booster)

    def predict(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """Fraud probability per row of a (rows, 69) matrix in FEATURE_NAMES order (one thread: a few rows go
        through LightGBM's single-row predictor, the same probabilities)."""
        if num_threads == 1:
            return self.single.predict(x)
        return np.asarray(self.booster.predict(x, num_threads=num_threads))

    def contributions(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """(rows, 70): each feature's contribution to the log-odds, last column the bias: looked up in the model's
        TreeSHAP tables (synfinance.model.treeshap; LightGBM's walk for a model they do not cover)."""
        if self.tables is not None:
            return self.tables.contributions(x)
        return contributions(self.booster, x, num_threads)


def versions(root: Path) -> list[str]:
    root = Path(root)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _VERSION.match(p.name)) if root.is_dir() else []


def active_version(root: Path) -> str | None:
    pointer = Path(root) / ACTIVE
    return pointer.read_text().strip() if pointer.is_file() else None


def save(root: Path, booster: lgb.Booster, metadata: dict[str, Any], metrics: dict[str, Any],
         scores: pa.Table | None = None, reference: dict[str, Any] | None = None) -> str:
    """Write a new version (never overwriting one) and return its name. metadata carries its "policy"."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    existing = versions(root)
    version = f"v{int(existing[-1][1:]) + 1:04d}" if existing else "v0001"
    folder = root / version
    folder.mkdir()
    meta = {
        **metadata, "version": version, "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "feature_names": list(FEATURE_NAMES), "feature_fingerprint": fingerprint(FEATURE_SCHEMA),
        "schema_version": SCHEMA_VERSION, "format": "lightgbm-text",
    }
    with atomic_path(folder / "model.txt") as tmp:
        booster.save_model(str(tmp))
    if scores is not None:
        with atomic_path(folder / SCORES) as tmp:
            pq.write_table(scores, tmp, compression="zstd")
    bodies = [("metrics.json", metrics), ("metadata.json", meta)]  # metadata last: marks it complete
    for name, body in ([(REFERENCE, reference)] if reference is not None else []) + bodies:
        with atomic_path(folder / name) as tmp:
            tmp.write_text(json.dumps(body, indent=2, sort_keys=True, default=float) + "\n")
    return version


def set_policy(root: Path, version: str, policy: Policy, metrics: dict[str, Any]) -> None:
    """Replace a version's decision policy and the metrics at it (policy.json last, each file atomically);
    a running API picks the new policy up without a restart."""
    folder = Path(root) / version
    for name, body in (("metrics.json", metrics), (POLICY, policy.to_json())):
        with atomic_path(folder / name) as tmp:
            tmp.write_text(json.dumps(body, indent=2, sort_keys=True, default=float) + "\n")


def stored_scores(root: Path, version: str) -> pa.Table:
    """The validation and test weeks' scores and labels saved with a version."""
    path = Path(root) / version / SCORES
    if not path.is_file():
        raise ModelError(f"model {version} has no {SCORES} (trained before policies were stored); retrain it")
    return pq.read_table(path)


def policy_of(folder: Path, metadata: dict[str, Any]) -> Policy:
    """policy.json if the policy was re-derived, else the one chosen at training (older versions: threshold)."""
    if (folder / POLICY).is_file():
        return Policy.from_json(json.loads((folder / POLICY).read_text()))
    if "policy" in metadata:
        return Policy.from_json(metadata["policy"])
    threshold = float(metadata["threshold"])  # a version from before the policy: review at its threshold
    return Policy(threshold, max(threshold, 0.9), "cost", 0.0, 0.9)


def revision(root: Path, version: str | None = None) -> tuple[str | None, int]:
    """What a running scorer compares to notice a change: the active (or given) version and its policy's mtime."""
    version = version or active_version(root)
    if version is None:
        return None, 0
    policy = Path(root) / version / POLICY
    return version, policy.stat().st_mtime_ns if policy.is_file() else 0


def deploy(root: Path, version: str) -> None:
    load(root, version)  # only a loadable model can become active
    with atomic_path(Path(root) / ACTIVE) as tmp:
        tmp.write_text(version + "\n")


def load(root: Path, version: str | None = None) -> FraudModel:
    """A version (default: the active one), checked against the current feature schema."""
    root = Path(root)
    version = version or active_version(root)
    if version is None:
        raise ModelError(f"{root}: no active model; train one (`synfinance model train`) and deploy it")
    folder = root / version
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        known = ", ".join(versions(root)) or "none"
        raise ModelError(f"model {version!r} not found in {root} (versions: {known})")
    metadata: dict[str, Any] = json.loads(meta_path.read_text())
    if metadata.get("feature_names") != list(FEATURE_NAMES):
        theirs = metadata.get("feature_names") or []
        extra = sorted(set(theirs) - set(FEATURE_NAMES))
        missing = sorted(set(FEATURE_NAMES) - set(theirs))
        raise ModelError(
            f"model {version} was trained on a different feature list (unknown to this code: {extra[:5]}, "
            f"missing: {missing[:5]}); retrain it"
        )
    if metadata.get("feature_fingerprint") != fingerprint(FEATURE_SCHEMA):
        raise ModelError(f"model {version} was trained on another feature schema version; retrain it")
    booster = lgb.Booster(model_file=str(folder / "model.txt"))
    return FraudModel(version, booster, metadata, policy_of(folder, metadata))


def served_metrics(root: Path, version: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """The active (or given) version and its test-week metrics (metrics.json "test"); None when there is none."""
    version = version or active_version(root)
    path = Path(root) / (version or "") / "metrics.json"
    if version is None or not path.is_file():
        return None
    body = json.loads(path.read_text())
    return version, dict(body.get("test", body))
