"""The data behind the report's charts, kept in the report's JSON so a page can be drawn again from it:
amounts and hours against the baseline, rates per day, missing values per field, per-type shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from synfinance.quality.base import Finding
from synfinance.quality.data import Dataset
from synfinance.schema import EPOCH_DATE

AMOUNT_BINS = np.linspace(0, 6, 31)  # log10 INR: ₹1 to ₹10 lakh in 30 bins


def _histogram(values: np.ndarray, edges: np.ndarray) -> list[float]:
    counts, _ = np.histogram(values[~np.isnan(values)], bins=edges)
    return (counts / max(int(counts.sum()), 1)).round(6).tolist()


def chart_data(data: Dataset, findings: list[Finding]) -> dict[str, Any]:
    metrics = {f.validator: f.metrics for f in findings}
    names = data.transactions.column_names
    charts: dict[str, Any] = {}
    base = (data.baseline or {}).get("profile", {}).get("numeric", {})
    if "amount_inr" in names:
        now = np.log10(np.maximum(data.sampled("amount_inr"), 1.0))
        charts["amounts"] = {"edges": AMOUNT_BINS.round(3).tolist(), "dataset": _histogram(now, AMOUNT_BINS)}
        if "amount_inr" in base:
            charts["amounts"]["baseline"] = _histogram(np.log10(np.maximum(np.asarray(base["amount_inr"]["values"]),
                                                                           1.0)), AMOUNT_BINS)
    if "hour_profile" in metrics.get("statistical", {}):
        hours = np.asarray(metrics["statistical"]["hour_profile"], dtype=np.float64)
        charts["hours"] = {"dataset": (hours / max(hours.sum(), 1)).round(6).tolist()}
        shares = (data.baseline or {}).get("profile", {}).get("categorical", {}).get("local_hour")
        if shares:
            charts["hours"]["baseline"] = [round(shares.get(str(h), 0.0), 6) for h in range(24)]
    if "local_date" in names and data.rows:
        day = data.column("local_date").astype(np.int64)
        first = int(day.min())
        index = day - first
        per_day = np.bincount(index)
        rates = {}
        for label, column in (("fraud", "is_fraud"), ("anomaly", "is_anomaly")):
            if column in names:
                rates[label] = (np.bincount(index, weights=data.column(column)) / np.maximum(per_day, 1)).round(6)
        if "status" in names:
            status, values = data.codes("status")
            declined = status == (values.index("declined") if "declined" in values else -2)
            rates["declined"] = (np.bincount(index, weights=declined) / np.maximum(per_day, 1)).round(6)
        charts["daily"] = {"dates": [str(EPOCH_DATE + dt.timedelta(days=first + i))
                                     for i in range(len(per_day))],
                           "rows": per_day.tolist(), **{k: v.tolist() for k, v in rates.items()}}
    missing = {k.removeprefix("missing."): v for k, v in metrics.get("missing", {}).items()
               if k.startswith("missing.") and k.removeprefix("missing.") in names}
    charts["missing"] = missing
    charts["type_shares"] = metrics.get("business", {}).get("type_shares", {})
    return charts
