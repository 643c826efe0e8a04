"""Missing values: required fields never empty, optional ones empty only where the schema's meaning allows."""

from __future__ import annotations

import numpy as np

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.schema import FEATURE_NAMES, TRANSACTION_SCHEMA

CARD_MODES = ("Credit Card", "Debit Card", "EMI")
# an optional field and the payment modes that require it (None: every mode but cash)
REQUIRED_WHEN = (("card_type", CARD_MODES), ("instrument_id", None))


class MissingValidator(Validator):
    name = "missing"
    summary = "Empty values per field: none in required fields, optional ones only where they may be empty."

    def _check(self, data: Dataset, found: Found) -> None:
        table = data.transactions
        required = [f.name for f in TRANSACTION_SCHEMA if not f.nullable and f.name in table.column_names]
        empty_required = 0
        for field in TRANSACTION_SCHEMA:
            if field.name not in table.column_names:
                continue
            nulls = table.column(field.name).null_count
            found.metric(f"missing.{field.name}", round(nulls / max(data.rows, 1), 6))
            if not field.nullable and nulls:
                empty_required += nulls
                found.violation("error", f"{field.name} is required but {nulls:,} rows leave it empty", "fix the "
                                "writer of this field; a required value is never empty", field=field.name,
                                rows=table.column(field.name).is_null().to_numpy(zero_copy_only=False))
        found.metric("missing_share", round(empty_required / max(data.rows * len(required), 1), 6))
        self._conditional(data, found)
        if data.features is not None:
            for name in FEATURE_NAMES:
                if name not in data.features.column_names:
                    continue
                nulls = data.features.column(name).null_count
                found.metric(f"missing.{name}", round(nulls / max(data.rows, 1), 6))
                if data.rows and nulls == data.rows:
                    found.violation("error", f"feature {name} is empty in every row", "check the feature's inputs",
                                    field=name)

    def _conditional(self, data: Dataset, found: Found) -> None:
        names = data.transactions.column_names
        if "payment_mode" not in names:
            return
        mode, modes = data.codes("payment_mode")
        for field, needing in REQUIRED_WHEN:
            if field not in names:
                continue
            wanted = [i for i, m in enumerate(modes) if (m in needing if needing else m != "Cash")]
            empty = np.isin(mode, wanted) & data.transactions.column(field).is_null().to_numpy(zero_copy_only=False)
            if empty.any():
                which = "card payments" if needing else "payments other than cash"
                found.violation("error", f"{field} is empty in {int(empty.sum()):,} {which}", f"every one of the "
                                f"{which} names its {field}", field=field, rows=empty)
        if "time_since_last_txn_s" in names and "customer_id" in names:
            customer, _ = data.codes("customer_id")
            first = np.zeros(data.rows, dtype=bool)
            first[np.unique(customer, return_index=True)[1]] = True
            empty = data.transactions.column("time_since_last_txn_s").is_null().to_numpy(zero_copy_only=False)
            wrong = empty & ~first
            if wrong.any():
                found.violation("error", f"time_since_last_txn_s is empty in {int(wrong.sum()):,} rows that are not "
                                "their customer's first", "only a customer's first transaction has no previous one",
                                field="time_since_last_txn_s", rows=wrong)
