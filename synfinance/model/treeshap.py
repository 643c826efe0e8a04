"""Exact TreeSHAP contributions of a LightGBM model, for many rows at once, from per-leaf tables.

LightGBM's `predict(pred_contrib=True)` walks every tree once per row and, at each leaf, unwinds the path in
O(depth^2): ~0.65 ms a row for the served model (148 trees, depth 6), as much as predicting 1,000 rows. Yet a
leaf's share depends on a row only through which of its path's conditions the row meets: with at most `d`
distinct features on the path, `2^d` cases, each weighted by Shapley's formula,

    phi_j = v * (o_j - z_j) * sum over S in P\\{j} of |S|! (d-|S|-1)! / d! * prod(o_k, k in S) * prod(z_k, k not in S)

(v the leaf value, z_k the share of the training rows that went the leaf's way at feature k's splits, o_k 1 when
the row goes that way at all of them). So the model's tables are computed once, at load, and a row's
contributions are a table lookup per leaf (Lundberg et al. 2020's path-dependent TreeSHAP; tabulated as in
Yang 2021's Fast TreeSHAP v2). The values are LightGBM's up to rounding (tests: 1e-12); every path (API, offline
scoring, `debug`) uses these, so they agree with each other bit for bit.

    shap = LeafTables.of(booster)          # None when the model has splits this does not handle
    contrib = shap.contributions(x)        # (rows, features + 1), last column the bias
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

MAX_PATH_FEATURES = 8  # a deeper path's table (2^d cases) costs more than it saves: LightGBM's own walk then
MAX_TABLE_VALUES = 8_000_000  # 64 MB of tables at most
ROWS_PER_PASS = 64  # rows looked up together: a pass holds (leaf, feature) pairs x rows values (~9 MB here)
_ZERO = 1e-35  # LightGBM's kZeroThreshold: |value| at most this is zero for a Zero missing type
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}


@dataclass(frozen=True)
class LeafTables:
    feature: np.ndarray  # (nodes,) every tree's splits, flattened: the feature each tests
    threshold: np.ndarray  # (nodes,) go left when value <= threshold
    default_left: np.ndarray  # (nodes,) where a missing value goes
    missing: np.ndarray  # (nodes,) 0 None (NaN read as 0), 1 Zero (0 and NaN missing), 2 NaN
    node: np.ndarray  # (leaves, steps) the splits on each leaf's path, root first (padding: split 0)
    left: np.ndarray  # (leaves, steps) 1 where the path goes left there (uint8)
    bit: np.ndarray  # (leaves, steps) the bit of the path's distinct feature the split tests (padding: 0; uint8)
    all_met: np.ndarray  # (leaves,) the case where a row meets every condition of the path (uint8)
    pair_leaf: np.ndarray  # (pairs,) each (leaf, distinct path feature), ordered by feature: its leaf
    pair_first: np.ndarray  # (pairs,) where its 2^depth cases start in `table` (int32)
    table: np.ndarray  # flat (pairs, 2^depth): the feature's share in the leaf for each case (bit k set: k met)
    starts: np.ndarray  # where each feature in `present` starts among the pairs
    present: np.ndarray  # the features some path tests
    bias: float  # the trees' expected values, summed as LightGBM sums them
    features: int

    @classmethod
    def of(cls, booster: lgb.Booster) -> LeafTables | None:
        """The tables of a binary or regression model of numeric splits and constant leaves (`_covered`) whose paths
        test at most MAX_PATH_FEATURES features and whose tables fit MAX_TABLE_VALUES; else None."""
        dumped = booster.dump_model()
        if not _covered(dumped):
            return None
        splits: list[dict[str, Any]] = []
        leaves: list[tuple[float, list[tuple[int, bool]], list[float]]] = []  # value, path, child shares
        bias = 0.0
        for tree in dumped["tree_info"]:
            root = tree["tree_structure"]
            if "leaf_value" in root:
                bias += root["leaf_value"]
                continue
            tree_leaves: list[tuple[int, float, int]] = []
            _walk(root, [], [], splits, leaves, tree_leaves)
            expected = 0.0  # Tree::ExpectedValue: leaf by leaf index, each weighted by its share of the rows
            for _, value, count in sorted(tree_leaves):
                expected += (count / root["internal_count"]) * value
            bias += expected
        depth = max((len({splits[n]["split_feature"] for n, _ in path}) for _, path, _ in leaves), default=0)
        if depth > MAX_PATH_FEATURES or len(leaves) * (2 ** depth) * max(depth, 1) > MAX_TABLE_VALUES:
            return None
        return cls._tabulated(splits, leaves, depth, bias, booster.num_feature())

    @classmethod
    def _tabulated(cls, splits: list[dict[str, Any]], leaves: list[tuple[float, list[tuple[int, bool]], list[float]]],
                   depth: int, bias: float, features: int) -> LeafTables:
        width = max(depth, 1)
        steps = max((len(path) for _, path, _ in leaves), default=0)
        n = len(leaves)
        node = np.zeros((n, max(steps, 1)), np.int64)
        left = np.zeros((n, max(steps, 1)), np.uint8)
        bit = np.zeros((n, max(steps, 1)), np.uint8)
        slot_feature = np.zeros((n, width), np.int64)
        zero = np.ones((n, width))
        distinct = np.zeros(n, np.int64)
        values = np.zeros(n)
        for i, (value, path, shares) in enumerate(leaves):
            values[i] = value
            slots: dict[int, int] = {}  # feature -> its bit, in order of first split on the path
            for p, ((split, went_left), share) in enumerate(zip(path, shares, strict=True)):
                feature = splits[split]["split_feature"]
                k = slots.setdefault(feature, len(slots))
                node[i, p], left[i, p], bit[i, p] = split, went_left, 1 << k
                slot_feature[i, k] = feature
                zero[i, k] = share * zero[i, k]  # as LightGBM merges a repeated feature: new share x earlier
            distinct[i] = len(slots)
        table = np.zeros((n, 2 ** depth, width))
        for d in range(1, depth + 1):
            rows = np.flatnonzero(distinct == d)
            if len(rows):
                table[rows, : 2 ** d, :d] = _shares(values[rows], zero[rows, :d], d)
        pair_leaf, pair_slot = np.nonzero(np.arange(width) < distinct[:, None])  # the real (leaf, feature) pairs
        by_feature = np.argsort(slot_feature[pair_leaf, pair_slot], kind="stable")  # then by leaf: a fixed sum order
        pair_leaf, pair_slot = pair_leaf[by_feature], pair_slot[by_feature]
        present, starts = np.unique(slot_feature[pair_leaf, pair_slot], return_index=True)
        return cls(
            feature=np.array([s["split_feature"] for s in splits], np.int64),
            threshold=np.array([s["threshold"] for s in splits], np.float64),
            default_left=np.array([s["default_left"] for s in splits], bool),
            missing=np.array([_MISSING[s["missing_type"]] for s in splits], np.int8),
            node=node, left=left, bit=bit, all_met=((1 << distinct) - 1).astype(np.uint8),
            pair_leaf=pair_leaf, pair_first=(np.arange(len(pair_leaf)) * 2 ** depth).astype(np.int32),
            table=np.ascontiguousarray(table[pair_leaf, :, pair_slot]).ravel(), starts=starts, present=present,
            bias=bias, features=features)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """(rows, features + 1): each feature's contribution to the raw score, the last column the bias."""
        x = np.asarray(x, dtype=np.float64)
        out = np.empty((len(x), self.features + 1))
        for start in range(0, len(x), ROWS_PER_PASS):
            out[start:start + ROWS_PER_PASS] = self._pass(x[start:start + ROWS_PER_PASS])
        return out

    def _pass(self, x: np.ndarray) -> np.ndarray:
        rows, leaves = len(x), len(self.node)
        out = np.zeros((rows, self.features + 1))
        if leaves:
            went_left = self._decisions(x).T.view(np.uint8)  # (splits, rows): a leaf's step copies one row
            missed = np.zeros((leaves, rows), np.uint8)
            for p in range(self.node.shape[1]):  # a condition missed clears its feature's bit
                missed |= (went_left[self.node[:, p]] ^ self.left[:, p, None]) * self.bit[:, p, None]
            cases = self.all_met[:, None] & ~missed  # (leaves, rows)
            shares = np.take(self.table, self.pair_first[:, None] + cases[self.pair_leaf])  # (pairs, rows)
            out[:, self.present] = np.add.reduceat(shares, self.starts, axis=0).T
        out[:, -1] = self.bias
        return out

    def _decisions(self, x: np.ndarray) -> np.ndarray:
        """Whether each row goes left at each split, as LightGBM's NumericalDecision decides."""
        value = x[:, self.feature]
        nan = np.isnan(value)
        value = np.where(nan & (self.missing != 2), 0.0, value)
        missing = ((self.missing == 1) & (np.abs(value) <= _ZERO)) | ((self.missing == 2) & nan)
        with np.errstate(invalid="ignore"):
            return np.where(missing, self.default_left, value <= self.threshold)


