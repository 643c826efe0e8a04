"""Training data: the 69 features as a matrix, labels beside it, split by time (never at random)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from synfinance.errors import SchemaError
from synfinance.output.dataset import read_dataset
from synfinance.schema import FEATURE_NAMES, LABEL_FIELDS, paise_from_amounts

FORBIDDEN = set(LABEL_FIELDS) | {"transaction_id", "customer_id", "merchant_id", "instrument_id", "device_id"}


def feature_matrix(features: pa.Table, names: tuple[str, ...] = FEATURE_NAMES) -> np.ndarray:
    """The model's input matrix; refuses any label or identifier among the columns asked for."""
    leaked = sorted(set(names) & FORBIDDEN)
    if leaked:
        raise SchemaError(f"feature list contains label or id columns {leaked}: they can never be model inputs")
    missing = [n for n in names if n not in features.column_names]
    if missing:
        raise SchemaError(f"features table lacks {missing}")
    return np.column_stack([features.column(n).to_numpy(zero_copy_only=False).astype(np.float64) for n in names])


@dataclass(frozen=True)
class Labelled:
    """Rows in time order: features, label and what evaluation needs beside them."""

    x: np.ndarray
    y: np.ndarray
    ts: np.ndarray  # UTC microseconds
    fraud_type: np.ndarray  # object array, None for genuine rows
    amount_inr: np.ndarray
    ids: pa.Array

    def __len__(self) -> int:
        return len(self.y)

    def rows(self, mask: np.ndarray) -> Labelled:
        return Labelled(self.x[mask], self.y[mask], self.ts[mask], self.fraud_type[mask], self.amount_inr[mask],
                        self.ids.filter(pa.array(mask)))


def load_labelled(directory: Path) -> Labelled:
    """A dataset directory written with features, joined on transaction_id and ordered by time."""
    tables = read_dataset(Path(directory), verify=False)
    if "features" not in tables:
        raise SchemaError(f"{directory}: no features; run `synfinance generate features --in {directory}`")
    txns, features = tables["transactions"], tables["features"]
    if not features.column("transaction_id").equals(txns.column("transaction_id")):
        raise SchemaError(f"{directory}: features and transactions are not row-aligned by transaction_id")
    labels = pa.table({
        "transaction_id": txns.column("transaction_id"), "ts_us": txns.column("timestamp").cast(pa.int64()),
        "amount_inr": paise_from_amounts(txns.column("amount_inr")) / 100.0, "is_fraud": txns.column("is_fraud"),
        "fraud_type": txns.column("fraud_type")})
    return labelled_table(labels, features)


def labelled_table(table: pa.Table, features: pa.Table | None = None) -> Labelled:
    """Rows of a table with transaction_id, ts_us, amount_inr, is_fraud and fraud_type, in time order; their
    features in `features` (row-aligned) or in the table itself (what synfinance.store.training reads)."""
    ts = table.column("ts_us").to_numpy()
    order = np.argsort(ts, kind="stable")
    return Labelled(
        x=feature_matrix(table if features is None else features)[order],
        y=table.column("is_fraud").to_numpy(zero_copy_only=False)[order].astype(np.int8),
        ts=ts[order],
        fraud_type=np.array(table.column("fraud_type").to_pylist(), dtype=object)[order],
        amount_inr=table.column("amount_inr").to_numpy()[order],
        ids=table.column("transaction_id").combine_chunks().take(pa.array(order)),
    )


@dataclass(frozen=True)
class TimeSplit:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    valid_from_us: int
    test_from_us: int


def time_split(ts: np.ndarray, valid_share: float = 0.15, test_share: float = 0.15) -> TimeSplit:
    """Train on the earliest rows, validate on the next, test on the latest: cut at time quantiles."""
    valid_from = int(np.quantile(ts, 1 - valid_share - test_share))
    test_from = int(np.quantile(ts, 1 - test_share))
    return TimeSplit(ts < valid_from, (ts >= valid_from) & (ts < test_from), ts >= test_from, valid_from, test_from)
