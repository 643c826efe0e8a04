"""One default 1,000,000-row run (patterns on, realistic), generated once per session: the pattern tests and the
calibration tests (the default dataset against the published figures) read the same rows."""

from __future__ import annotations

import pyarrow as pa
import pytest

import synfinance

MILLION = {"count": 1_000_000, "seed": 42}  # the default dataset: docs/patterns.md and docs/generation.md measure it


@pytest.fixture(scope="session")
def million() -> pa.Table:
    return synfinance.generate(**MILLION)