def _covered(dumped: dict[str, Any]) -> bool:
    """One tree per iteration (not multiclass), summed (not a random forest's average), numeric splits and constant
    leaves (no categorical splits, no linear trees)."""
    trees = dumped["tree_info"]
    if dumped.get("num_tree_per_iteration", 1) != 1 or dumped.get("average_output") or \
            any(t.get("num_cat") for t in trees):
        return False
    pending = [t["tree_structure"] for t in trees]
    while pending:
        node = pending.pop()
        if node.get("leaf_coeff") or node.get("leaf_features"):
            return False
        pending.extend(node[child] for child in ("left_child", "right_child") if child in node)
    return True


def _walk(node: dict[str, Any], path: list[tuple[int, bool]], shares: list[float], splits: list[dict[str, Any]],
          leaves: list[tuple[float, list[tuple[int, bool]], list[float]]],
          tree_leaves: list[tuple[int, float, int]]) -> None:
    """Collect the splits (numbered in `splits`) and each leaf's value, path and the share of rows at each step."""
    if "leaf_value" in node:
        leaves.append((node["leaf_value"], path, shares))
        tree_leaves.append((node["leaf_index"], node["leaf_value"], node["leaf_count"]))
        return
    index = len(splits)
    splits.append(node)
    count = node["internal_count"]
    for child, went_left in ((node["left_child"], True), (node["right_child"], False)):
        child_count = child.get("internal_count", child.get("leaf_count"))
        _walk(child, [*path, (index, went_left)], [*shares, child_count / count], splits, leaves, tree_leaves)


def _shares(values: np.ndarray, zero: np.ndarray, d: int) -> np.ndarray:
    """(leaves, 2^d, d): each slot's contribution for each case, for leaves with d distinct path features."""
    cases = np.arange(2 ** d)
    one = ((cases[:, None] >> np.arange(d)) & 1).astype(np.float64)  # (cases, d)
    out = np.empty((len(values), 2 ** d, d))
    for j in range(d):
        others = [k for k in range(d) if k != j]
        total = np.zeros((len(values), 2 ** d))
        for subset in range(2 ** len(others)):
            chosen = [others[b] for b in range(len(others)) if subset >> b & 1]
            rest = [k for k in others if k not in chosen]
            weight = math.factorial(len(chosen)) * math.factorial(d - len(chosen) - 1) / math.factorial(d)
            met = np.prod(one[:, chosen], axis=1) if chosen else np.ones(2 ** d)
            share = np.prod(zero[:, rest], axis=1) if rest else np.ones(len(values))
            total += weight * share[:, None] * met[None, :]
        out[:, :, j] = values[:, None] * (one[None, :, j] - zero[:, j, None]) * total
    return out
