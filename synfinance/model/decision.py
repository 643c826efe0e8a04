"""From a fraud probability to a decision: approve below the threshold, review at or above, decline near certain."""

from __future__ import annotations

import numpy as np

DECLINE_AT = 0.9  # probabilities at or above this (and the threshold) are declined outright
DECISIONS = ("approve", "review", "decline")


def decide(score: np.ndarray, threshold: float) -> np.ndarray:
    """approve / review / decline per probability (the same rule offline and online)."""
    code = (score >= threshold).astype(np.int8) + (score >= max(threshold, DECLINE_AT)).astype(np.int8)
    return np.asarray(DECISIONS, dtype=object)[code]
