"""Measure a dataset the way the calibration table's figures are published: vectorised over its columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.population.calibration import Figure

COLUMNS = ("payment_mode", "amount_inr", "merchant_type", "is_fraud", "local_hour", "local_date", "festival",
           "category", "is_online")
P2P_PAYEE = "person"
# The column a drifting figure points at.
FIELD = {"mode_share": "payment_mode", "p2m_share": "merchant_type", "average_ticket": "amount_inr",
         "share_at_most": "amount_inr", "share_above": "amount_inr", "peak_hour": "local_hour",
         "month_start": "local_date", "festival_lift": "local_date", "category_share": "category",
         "fraud_per_million": "is_fraud"}
MONTH_START = (1, 5)  # days of the month the salary effect is read on
MID_MONTH = (11, 25)  # the reference days


@dataclass(frozen=True)
class Rows:
    """The columns the figures read, as numpy arrays (legitimate rows and all rows)."""

    mode: np.ndarray  # str
    inr: np.ndarray
    p2p: np.ndarray
    fraud: np.ndarray
    hour: np.ndarray
    day: np.ndarray  # days since epoch (IST date)
    month_day: np.ndarray
    festival: np.ndarray  # str, "" outside a festival
    category: np.ndarray
    online: np.ndarray

    @classmethod
    def of(cls, table: pa.Table) -> Rows:
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise KeyError(f"the dataset lacks {', '.join(missing)}")
        date = table.column("local_date")
        return cls(
            mode=np.asarray(table.column("payment_mode").to_numpy(zero_copy_only=False), dtype=str),
            inr=pc.cast(table.column("amount_inr"), pa.float64()).to_numpy(),
            p2p=np.asarray(pc.equal(table.column("merchant_type"), P2P_PAYEE).to_numpy(zero_copy_only=False)),
            fraud=np.asarray(table.column("is_fraud").to_numpy(zero_copy_only=False), dtype=bool),
            hour=table.column("local_hour").to_numpy(),
            day=pc.cast(date, pa.int32()).to_numpy(),
            month_day=pc.day(date).to_numpy(),
            festival=np.asarray(pc.fill_null(table.column("festival"), "").to_numpy(zero_copy_only=False), dtype=str),
            category=np.asarray(table.column("category").to_numpy(zero_copy_only=False), dtype=str),
            online=np.asarray(table.column("is_online").to_numpy(zero_copy_only=False), dtype=bool),
        )


def measure(f: Figure, r: Rows) -> tuple[float | None, int]:
    """The figure's value on these rows (None when no row qualifies) and how many rows it rests on."""
    digital = r.mode != "Cash"
    legit = digital & ~r.fraud
    in_modes = np.isin(r.mode, f.modes) if f.modes else digital
    kind = {"all": True, "p2m": ~r.p2p, "p2p": r.p2p}[f.kind]
    if f.measure == "fraud_per_million":
        rows = digital & in_modes
        return _ratio(r.fraud[rows].sum() * 1e6, rows.sum()), int(rows.sum())
    if f.measure == "mode_share":
        return _ratio((legit & in_modes).sum(), legit.sum()), int(legit.sum())
    if f.measure == "p2m_share":
        rows = legit & in_modes
        return _ratio((rows & ~r.p2p).sum(), rows.sum()), int(rows.sum())
    rows = legit & in_modes & kind
    if f.measure == "average_ticket":
        return (float(r.inr[rows].mean()) if rows.any() else None), int(rows.sum())
    if f.measure == "share_at_most":
        return _ratio((r.inr[rows] <= (f.inr or 0)).sum(), rows.sum()), int(rows.sum())
    if f.measure == "share_above":
        return _ratio((r.inr[rows] > (f.inr or 0)).sum(), rows.sum()), int(rows.sum())
    if f.measure == "peak_hour":
        counts = np.bincount(r.hour[legit].astype(np.int64), minlength=24)
        return (float(counts.argmax()) if legit.any() else None), int(legit.sum())
    if f.measure == "month_start":
        return _month_start(r, legit, f.of == "value"), int(legit.sum())
    if f.measure == "festival_lift":
        return _festival_lift(r, legit, f.festival or ""), int(legit.sum())
    # category_share: in-person merchant payments
    rows = legit & ~r.online & ~r.p2p
    return _ratio((rows & np.isin(r.category, f.categories)).sum(), rows.sum()), int(rows.sum())


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _per_day(day: np.ndarray, weight: np.ndarray, days: np.ndarray) -> float | None:
    """Mean per calendar day over `days` (unique day numbers) of the weights falling on them."""
    if not len(days):
        return None
    return float(weight[np.isin(day, days)].sum()) / len(days)


def _month_start(r: Rows, rows: np.ndarray, by_value: bool) -> float | None:
    weight = np.where(rows, r.inr if by_value else 1.0, 0.0)
    days, first = np.unique(r.day, return_index=True)
    mday = r.month_day[first]
    start = _per_day(r.day, weight, days[(mday >= MONTH_START[0]) & (mday <= MONTH_START[1])])
    mid = _per_day(r.day, weight, days[(mday >= MID_MONTH[0]) & (mday <= MID_MONTH[1])])
    return start / mid if start is not None and mid else None


def _festival_lift(r: Rows, rows: np.ndarray, festival: str) -> float | None:
    """Rows per day on days where most rows carry the festival, against days where none carries any festival."""
    days, inverse = np.unique(r.day, return_inverse=True)
    total = np.bincount(inverse, minlength=len(days))
    named = np.bincount(inverse, weights=r.festival == festival, minlength=len(days))
    any_festival = np.bincount(inverse, weights=r.festival != "", minlength=len(days))
    ones = rows.astype(float)
    season = _per_day(r.day, ones, days[named > total / 2])
    ordinary = _per_day(r.day, ones, days[any_festival == 0])
    return season / ordinary if season is not None and ordinary else None
