"""Business rules: the fraud and anomaly rates and each type's share as requested, a plausible decline rate,
and more payments on festival days than on others."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.world.catalogue import type_shares


def requested_shares(parameters: dict[str, Any], kind: str) -> dict[str, float]:
    """Each type's requested share of its kind, from the generation parameters (the catalogue's defaults)."""
    enabled = parameters.get(f"{kind}_types")
    weights = parameters.get(f"{kind}_weights")
    return type_shares(kind, tuple(enabled) if enabled else None,
                       tuple((n, float(w)) for n, w in weights) if weights else None)


def realised_shares(data: Dataset, kind: str) -> dict[str, float]:
    """Each type's share of the rows labelled with its kind."""
    codes, names = data.codes(f"{kind}_type")
    labelled = codes[codes >= 0]
    counts = np.bincount(labelled, minlength=len(names))
    return {str(n): float(counts[i] / max(len(labelled), 1)) for i, n in enumerate(names)}


class BusinessValidator(Validator):
    name = "business"
    summary = "Fraud and anomaly rates and per-type shares as requested; decline rate; festival lift."

    def _check(self, data: Dataset, found: Found) -> None:
        names, config = data.transactions.column_names, data.config
        patterns = data.parameters.get("patterns", True)
        shares: dict[str, dict[str, dict[str, float]]] = {}
        for kind in ("fraud", "anomaly"):
            if f"is_{kind}" not in names:
                continue
            rate = float(data.column(f"is_{kind}").mean()) if data.rows else 0.0
            found.metric(f"{kind}_rate", round(rate, 6))
            wanted = data.parameters.get(f"{kind}_rate") if patterns else 0.0
            if wanted is None:
                continue
            allowed = max(config.rate_tolerance * wanted, 4 * math.sqrt(wanted * (1 - wanted) / max(data.rows, 1)))
            if abs(rate - wanted) > allowed:
                found.violation("error", f"{kind} rate is {rate:.3%}, {wanted:.3%} was requested", f"within "
                                f"{config.rate_tolerance:.0%} of the requested rate; check the {kind} patterns' "
                                "budgets", field=f"is_{kind}", rows=int(round(abs(rate - wanted) * data.rows)))
            if patterns and wanted and f"{kind}_type" in names:
                shares[kind] = self._types(data, found, kind, int(data.column(f"is_{kind}").sum()))
        found.metric("type_shares", shares)
        if "status" in names:
            status, values = data.codes("status")
            declined = float(np.mean(status == values.index("declined"))) if "declined" in values else 0.0
            found.metric("decline_rate", round(declined, 6))
            if not config.decline_rate_min <= declined <= config.decline_rate_max:
                found.violation("warning", f"decline rate is {declined:.2%}", f"between {config.decline_rate_min:.1%}"
                                f" and {config.decline_rate_max:.1%}, as Indian retail payments are", field="status")
        if "festival" in names and "local_date" in names:
            self._festivals(data, found)

    def _types(self, data: Dataset, found: Found, kind: str, labelled: int) -> dict[str, dict[str, float]]:
        tolerance = data.config.share_tolerance
        wanted, got = requested_shares(data.parameters, kind), realised_shares(data, kind)
        table = {}
        for name in sorted(set(wanted) | set(got)):
            p, q = wanted.get(name, 0.0), got.get(name, 0.0)
            table[name] = {"requested": round(p, 6), "realised": round(q, 6)}
            allowed = max(tolerance * p, 4 * math.sqrt(max(p * (1 - p), 1e-12) / max(labelled, 1)))
            if abs(q - p) > allowed:
                found.violation("error", f"{kind} type {name} is {q:.2%} of {kind} rows, {p:.2%} was requested",
                                f"within {allowed:.2%} of the requested share", field=f"{kind}_type",
                                rows=int(round(abs(q - p) * labelled)))
        return table

    def _festivals(self, data: Dataset, found: Found) -> None:
        day = data.column("local_date").astype(np.int64)
        festive = data.transactions.column("festival").is_valid().to_numpy(zero_copy_only=False)
        festive_days = np.unique(day[festive])
        other_days = np.setdiff1d(np.unique(day), festive_days)
        if not len(festive_days) or not len(other_days):
            return
        lift = (festive.sum() / len(festive_days)) / ((~festive).sum() / len(other_days))
        found.metric("festival_lift", round(float(lift), 4))
        if lift < data.config.festival_lift_min:
            found.violation("warning", f"rows per festival day are {lift:.2f}x those of other days",
                            f"at least {data.config.festival_lift_min:.2f}x: Indians spend more in festival "
                            "seasons", field="festival")
