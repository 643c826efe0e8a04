"""Why a transaction scored as it did: each feature's contribution to the raw (log-odds) score."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from synfinance.schema import FEATURE_NAMES


def contributions(booster: lgb.Booster, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
    """(rows, features + 1): per-feature contributions, last column the bias; rows sum to the raw score."""
    return np.asarray(booster.predict(x, pred_contrib=True, num_threads=num_threads))


def top_reasons(contrib: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
    """The k features pushing each score up the most, with their contributions."""
    features = contrib[:, :-1]
    top = np.argsort(-features, axis=1, kind="stable")[:, :k]
    return [[(FEATURE_NAMES[j], float(features[i, j])) for j in row] for i, row in enumerate(top)]
