"""How well one feature alone separates each fraud and anomaly type from legitimate rows (PaySim's flaw: fraud a
single threshold catches).

For every type and every feature (the 69 model features and the raw numeric fields) the best one-feature rule
`feature >= t` or `feature <= t` is the one with the highest recall among those with precision >= 0.95
(against legitimate rows: for a fraud type every row that is not fraud, anomalies included; for an anomaly
type every row that is neither); where no rule reaches that precision, the rule with the best F1 is shown.
A type is *flagged* when its best rule reaches recall >= 0.5 at precision >= 0.95. Also per type: the raw
field whose values separate it best (AUC, 0.5 = none), and, when a model is given, the model's recall at its
decision policy. Empty values never match a rule.

Each feature is sorted once; a type's candidates are its own rows' values, so the work per type is its size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from synfinance.quality.data import Dataset
from synfinance.schema import FEATURE_NAMES

PRECISION = 0.95
FLAG_RECALL = 0.5
RAW_FIELDS = ("amount_inr", "local_hour", "distance_from_home_km", "time_since_last_txn_s", "daily_txn_count",
              "daily_txn_amount_inr", "merchant_reputation", "is_online", "is_first_txn_with_merchant",
              "latitude", "longitude")
KINDS = ("fraud", "anomaly")


@dataclass(frozen=True)
class Rule:
    feature: str
    direction: str  # ">=" or "<="
    threshold: float
    precision: float
    recall: float


@dataclass(frozen=True)
class TypeSeparability:
    kind: str
    name: str
    rows: int
    rule: Rule | None  # highest recall at precision >= PRECISION, else best F1
    raw_field: str | None
    raw_auc: float | None
    model_recall: float | None

    def flagged(self, recall: float = FLAG_RECALL) -> bool:
        return self.rule is not None and self.rule.precision >= PRECISION and self.rule.recall >= recall

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": self.flagged()}


class _Sorted:
    """One column sorted once: where each row lands, where its tie group starts and ends, and how many
    negatives lie below a position."""

    def __init__(self, values: np.ndarray, negative: np.ndarray, weight: float) -> None:
        present = ~np.isnan(values)
        self.order = np.flatnonzero(present)[np.argsort(values[present], kind="stable")]
        self.values = values[self.order]
        n = len(self.order)
        self.rank = np.full(len(values), -1, dtype=np.int64)
        self.rank[self.order] = np.arange(n)
        new = np.r_[True, self.values[1:] != self.values[:-1]]
        self.group_start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
        ends = np.r_[np.flatnonzero(new)[1:], n]
        self.group_end = np.repeat(ends, np.diff(np.r_[np.flatnonzero(new), n]))  # exclusive
        self.neg_below = np.r_[0, np.cumsum(negative[self.order])] * weight  # negatives among the first k


def _best(column: _Sorted, positive_rows: np.ndarray, positives: int, name: str) -> tuple[Rule | None, Rule | None]:
    """(best rule at precision >= PRECISION, best-F1 rule) over both directions; thresholds at positives' values."""
    ranks = np.sort(column.rank[positive_rows])
    ranks = ranks[ranks >= 0]
    if not len(ranks) or positives == 0:
        return None, None
    total_neg = column.neg_below[-1]
    n = len(column.values)
    best_precise: Rule | None = None
    best_f1: tuple[float, Rule] | None = None
    for direction in (">=", "<="):
        if direction == ">=":
            cut = column.group_start[ranks]  # rows at positions >= cut match
            tp = len(ranks) - np.searchsorted(ranks, cut, side="left")
            fp = total_neg - column.neg_below[cut]
        else:
            cut = column.group_end[ranks]  # rows at positions < cut match
            tp = np.searchsorted(ranks, cut, side="left")
            fp = column.neg_below[np.minimum(cut, n)]
        precision = tp / np.maximum(tp + fp, 1e-12)
        recall = tp / positives
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        precise = np.flatnonzero(precision >= PRECISION)
        if len(precise):
            i = precise[np.argmax(recall[precise])]
            rule = Rule(name, direction, float(column.values[ranks[i]]), float(precision[i]), float(recall[i]))
            if best_precise is None or rule.recall > best_precise.recall:
                best_precise = rule
        i = int(np.argmax(f1))
        if best_f1 is None or f1[i] > best_f1[0]:
            best_f1 = (float(f1[i]), Rule(name, direction, float(column.values[ranks[i]]), float(precision[i]),
                                          float(recall[i])))
    return best_precise, None if best_f1 is None else best_f1[1]


def _auc(values: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> float | None:
    """Mann-Whitney AUC of positives over negatives, folded to >= 0.5 (direction does not matter)."""
    pos, neg = values[positive], np.sort(values[negative])
    pos, neg = pos[~np.isnan(pos)], neg[~np.isnan(neg)]
    if not len(pos) or not len(neg):
        return None
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    auc = float((below + 0.5 * ties).sum() / (len(pos) * len(neg)))
    return max(auc, 1 - auc)


def separability(data: Dataset, flagged_by_model: np.ndarray | None = None) -> list[TypeSeparability]:
    """Every fraud and anomaly type of the dataset; flagged_by_model: per row, sent to review or declined."""
    features = data.table("features")
    is_fraud = data.column("is_fraud")
    is_anomaly = data.column("is_anomaly")
    negatives = {"fraud": ~is_fraud, "anomaly": ~is_fraud & ~is_anomaly}
    columns = [(n, data.column(n, "features").astype(np.float64)) for n in FEATURE_NAMES if n in features.column_names]
    raw = [(n, data.column(n).astype(np.float64)) for n in RAW_FIELDS if n in data.transactions.column_names]
    types = []
    for kind in KINDS:
        codes, names = data.codes(f"{kind}_type")
        types += [(kind, str(name), np.flatnonzero(codes == i)) for i, name in enumerate(names)]
    best: dict[tuple[str, str], tuple[Rule | None, Rule | None]] = {}
    for name, values in columns + raw:
        sorted_by_kind = {kind: _Sorted(values, negatives[kind], 1.0) for kind in KINDS}
        for kind, type_name, rows in types:
            precise, f1 = _best(sorted_by_kind[kind], rows, len(rows), name)
            held = best.get((kind, type_name), (None, None))
            keep_precise = held[0] if precise is None or (held[0] is not None and held[0].recall >= precise.recall) \
                else precise
            keep_f1 = f1 if held[1] is None or (f1 is not None and _f1(f1) > _f1(held[1])) else held[1]
            best[(kind, type_name)] = (keep_precise, keep_f1)
    out = []
    for kind, type_name, rows in types:
        positive = np.zeros(data.rows, dtype=bool)
        positive[rows] = True
        aucs = [(n, _auc(v, positive, negatives[kind])) for n, v in raw]
        field, auc = max(((n, a) for n, a in aucs if a is not None), key=lambda t: t[1], default=(None, None))
        precise, f1 = best[(kind, type_name)]
        recall = None if flagged_by_model is None else float(flagged_by_model[rows].mean()) if len(rows) else None
        out.append(TypeSeparability(kind, type_name, len(rows), precise or f1, field, auc, recall))
    return out


def _f1(rule: Rule) -> float:
    return 2 * rule.precision * rule.recall / max(rule.precision + rule.recall, 1e-12)
