"""Calibration: the dataset against the published figures of config/calibration.yaml (warnings: realism drifts,
the data stays valid)."""

from __future__ import annotations

from synfinance.calibration.measure import COLUMNS, FIELD
from synfinance.calibration.report import band, compare, declared_fraud_rate, fmt, outside
from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset


class CalibrationValidator(Validator):
    name = "calibration"
    summary = "Mode shares, tickets, P2P/P2M, hours, salary days, festivals and prevalence against published figures."

    def _check(self, data: Dataset, found: Found) -> None:
        if not data.rows or any(c not in data.transactions.column_names for c in COLUMNS):
            found.skip("the dataset lacks the columns the figures are measured on")
            return
        results = compare(data.transactions, declared_fraud_rate(data.parameters))
        for r in results:
            if r.ours is not None:
                found.metric(f"calibration_{r.figure.id}", round(r.ours, 6))
        drifted = outside(results)
        found.metric("calibration_outside", len(drifted))
        for r in drifted:
            f = r.figure
            found.violation("warning", f"{f.what}: {fmt(f, r.ours)}, published {fmt(f, f.published)} ({f.period}); "
                            f"tolerance {band(f, f.tolerance)}",
                            "regenerate with the default model of config/calibration.yaml, or change the table "
                            "(its figures and their sources) rather than a constant", field=FIELD[f.measure])
