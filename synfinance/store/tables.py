"""Every SynFinance table as an Arrow schema: how rows are loaded, backed up, and checked against the DDL.

The population, transaction and feature tables take their columns from synfinance.schema; the rest are
declared here. `pg_type` is the one mapping from Arrow to PostgreSQL types, and tests compare the
migrated database against it, so the migrations cannot drift from the schema unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from synfinance.schema import (
    CUSTOMER_SCHEMA,
    FEATURE_TABLE_SCHEMA,
    MERCHANT_SCHEMA,
    PREDICTION_SCHEMA,
    STORED_TRANSACTION_SCHEMA,
)

_SCALAR = {
    pa.string(): "text",
    pa.bool_(): "boolean",
    pa.float64(): "double precision",
    pa.int8(): "smallint",
    pa.int16(): "smallint",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.date32(): "date",
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()
    since: int = 1  # the migration that made the table (a backup of an older schema has no such table)

    def pg_type(self, column: str) -> str:
        if column in self.json_columns:
            return "jsonb"
        return pg_type(self.schema.field(column).type)

    def stage_type(self, column: str) -> str:
        """Type of the column in a staging table: what binary COPY of the Arrow column can fill (JSON as text)."""
        return pg_type(self.schema.field(column).type)


def pg_type(t: pa.DataType) -> str:
    """The PostgreSQL type of an Arrow type, spelled as format_type() prints it."""
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamp with time zone"
    if pa.types.is_list(t):
        return pg_type(t.value_type) + "[]"
    try:
        return _SCALAR[t]
    except KeyError:
        raise TypeError(f"no PostgreSQL type for Arrow type {t}") from None


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, type_, nullable=nullable) for name, type_, nullable in fields])


_LABEL_SCHEMA = _schema(
    ("transaction_id", pa.string(), False),
    ("pattern", pa.string(), False),
    ("severity", pa.string(), False),
    ("confidence", pa.float64(), False),
    ("evidence", pa.string(), False),
)

# synfinance.schema.PREDICTION_SCHEMA with the reasons as JSON text (jsonb; store/predictions.py encodes them),
# in the table's column order (migrations 0002 and 0005)
_PREDICTION_COLUMNS = ("transaction_id", "model_version", "fraud_probability", "decision", "reasons", "scored_at",
                       "anomaly_score")
STORED_PREDICTION_SCHEMA = _schema(*[
    (name, pa.string() if name == "reasons" else PREDICTION_SCHEMA.field(name).type,
     PREDICTION_SCHEMA.field(name).nullable) for name in _PREDICTION_COLUMNS])

# label feedback joined to the prediction it judged (migration 0006, store/feedback.py)
FEEDBACK_SCHEMA = _schema(
    ("transaction_id", pa.string(), False),
    ("is_fraud", pa.bool_(), False),
    ("fraud_type", pa.string(), True),
    ("model_version", pa.string(), False),
    ("decision", pa.string(), False),
    ("outcome", pa.string(), False),
    ("received_at", pa.timestamp("us", tz="UTC"), False),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("customers", CUSTOMER_SCHEMA, ("customer_id",)),
        TableSpec("merchants", MERCHANT_SCHEMA, ("merchant_id",)),
        TableSpec("transactions", STORED_TRANSACTION_SCHEMA, ("transaction_id", "timestamp")),
        TableSpec("features", FEATURE_TABLE_SCHEMA, ("transaction_id",)),
        TableSpec("predictions", STORED_PREDICTION_SCHEMA, ("transaction_id", "model_version"), frozenset({"reasons"})),
        TableSpec("fraud_labels", _LABEL_SCHEMA, ("transaction_id",), frozenset({"evidence"})),
        TableSpec("anomaly_labels", _LABEL_SCHEMA, ("transaction_id",), frozenset({"evidence"})),
        TableSpec("feedback", FEEDBACK_SCHEMA, ("transaction_id",), since=6),
    )
}


def tables_at(version: int) -> dict[str, TableSpec]:
    """The tables a schema at this migration version has."""
    return {name: spec for name, spec in TABLES.items() if spec.since <= version}
