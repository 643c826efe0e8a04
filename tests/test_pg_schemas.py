"""The tests' throw-away schemas: one left by an interrupted run (its process gone) is dropped by the next session;
one whose process lives (this session's, or another running session's) is kept."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from pg_schemas import drop_orphans, fetch, schema_name

from synfinance.store.connect import Database

pytestmark = pytest.mark.postgres


def test_a_schema_of_a_gone_process_is_dropped_and_a_living_ones_kept(pg_url: str) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    orphan = schema_name("t").split("_")
    orphan[1] = gone.stdout.strip()
    left, mine = Database(pg_url, "_".join(orphan)), Database(pg_url, schema_name("t"))
    for db in (left, mine):
        asyncio.run(db.ensure_schema())
    try:
        dropped = drop_orphans(pg_url)
        present = {r["nspname"] for r in fetch(Database(pg_url), "SELECT nspname FROM pg_namespace")}
        assert left.schema in dropped and left.schema not in present
        assert mine.schema not in dropped and mine.schema in present
        assert "public" in present
    finally:
        for db in (left, mine):
            asyncio.run(db.drop_schema())
