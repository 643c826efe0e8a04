"""Running counts and sums over rows already in group order (restarting at each group's first row)."""

from __future__ import annotations

import numpy as np


def running_group_count(starts: np.ndarray) -> np.ndarray:
    """1, 2, 3, ... restarting wherever starts is True (rows already in group order)."""
    idx = np.arange(len(starts))
    first = np.maximum.accumulate(np.where(starts, idx, 0))
    return idx - first + 1


def running_group_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum of values restarting wherever starts is True."""
    total = np.cumsum(values)
    idx = np.arange(len(starts))
    first = np.maximum.accumulate(np.where(starts, idx, 0))
    return total - total[first] + values[first]
