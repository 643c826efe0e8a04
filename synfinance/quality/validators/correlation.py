"""Correlation: no two features move together with |r| above the limit, unless the pair is allowed with a reason.

Pearson's r on features winsorised at their 0.1st and 99.9th percentiles: one customer's extreme ratio (a ₹5
tea after a ₹30,000 phone) would otherwise decide the coefficient of a million rows."""

from __future__ import annotations

import numpy as np

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.quality.validators.variance import feature_matrix, quantile

WINSOR = 0.001  # share clipped at each end


class CorrelationValidator(Validator):
    name = "correlation"
    summary = ("Feature pairs with |Pearson r| above the limit (winsorised at 0.1 %; empty values: the feature's "
               "median).")
    needs = ("features",)

    def _check(self, data: Dataset, found: Found) -> None:
        names, x, ordered = feature_matrix(data)
        if x.shape[0] < 3:
            return
        x = np.clip(x, quantile(ordered, WINSOR), quantile(ordered, 1 - WINSOR))
        x = x - x.mean(axis=0)
        norm = np.sqrt((x * x).sum(axis=0))
        varying = norm > 0
        r = (x.T @ x) / np.outer(np.where(varying, norm, 1), np.where(varying, norm, 1))
        r[~varying, :] = 0
        r[:, ~varying] = 0
        allowed = {frozenset((p.a, p.b)) for p in data.config.correlation_allow}
        upper = np.triu(np.abs(r), k=1)
        worst = 0.0
        for i, j in zip(*np.nonzero(upper > data.config.correlation_max), strict=True):
            pair = frozenset((names[i], names[j]))
            if pair in allowed:
                continue
            worst = max(worst, float(upper[i, j]))
            found.violation("error", f"features {names[i]} and {names[j]} correlate with r = {r[i, j]:+.3f}",
                            "drop one, or allow the pair with a reason (quality.correlation_allow)",
                            field=names[i])
        kept = [float(upper[i, j]) for i, j in zip(*np.nonzero(upper), strict=True)
                if frozenset((names[i], names[j])) not in allowed]
        found.metric("max_feature_correlation", round(max([worst, *kept]) if kept else worst, 6))
