"""The migrated tables match synfinance.schema / synfinance.store.tables column for column."""

from __future__ import annotations

import pyarrow as pa
import pytest

from synfinance.schema import (
    CUSTOMER_SCHEMA,
    FEATURE_NAMES,
    MERCHANT_SCHEMA,
    PREDICTION_SCHEMA,
    STORED_TRANSACTION_SCHEMA,
    TRANSACTION_SCHEMA,
    UNKNOWABLE,
)
from synfinance.store.connect import Database
from synfinance.store.tables import TABLES

pytestmark = pytest.mark.postgres


async def _columns(db: Database, table: str) -> list[tuple[str, str, bool]]:
    conn = await db.connect()
    try:
        rows = await conn.fetch(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull "
            "FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum", table)
    finally:
        await conn.close()
    return [(r["attname"], r["type"], r["attnotnull"]) for r in rows]


@pytest.mark.parametrize("table", list(TABLES))
async def test_table_columns_and_types_match_the_schema(db: Database, table: str) -> None:
    spec = TABLES[table]
    expected = [(c, spec.pg_type(c)) for c in spec.schema.names]
    actual = await _columns(db, table)
    assert [(name, type_) for name, type_, _ in actual] == expected


@pytest.mark.parametrize("schema", [CUSTOMER_SCHEMA, MERCHANT_SCHEMA, STORED_TRANSACTION_SCHEMA],
                         ids=["customers", "merchants", "transactions"])
async def test_not_null_follows_the_schema_nullability(db: Database, schema: object) -> None:
    table = {CUSTOMER_SCHEMA: "customers", MERCHANT_SCHEMA: "merchants",
             STORED_TRANSACTION_SCHEMA: "transactions"}[schema]
    actual = {name: not_null for name, _, not_null in await _columns(db, table)}
    assert actual == {f.name: not f.nullable for f in schema}  # type: ignore[attr-defined]


def test_table_specs_derive_from_the_schema_module() -> None:
    # stored transactions: the dataset's columns, those a raw event may leave unknown nullable (migration 0011)
    stored = TABLES["transactions"].schema
    assert stored.names == TRANSACTION_SCHEMA.names and all(stored.field(n).type == TRANSACTION_SCHEMA.field(n).type
                                                            for n in stored.names)
    nullable = {f.name for f in TRANSACTION_SCHEMA if f.nullable} | set(UNKNOWABLE)
    assert {f.name for f in stored if f.nullable} == nullable
    assert TABLES["features"].schema.names == ["transaction_id", *FEATURE_NAMES]
    # the predictions table holds the one predictions schema, reasons as JSON text
    stored = TABLES["predictions"].schema
    assert sorted(stored.names) == sorted(PREDICTION_SCHEMA.names)
    assert all(stored.field(f.name).type == (pa.string() if f.name == "reasons" else f.type) for f in PREDICTION_SCHEMA)
