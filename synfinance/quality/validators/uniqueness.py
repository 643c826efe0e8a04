"""Uniqueness of ids: transactions, customers and merchants each appear once."""

from __future__ import annotations

import numpy as np

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset

KEYS = (("transactions", "transaction_id"), ("customers", "customer_id"), ("merchants", "merchant_id"))


class UniquenessValidator(Validator):
    name = "uniqueness"
    summary = "Transaction, customer and merchant ids are unique."

    def _check(self, data: Dataset, found: Found) -> None:
        for table, key in KEYS:
            if not data.has("population") and table != "transactions":
                continue
            if key not in data.table(table).column_names:
                continue
            codes, _ = data.codes(key, table)
            first = np.zeros(len(codes), dtype=bool)
            first[np.unique(codes, return_index=True)[1]] = True
            repeated = ~first
            found.metric(f"duplicates.{table}", int(repeated.sum()))
            if repeated.any():
                found.violation("critical", f"{table}.{key}: {int(repeated.sum()):,} rows repeat an id",
                                "ids derive from (seed, shard, sequence); a repeat means a shard was written "
                                "twice or two datasets were mixed", field=key,
                                rows=repeated if table == "transactions" else int(repeated.sum()))
