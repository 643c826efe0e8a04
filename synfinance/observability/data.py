"""Data metrics of generated rows, one vectorised pass per shard: values and nulls per field, amount outliers.

Label fields (is_fraud, fraud_type, ...) are not checked: null there means "not fraud", not missing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.observability import metrics

OUTLIER_Z = 6.0
MAD_SCALE = 1.4826  # MAD of a normal distribution -> its standard deviation


def robust_z(values: np.ndarray) -> np.ndarray:
    """|x - median| / (1.4826 MAD): a z-score that a few extreme values cannot drag along."""
    median = np.median(values)
    mad = np.median(np.abs(values - median)) * MAD_SCALE
    return np.abs(values - median) / mad if mad > 0 else np.zeros(len(values))


def observe_rows(table: pa.Table, skip: frozenset[str]) -> None:
    """Count values and nulls per field (fields in skip left out) and amounts with a robust z-score above 6."""
    if table.num_rows == 0:
        return
    for name in table.column_names:
        if name in skip:
            continue
        metrics.VALUES_CHECKED.labels(name).inc(table.num_rows)
        nulls = table.column(name).null_count
        metrics.VALUES_MISSING.labels(name).inc(nulls)
    if "amount_inr" in table.column_names:
        amounts = pc.cast(pc.drop_null(table.column("amount_inr")), pa.float64()).to_numpy()
        outliers = int((robust_z(np.log1p(np.abs(amounts))) > OUTLIER_Z).sum()) if len(amounts) else 0
        metrics.OUTLIERS.labels("amount_inr").inc(outliers)
