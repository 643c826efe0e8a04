"""The pattern tests' view of the default million (tests/synfinance/conftest.py generates it once)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

MILLION = {"count": 1_000_000, "seed": 42}  # tests/synfinance/conftest.py's `million`


@pytest.fixture(scope="session")
def customers_by_id(million: pa.Table) -> dict[str, dict[str, Any]]:
    from synfinance.generation import GenerationParams, GenerationPlan

    table = GenerationPlan(GenerationParams(**MILLION)).customers.table
    return {row["customer_id"]: row for row in table.to_pylist()}
