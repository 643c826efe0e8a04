"""A dataset's profile: what a baseline keeps of it, and what a later dataset is compared with.

Per numeric column (the amounts, times and distances of the transactions, and every feature): decile edges
with each bin's share (for PSI), a fixed sample of values (for Kolmogorov-Smirnov), mean and standard
deviation; per categorical column the share of each value; the fraud and anomaly rate of every type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synfinance.model.drift import Reference
from synfinance.quality.data import Dataset
from synfinance.schema import FEATURE_NAMES

NUMERIC = ("amount_inr", "local_hour", "distance_from_home_km", "time_since_last_txn_s", "daily_txn_count",
           "merchant_reputation")
CATEGORICAL = ("category", "payment_mode", "channel", "status", "city", "customer_segment", "device_type",
               "is_online", "local_hour")
KEPT_VALUES = 1_000  # values per numeric column kept for the KS test
KIND_RATES = ("fraud", "anomaly")


def numeric_columns(data: Dataset) -> dict[str, np.ndarray]:
    """Sampled values of every numeric column present (features keyed by their name), NaN for empty."""
    columns = {name: data.sampled(name) for name in NUMERIC if name in data.transactions.column_names}
    if data.features is not None:
        present = data.features.column_names
        columns |= {name: data.sampled(name, "features") for name in FEATURE_NAMES if name in present}
    return columns


def category_shares(data: Dataset, name: str) -> dict[str, float]:
    codes, values = data.codes(name)
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    return {str(v): float(counts[i] / max(data.rows, 1)) for i, v in enumerate(values)}


def type_rates(data: Dataset) -> dict[str, float]:
    """Share of all rows per label: "fraud", "anomaly", and "fraud:<type>" / "anomaly:<type>"."""
    rates: dict[str, float] = {}
    for kind in KIND_RATES:
        if f"is_{kind}" not in data.transactions.column_names:
            continue
        rates[kind] = float(data.column(f"is_{kind}").mean()) if data.rows else 0.0
        rates |= {f"{kind}:{name}": share for name, share in category_shares(data, f"{kind}_type").items()}
    return rates


def profile(data: Dataset) -> dict[str, Any]:
    numeric = {}
    rng = np.random.default_rng(0)
    for name, values in numeric_columns(data).items():
        reference = Reference.of(values)
        present = values[~np.isnan(values)]
        kept = np.sort(rng.choice(present, min(KEPT_VALUES, len(present)), replace=False)) if len(present) else present
        numeric[name] = {"edges": reference.edges[0].tolist(), "shares": reference.expected[0].tolist(),
                         # seven significant digits: plenty for a KS test, half the file
                         "values": [float(f"{v:.7g}") for v in kept.tolist()],
                         "mean": float(np.mean(present)) if len(present) else None,
                         "std": float(np.std(present)) if len(present) else None}
    categorical = {name: category_shares(data, name) for name in CATEGORICAL if name in data.transactions.column_names}
    return {"rows": data.rows, "parameters": data.parameters, "numeric": numeric, "categorical": categorical,
            "rates": type_rates(data)}
