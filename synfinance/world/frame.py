"""One shard's rows as numpy columns of codes: what the generator draws and the patterns rewrite.

Rows stay in customer blocks (all rows of a customer together) until assembly sorts them by
time; patterns change values in place, never the number of rows, so a dataset always holds
exactly the requested count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

SEVERITIES = ("low", "medium", "high", "critical")
# What a payment is, apart from who and when: the columns a repeat of it (a replay, a retried booking) copies
PAYMENT_COLUMNS = ("merchant", "category", "merchant_city", "paise", "mode", "channel", "device", "instrument",
                   "card_network", "online", "city", "lat", "lon")


def order_by(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """Stable order of rows by (major, minor) integer keys: one argsort of a packed key when it fits."""
    if len(major) == 0:
        return np.zeros(0, dtype=np.int64)
    lo_major, lo_minor = int(major.min()), int(minor.min())
    minor_span = int(minor.max()) - lo_minor + 1
    if (int(major.max()) - lo_major + 1) * minor_span < 2**62:
        key = (major - lo_major) * minor_span + (minor - lo_minor)
        return np.argsort(key, kind="stable")
    return np.lexsort((minor, major))


@dataclass
class Labels:
    """Label columns of one kind (fraud or anomaly); evidence is an index into a pool of strings."""

    n: int
    type: np.ndarray = field(init=False)
    severity: np.ndarray = field(init=False)
    confidence: np.ndarray = field(init=False)
    evidence: np.ndarray = field(init=False)
    pool: list[pa.Array] = field(default_factory=list)
    pooled: int = 0

    def __post_init__(self) -> None:
        self.type = np.full(self.n, -1, dtype=np.int16)
        self.severity = np.full(self.n, -1, dtype=np.int8)
        self.confidence = np.full(self.n, np.nan)
        self.evidence = np.full(self.n, -1, dtype=np.int64)

    @property
    def flagged(self) -> np.ndarray:
        return self.type >= 0

    def mark(self, rows: np.ndarray, type_code: int, severity: np.ndarray, confidence: np.ndarray,
             evidence: pa.Array) -> None:
        self.type[rows] = type_code
        self.severity[rows] = severity
        self.confidence[rows] = confidence
        self.evidence[rows] = self.pooled + np.arange(len(rows))
        self.pool.append(evidence)
        self.pooled += len(rows)

    def permute(self, order: np.ndarray) -> None:
        for name in ("type", "severity", "confidence", "evidence"):
            setattr(self, name, getattr(self, name)[order])

    def evidence_column(self) -> pa.Array:
        pool = pa.concat_arrays(self.pool) if self.pool else pa.array([], pa.string())
        return pool.take(pa.array(np.maximum(self.evidence, 0), mask=self.evidence < 0))


@dataclass
class Frame:
    cols: dict[str, np.ndarray]
    fraud: Labels
    anomaly: Labels
    customers: np.ndarray  # the shard's customers, ascending
    starts: np.ndarray  # first row of each of those customers (rows are in customer blocks)
    counts: np.ndarray

    @classmethod
    def from_columns(cls, cols: dict[str, np.ndarray], customers: np.ndarray, counts: np.ndarray) -> Frame:
        n = len(cols["cust"])
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return cls(cols, Labels(n), Labels(n), customers, starts, counts)

    def __len__(self) -> int:
        return len(self.cols["cust"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def block_offset(self) -> np.ndarray:
        """Each row's position inside its customer's block of rows (the order rows were drawn in)."""
        return np.arange(len(self)) - np.repeat(self.starts, self.counts)

    def time_rank(self) -> np.ndarray:
        """Each row's position in its customer's history, by the current timestamps (0 = first)."""
        order = order_by(self.cols["cust"], self.cols["ts"])
        rank = np.empty(len(self), dtype=np.int64)
        rank[order] = self.block_offset()
        return rank

    def free(self) -> np.ndarray:
        """Rows no pattern has labelled yet."""
        return ~(self.fraud.flagged | self.anomaly.flagged)

    def permute(self, order: np.ndarray) -> None:
        self.cols = {k: v[order] for k, v in self.cols.items()}
        self.fraud.permute(order)
        self.anomaly.permute(order)
