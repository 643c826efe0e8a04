"""Variance: every feature varies. Dense features are robust-scaled (median 0, interquartile range 1, as
scikit-learn's RobustScaler) so one limit fits counts, amounts and ratios; sparse ones (indicators, counts that
are mostly 0) are judged by how often they leave their usual value."""

from __future__ import annotations

import numpy as np

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.schema import FEATURE_NAMES


def feature_matrix(data: Dataset) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The sampled rows' features (rows, features), empty values replaced by the feature's median, and the same
    matrix sorted per column; built once per dataset (the correlation check reads it too)."""
    return data.memo("feature_matrix", lambda: _feature_matrix(data))


def _feature_matrix(data: Dataset) -> tuple[list[str], np.ndarray, np.ndarray]:
    features = data.table("features")
    names = [n for n in FEATURE_NAMES if n in features.column_names]
    x = np.empty((len(data.sample()), len(names)))
    for j, name in enumerate(names):
        x[:, j] = data.sampled(name, "features")
    ordered = np.sort(x, axis=0)  # empty values (NaN) sort last
    present = len(x) - np.isnan(x).sum(axis=0)
    gaps = np.flatnonzero(present < len(x))
    for k in gaps.tolist():
        count = int(present[k])
        median = (ordered[(count - 1) // 2, k] + ordered[count // 2, k]) / 2 if count else 0.0
        x[np.isnan(x[:, k]), k] = median
        ordered[:, k] = np.sort(x[:, k])
    return names, x, ordered


def quantile(ordered: np.ndarray, q: float) -> np.ndarray:
    """Per column of a column-sorted matrix: the q-quantile, linearly interpolated (numpy's default)."""
    h = (len(ordered) - 1) * q
    low = int(np.floor(h))
    high = min(low + 1, len(ordered) - 1)
    return np.asarray(ordered[low] + (h - low) * (ordered[high] - ordered[low]))


def robust_variance(x: np.ndarray, ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the variance after robust scaling ((x - median) / IQR), and whether the column is sparse (its
    IQR is 0: one value fills the middle half of the rows); a sparse column is scaled by its 1st-99th percentile
    range instead, and a constant one has variance 0."""
    p1, q1, q3, p99 = (quantile(ordered, q) for q in (0.01, 0.25, 0.75, 0.99))
    iqr = q3 - q1
    span = np.where(iqr > 0, iqr, np.where(p99 - p1 > 0, p99 - p1, ordered[-1] - ordered[0]))
    variance = np.where(span > 0, np.var(x, axis=0) / np.where(span > 0, span, 1) ** 2, 0.0)  # var((x - m) / s)
    return variance, iqr == 0


def off_mode_share(ordered: np.ndarray) -> float:
    """Share of values other than the most common one, of a sorted column."""
    if not len(ordered):
        return 0.0
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    return float(1 - np.diff(starts).max() / len(ordered))


class VarianceValidator(Validator):
    name = "variance"
    summary = ("Every feature varies: robust-scaled variance above the limit, or, for a sparse feature (one value "
               "in the middle half of the rows), enough rows off that value.")
    needs = ("features",)

    def _check(self, data: Dataset, found: Found) -> None:
        names, x, ordered = feature_matrix(data)
        if not len(x):
            return
        variance, sparse = robust_variance(x, ordered)
        limit, share_limit = data.config.variance_min, data.config.sparse_share_min
        found.metric("feature_variance", {n: round(float(v), 6) for n, v in zip(names, variance, strict=True)})
        dense = [float(v) for v, s in zip(variance, sparse, strict=True) if not s]
        found.metric("min_feature_variance", round(min(dense), 6) if dense else None)
        shares = {}
        for j in np.flatnonzero(sparse):
            shares[names[j]] = share = off_mode_share(ordered[:, j])
            if share == 0:
                found.violation("error", f"feature {names[j]} is constant", "drop it or fix its inputs",
                                field=names[j])
            elif share < share_limit:
                found.violation("warning", f"feature {names[j]} differs from its usual value in {share:.3%} of rows",
                                f"at least {share_limit:.1%}: a signal this rare cannot be learned", field=names[j])
        found.metric("min_sparse_share", round(min(shares.values()), 6) if shares else None)
        for j in np.flatnonzero(~sparse & (variance <= limit)):
            found.violation("error", f"feature {names[j]} has variance {variance[j]:.4f} after robust scaling",
                            f"above {limit}; a feature that barely varies carries no signal", field=names[j])
