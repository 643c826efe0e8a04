"""The schema is the single source of truth: sizes, descriptions, docs and every written file agree."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synfinance.schema import (
    CUSTOMER_SCHEMA,
    LABEL_FIELDS,
    MERCHANT_SCHEMA,
    SCHEMAS,
    TRANSACTION_SCHEMA,
    amounts_from_paise,
    conforms,
    description,
    paise_from_amounts,
)


@pytest.mark.parametrize(
    ("schema", "size"),
    [
        pytest.param(CUSTOMER_SCHEMA, 25, id="customer"),
        pytest.param(MERCHANT_SCHEMA, 10, id="merchant"),
        pytest.param(TRANSACTION_SCHEMA, 50, id="transaction"),
    ],
)
def test_schema_sizes_and_descriptions(schema: pa.Schema, size: int) -> None:
    assert len(schema) == size
    assert len(set(schema.names)) == size
    missing = [f.name for f in schema if not description(f)]
    assert missing == []


def test_transaction_schema_carries_the_ten_label_fields() -> None:
    assert LABEL_FIELDS == (
        "is_fraud",
        "fraud_type",
        "fraud_severity",
        "fraud_confidence",
        "fraud_evidence",
        "is_anomaly",
        "anomaly_type",
        "anomaly_severity",
        "anomaly_confidence",
        "anomaly_evidence",
    )
    assert TRANSACTION_SCHEMA.field("timestamp").type == pa.timestamp("us", tz="UTC")


def test_every_written_file_conforms(dataset_dir: Path) -> None:
    files = [*dataset_dir.glob("*.parquet"), *(dataset_dir / "transactions").glob("*.parquet")]
    assert len(files) >= 3
    for path in files:
        name = "transactions" if path.parent.name == "transactions" else path.stem
        written = pq.read_schema(path)
        assert conforms(written, SCHEMAS[name]) == [], path
        assert written.field(0).metadata == SCHEMAS[name].field(0).metadata  # descriptions travel with the data


def test_conforms_names_each_difference() -> None:
    broken = pa.schema([pa.field("customer_id", pa.int64()), pa.field("extra", pa.string())])
    problems = conforms(broken, CUSTOMER_SCHEMA)
    assert "column 'customer_id' has type int64, expected string" in problems
    assert "unexpected column 'extra'" in problems
    assert sum(p.startswith("missing column") for p in problems) == 24


def test_amounts_keep_exact_paise() -> None:
    paise = pa.array([1, 99, 100, 123456789, -250]).to_numpy()
    amounts = amounts_from_paise(paise)
    assert [str(v) for v in amounts.to_pylist()] == ["0.01", "0.99", "1.00", "1234567.89", "-2.50"]
    assert paise_from_amounts(amounts).tolist() == paise.tolist()
    assert paise_from_amounts(amounts.slice(1, 2)).tolist() == [99, 100]
