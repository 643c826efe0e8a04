"""The one scorer: probability, the policy's decision, reasons where a decision needs them, the anomaly score.

Every path scores through `score_columns`: `model predict`, the runner's and the Ray workers' score stage,
the API, and `stream --score`. Explanations (TreeSHAP contributions) cost far more than a score, so by default
only transactions the policy flags (review or decline) get their top reasons (`explain`: flagged, all, none).

    scored = score_columns(model, x)                      # x: (rows, 69) in FEATURE_NAMES order
    table = scored.table(transaction_ids, scored_at_us)   # PREDICTION_SCHEMA, as Parquet and PostgreSQL take it
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from synfinance.errors import ParameterError, Problem, SchemaError
from synfinance.model.data import feature_matrix
from synfinance.model.policy import DECISIONS, Policy
from synfinance.model.registry import FraudModel, load
from synfinance.schema import FEATURE_NAMES, PREDICTION_SCHEMA, REASON_TYPE

ANOMALY = FEATURE_NAMES.index("anomaly_score")
REASONS = 3
Explain = Literal["flagged", "all", "none"]
EXPLAIN: tuple[Explain, ...] = ("flagged", "all", "none")
_NAMES = pa.array(FEATURE_NAMES, pa.string())


@dataclass(frozen=True)
class Scored:
    """The scores of a batch, column by column (cheap to pass between processes and to write as Arrow)."""

    probability: np.ndarray
    code: np.ndarray  # 0 approve, 1 review, 2 decline (int8)
    reason_index: np.ndarray  # (rows, REASONS) index into FEATURE_NAMES, -1 where none
    reason_value: np.ndarray  # (rows, REASONS) contribution to the log-odds
    anomaly: np.ndarray
    model_version: str
    policy: Policy | None = None
    versions: np.ndarray | None = None  # per row, when the rows were scored by more than one version

    @classmethod
    def empty(cls) -> Scored:
        """The scores of no rows."""
        none = np.zeros((0, REASONS))
        return cls(np.zeros(0), np.zeros(0, np.int8), none.astype(np.int32), none, np.zeros(0), "")

    @classmethod
    def placed(cls, n: int, parts: Sequence[tuple[np.ndarray, Scored]]) -> Scored:
        """The scores of n rows scored in parts (each by its customers' shard): a part's rows go to its positions.
        Parts scored by different versions (a deployment picked up between them) keep each row's own version."""
        if not parts:
            return cls.empty()
        first = parts[0][1]
        out = cls(np.empty(n), np.empty(n, np.int8), np.empty((n, REASONS), np.int32), np.empty((n, REASONS)),
                  np.empty(n), first.model_version, first.policy)
        versions = {part.model_version for _, part in parts}
        if len(versions) > 1:
            object.__setattr__(out, "versions", np.empty(n, dtype=object))
        for positions, part in parts:
            for name in ("probability", "code", "reason_index", "reason_value", "anomaly"):
                getattr(out, name)[positions] = getattr(part, name)
            if out.versions is not None:
                out.versions[positions] = part.model_version
        return out

    def version_of_rows(self) -> list[str]:
        return self.versions.tolist() if self.versions is not None else [self.model_version] * len(self)

    def __len__(self) -> int:
        return len(self.probability)

    @property
    def decision(self) -> np.ndarray:
        """approve / review / decline per row, as Python strings."""
        return np.asarray(DECISIONS, dtype=object)[self.code]

    def reasons(self) -> pa.ListArray:
        """Each row's reasons as list<struct<feature, contribution>> (empty where not explained)."""
        present = self.reason_index >= 0
        offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32)
        values = pa.StructArray.from_arrays(
            [_NAMES.take(pa.array(self.reason_index[present])), pa.array(self.reason_value[present], pa.float64())],
            fields=list(REASON_TYPE.value_type))
        return pa.ListArray.from_arrays(pa.array(offsets), values, type=REASON_TYPE)

    def reason_lists(self) -> list[list[dict[str, Any]]]:
        """Each row's reasons as {feature, contribution}, as the API shows them."""
        return [[{"feature": FEATURE_NAMES[j], "contribution": float(v)} for j, v in zip(i, c, strict=True)
                 if j >= 0] for i, c in zip(self.reason_index, self.reason_value, strict=True)]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, the prediction fields of the API's Score."""
        return [
            {"fraud_probability": p, "decision": d, "model_version": v, "reasons": r, "anomaly_score": a}
            for p, d, r, a, v in zip(self.probability.tolist(), self.decision.tolist(), self.reason_lists(),
                                     self.anomaly.tolist(), self.version_of_rows(), strict=True)
        ]

    def table(self, transaction_ids: pa.Array | pa.ChunkedArray, scored_at_us: np.ndarray | int) -> pa.Table:
        """PREDICTION_SCHEMA rows. scored_at: UTC microseconds, per row or one for all."""
        n = len(self)
        at = np.broadcast_to(np.asarray(scored_at_us, dtype=np.int64), (n,))
        return pa.table([
            transaction_ids, pa.array(self.probability, pa.float64()), pa.array(self.decision, pa.string()),
            self.reasons(), pa.array(self.anomaly, pa.float64()), pa.array(self.version_of_rows(), pa.string()),
            pa.array(at, pa.int64()).cast(PREDICTION_SCHEMA.field("scored_at").type),
        ], schema=PREDICTION_SCHEMA)


