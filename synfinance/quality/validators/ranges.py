"""Ranges and domains: positive amounts in whole paise, known categories, modes, channels and cities, points in
India, hours and weekdays that exist."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.population.categories import CATEGORY_NAMES
from synfinance.population.geography import CITY_NAMES
from synfinance.population.payments import CHANNELS, DEVICE_TYPES, MODES, OS_NAMES, STATUSES
from synfinance.population.segments import AGE_GROUPS, INCOME_BRACKETS, SEGMENT_NAMES
from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset

# India's extent with its islands (Andaman and Nicobar to the east, Lakshadweep to the west), in degrees
LATITUDE = (6.0, 37.5)
LONGITUDE = (68.0, 97.5)
DOMAINS: dict[str, tuple[str, ...]] = {
    "category": CATEGORY_NAMES, "payment_mode": MODES, "channel": CHANNELS, "status": STATUSES,
    "city": CITY_NAMES, "merchant_city": CITY_NAMES, "currency": ("INR",), "customer_segment": SEGMENT_NAMES,
    "customer_age_group": AGE_GROUPS, "customer_income_bracket": INCOME_BRACKETS, "device_type": DEVICE_TYPES,
    "os": OS_NAMES, "merchant_type": ("chain", "local", "person"),
}
BOUNDS: dict[str, tuple[float, float]] = {
    "latitude": LATITUDE, "longitude": LONGITUDE, "local_hour": (0, 23), "day_of_week": (0, 6),
    "merchant_reputation": (0.0, 1.0), "distance_from_home_km": (0.0, 4_000.0), "daily_txn_count": (1, 10_000),
    "time_since_last_txn_s": (0.0, 1e9),
}


class RangesValidator(Validator):
    name = "ranges"
    summary = "Amounts > 0 with at most two decimals; known categories, modes, channels, cities; points in India."

    def _check(self, data: Dataset, found: Found) -> None:
        names = data.transactions.column_names
        bad_rows = np.zeros(data.rows, dtype=bool)
        if "amount_inr" in names:
            bad_rows |= self._amounts(data, found)
        for field, domain in DOMAINS.items():
            if field not in names:
                continue
            column = data.transactions.column(field)
            outside = data.outside(field, domain)
            if outside.any():
                bad_rows |= outside
                seen = sorted({str(v) for v in column.filter(pa.array(outside)).unique().to_pylist()})[:3]
                found.violation("error", f"{field} has {int(outside.sum()):,} values outside its domain "
                                f"(e.g. {', '.join(seen)})", f"{field} is one of: {', '.join(domain[:8])}"
                                f"{' ...' if len(domain) > 8 else ''}", field=field, rows=outside)
        for field, (low, high) in BOUNDS.items():
            if field not in names:
                continue
            values = data.column(field).astype(np.float64, copy=False)
            outside = (values < low) | (values > high)  # NaN (empty) compares false: missing is another check's
            if outside.any():
                bad_rows |= outside
                found.violation("error", f"{field} has {int(outside.sum()):,} values outside [{low:g}, {high:g}] "
                                f"(from {np.nanmin(values[outside]):g} to {np.nanmax(values[outside]):g})",
                                f"{field} stays within [{low:g}, {high:g}]", field=field, rows=outside)
        found.metric("out_of_range_share", round(float(bad_rows.mean()) if data.rows else 0.0, 6))

    def _amounts(self, data: Dataset, found: Found) -> np.ndarray:
        column = data.transactions.column("amount_inr")
        if pa.types.is_decimal(column.type) and column.type.scale == 2 and not column.null_count:
            paise = data.paise()
            fractional = np.zeros(data.rows, dtype=bool)
        else:  # a float or a decimal of another scale: paise must still be whole
            values = data.column("amount_inr").astype(np.float64) * 100
            paise = np.round(values)
            fractional = np.abs(values - paise) > 1e-6
        nonpositive = paise <= 0
        if nonpositive.any():
            found.violation("error", f"amount_inr is zero or negative in {int(nonpositive.sum()):,} rows",
                            "amounts are positive; refunds are separate transactions", field="amount_inr",
                            rows=nonpositive)
        if fractional.any():
            found.violation("error", f"amount_inr has more than two decimals in {int(fractional.sum()):,} rows",
                            "amounts are whole paise (two decimals)", field="amount_inr", rows=fractional)
        return np.asarray(nonpositive | fractional)
