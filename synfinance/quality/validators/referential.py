"""Referential integrity: every transaction's customer and merchant exist, agree with what the transaction says
of them, and each device keeps one type and one operating system."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset

# (transaction field, population table, key, that table's field)
AGREES = (("merchant_name", "merchants", "merchant_id", "name"),
          ("category", "merchants", "merchant_id", "category"),
          ("merchant_city", "merchants", "merchant_id", "city"),
          ("merchant_type", "merchants", "merchant_id", "merchant_type"),
          ("customer_segment", "customers", "customer_id", "segment"),
          ("customer_income_bracket", "customers", "customer_id", "income_bracket"))


class ReferentialValidator(Validator):
    name = "referential"
    summary = "Customers and merchants exist and agree with the transactions; a device keeps one type and OS."
    needs = ("population",)

    def _check(self, data: Dataset, found: Found) -> None:
        # everything by the distinct ids (thousands), then mapped to rows through their dictionary codes
        positions: dict[str, np.ndarray] = {}
        for table, key in (("customers", "customer_id"), ("merchants", "merchant_id")):
            codes, uniques = data.codes(key)
            at = pc.index_in(pa.array(uniques, pa.string()), value_set=data.table(table).column(key))
            position = np.append(at.fill_null(-1).to_numpy(zero_copy_only=False), -1)[codes]  # code -1: empty
            positions[key] = position
            unknown = position < 0
            found.metric(f"unknown.{key}", int(unknown.sum()))
            if unknown.any():
                found.violation("critical", f"{int(unknown.sum()):,} rows name a {key} that {table} does not hold",
                                f"write {table} from the same population as the transactions", field=key,
                                rows=unknown)
        for field, table, key, theirs in AGREES:
            if field not in data.transactions.column_names:
                continue
            said, values = data.codes(field)
            truth = pc.index_in(data.table(table).column(theirs), value_set=pa.array(values, pa.string()))
            truth_code = np.append(truth.fill_null(-2).to_numpy(zero_copy_only=False), -2)  # -2: not a row's value
            position = positions[key]
            differs = (position >= 0) & (said != truth_code[position])
            if differs.any():
                found.violation("error", f"{field} disagrees with {table}.{theirs} in {int(differs.sum()):,} rows",
                                f"copy {field} from {table} when generating", field=field, rows=differs)
        self._devices(data, found)

    def _devices(self, data: Dataset, found: Found) -> None:
        names = data.transactions.column_names
        if "device_id" not in names:
            return
        device, _ = data.codes("device_id")
        used = device >= 0
        for field in ("device_type", "os"):
            if field not in names:
                continue
            value, _ = data.codes(field)
            empty = used & (value < 0)
            pairs = np.unique(device[used] * (value.max() + 2) + value[used] + 1)
            kinds = np.bincount(pairs // (value.max() + 2), minlength=device.max() + 1)
            changing = used & (kinds[np.maximum(device, 0)] > 1)
            if empty.any():
                found.violation("error", f"{field} is empty in {int(empty.sum()):,} rows with a device", f"a row "
                                f"with a device_id names its {field}", field=field, rows=empty)
            if changing.any():
                found.violation("error", f"{int((kinds > 1).sum()):,} devices change {field} between rows",
                                f"a device keeps one {field}", field=field, rows=changing)
