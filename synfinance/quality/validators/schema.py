"""Schema: every table has the fields, types and nullability of synfinance.schema, and features align with rows."""

from __future__ import annotations

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.schema import SCHEMAS, conforms


class SchemaValidator(Validator):
    name = "schema"
    summary = "Fields, types and nullability of every table against synfinance.schema."

    def _check(self, data: Dataset, found: Found) -> None:
        tables = {"transactions": data.transactions, "features": data.features, "customers": data.customers,
                  "merchants": data.merchants}
        problems = 0
        for name, table in tables.items():
            if table is None:
                continue
            for problem in conforms(table.schema, SCHEMAS[name]):
                problems += 1
                found.violation("critical", f"{name}: {problem}", "regenerate the dataset with this version, or "
                                "migrate it; readers rely on the declared schema", field=problem.split("'")[1]
                                if "'" in problem else None)
        if data.features is not None:
            if data.features.num_rows != data.rows:
                problems += 1
                found.violation("critical", f"features has {data.features.num_rows:,} rows, transactions "
                                f"{data.rows:,}", "rewrite the features (synfinance generate features)",
                                field="transaction_id")
            elif not data.features.column("transaction_id").equals(data.transactions.column("transaction_id")):
                problems += 1
                found.violation("critical", "features are not in the transactions' row order (transaction_id "
                                "differs)", "rewrite the features (synfinance generate features)",
                                field="transaction_id")
        found.metric("schema_problems", problems)
