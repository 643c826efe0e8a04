"""One default 1,000,000-row run (patterns on, realistic) shared by the pattern tests."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

import synfinance

MILLION = {"count": 1_000_000, "seed": 42}


@pytest.fixture(scope="session")
def million() -> pa.Table:
    return synfinance.generate(**MILLION)


@pytest.fixture(scope="session")
def customers_by_id(million: pa.Table) -> dict[str, dict[str, Any]]:
    from synfinance.generation import GenerationParams, GenerationPlan

    table = GenerationPlan(GenerationParams(**MILLION)).customers.table
    return {row["customer_id"]: row for row in table.to_pylist()}
