"""Drift of what a model is served against what it was trained on: the population stability index (PSI).

A Reference holds, per column, the decile edges of the training-time values and each bin's share (missing
values get a bin of their own); a DriftMonitor counts served values into the same bins and reports the PSI,
sum((served - expected) * ln(served / expected)), of the score and of every feature. Above 0.2 is the usual
"drifted". Saved with a model as reference.json; models older than that fall back to their stored scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

BINS = 10
FLOOR = 1e-4  # an empty bin's share, so the log stays finite
MIN_SERVED = 200  # fewer served values than this give no PSI (too noisy to alert on)
FLUSH_ROWS = 256  # served rows are binned this many at a time: a pass costs about the same for 1 row or 256
BIN_BLOCK_ROWS = 65_536  # rows binned in one pass


@dataclass(frozen=True)
class Reference:
    """Per column: BINS - 1 interior edges and BINS + 1 expected shares (the last bin: missing values)."""

    edges: np.ndarray  # (columns, BINS - 1)
    expected: np.ndarray  # (columns, BINS + 1)

    @classmethod
    def of(cls, values: np.ndarray) -> Reference:
        values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
        with np.errstate(all="ignore"):
            edges = np.nanquantile(values, np.linspace(0, 1, BINS + 1)[1:-1], axis=0).T
        edges = np.where(np.isnan(edges), 0.0, edges)
        counts = bin_counts(edges, values)
        return cls(edges, counts / max(1, len(values)))

    def to_json(self) -> dict[str, Any]:
        return {"edges": self.edges.tolist(), "expected": self.expected.tolist()}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Reference:
        return cls(np.asarray(body["edges"], dtype=np.float64), np.asarray(body["expected"], dtype=np.float64))


def bin_counts(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(columns, BINS + 1) counts of values (rows, columns) in each column's bins, missing values last: a value's
    bin is the number of its column's edges at or below it (np.searchsorted's side="right"), for every column in
    a pass per edge over a block of rows."""
    columns = edges.shape[0]
    counts = np.zeros(columns * (BINS + 1), np.int64)
    offset = np.arange(columns) * (BINS + 1)
    for start in range(0, len(values), BIN_BLOCK_ROWS):
        block = values[start:start + BIN_BLOCK_ROWS]
        bins = np.zeros(block.shape, np.int64)
        for k in range(edges.shape[1]):  # NaN compares false: put in the last bin just below
            bins += block >= edges[:, k]
        bins[np.isnan(block)] = BINS
        counts += np.bincount((bins + offset).ravel(), minlength=len(counts))
    return counts.reshape(columns, BINS + 1).astype(np.float64)


def psi(expected: np.ndarray, served: np.ndarray) -> np.ndarray:
    """PSI per row of (columns, bins) shares."""
    e, s = np.maximum(expected, FLOOR), np.maximum(served, FLOOR)
    return np.asarray(((s - e) * np.log(s / e)).sum(axis=1))


class DriftMonitor:
    """Counts served values into a reference's bins; `psi()` is None until MIN_SERVED values have been seen."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self.counts = np.zeros_like(reference.expected)
        self.served = 0
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
        self._pending.append(values)
        self._pending_rows += len(values)
        self.served += len(values)
        if self._pending_rows >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.counts += bin_counts(self.reference.edges, np.concatenate(self._pending))
            self._pending, self._pending_rows = [], 0

    def psi(self) -> np.ndarray | None:
        if self.served < MIN_SERVED:
            return None
        self._flush()
        return psi(self.reference.expected, self.counts / self.served)