def top_reasons(contrib: np.ndarray, k: int = REASONS) -> tuple[np.ndarray, np.ndarray]:
    """The k features pushing each score up the most, largest first (ties: the earlier feature): (index, value)."""
    features = contrib[:, :-1]  # the last column is the bias
    k = min(k, features.shape[1])
    if len(features) == 0:
        return np.zeros((0, k), np.int32), np.zeros((0, k))
    candidates = np.argpartition(-features, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(features, candidates, axis=1)
    order = np.lexsort((candidates, -values), axis=1)  # by value, then by feature index, per row
    index = np.take_along_axis(candidates, order, axis=1).astype(np.int32)
    return index, np.take_along_axis(values, order, axis=1)


def predictions_table(model: FraudModel, transactions: pa.Table, features: pa.Table, explain: str = "flagged",
                      num_threads: int = 1) -> pa.Table:
    """A batch's PREDICTION_SCHEMA rows, scored at each transaction's own time (offline: as at authorisation)."""
    ids = features.column("transaction_id")
    if not ids.equals(transactions.column("transaction_id")):
        raise SchemaError("features and transactions are not row-aligned by transaction_id")
    scored = score_columns(model, feature_matrix(features), explain, num_threads)
    return scored.table(ids, transactions.column("timestamp").cast(pa.int64()).to_numpy())


@dataclass(frozen=True)
class ScoreStage:
    """The score stage of a generation run: a registered model version and which rows to explain.

    Workers load the model themselves (a registry path travels; a booster is not shipped between processes).
    """

    registry: Path
    version: str
    explain: str = "flagged"

    @classmethod
    def of(cls, registry: Path, version: str | None = None, explain: str = "flagged") -> ScoreStage:
        """The stage of a version (default: the active one), its model loaded now: an unknown version, an empty
        registry or a bad `explain` is one clear error before any work."""
        model = load(registry, version)
        stage = cls(registry, model.version, check_explain(explain))
        stage.__dict__["model"] = model  # cached_property's own slot: the model is not loaded twice
        return stage

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "model"}

    @cached_property
    def model(self) -> FraudModel:
        return load(self.registry, self.version)

    def predictions(self, transactions: pa.Table, features: pa.Table) -> pa.Table:
        """One thread: a worker owns one core."""
        return predictions_table(self.model, transactions, features, self.explain, num_threads=1)

    def manifest(self) -> dict[str, Any]:
        """What a dataset's manifest records of the model that scored it."""
        return {"model_version": self.version, "policy": self.model.policy.to_json(), "explain": self.explain,
                "layout": "predictions/part-<shard> beside transactions/part-<shard>"}


def check_explain(explain: str) -> Explain:
    if explain not in EXPLAIN:
        raise ParameterError([Problem("explain", explain, f"one of {', '.join(EXPLAIN)}")])
    return explain


def score_columns(model: FraudModel, x: np.ndarray, explain: str = "flagged", num_threads: int = 1) -> Scored:
    """Scores of every row of a (rows, 69) feature matrix in FEATURE_NAMES order (NaN = missing).

    num_threads 1 suits a serving process (it shares the cores, and idle OpenMP threads spin); batch jobs
    give ml.num_threads.
    """
    explain = check_explain(explain)
    probability = model.predict(x, num_threads=num_threads)
    policy = model.policy
    code = policy.codes(probability)
    index = np.full((len(x), REASONS), -1, dtype=np.int32)
    value = np.zeros((len(x), REASONS))
    if explain == "all":
        index, value = top_reasons(model.contributions(x, num_threads=num_threads))
    elif explain == "flagged" and (rows := np.flatnonzero(code > 0)).size:
        index[rows], value[rows] = top_reasons(model.contributions(x[rows], num_threads=num_threads))
    return Scored(probability, code, index, value, _zero_nan(x[:, ANOMALY]), model.version, policy)


def _zero_nan(values: np.ndarray) -> np.ndarray:
    """NaN as 0 (np.nan_to_num also clips infinities and costs ~15 us on a single score's one value)."""
    return np.where(np.isnan(values), 0.0, values)
