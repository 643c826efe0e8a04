"""Why a transaction scored as it did: each feature's contribution to the raw (log-odds) score."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np


def contributions(booster: lgb.Booster, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
    """(rows, features + 1): per-feature contributions, last column the bias; rows sum to the raw score."""
    return np.asarray(booster.predict(x, pred_contrib=True, num_threads=num_threads))

