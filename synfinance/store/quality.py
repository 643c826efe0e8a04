"""Quality runs in PostgreSQL (migration 0008): a run's summary and report kept, the recent ones listed.

    await QualityRunRepository(conn).record(summary, report)
    runs = await QualityRunRepository(conn).recent(10)     # summaries, newest first
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import asyncpg

from synfinance.errors import MigrationError

INSERT = """
INSERT INTO quality_runs (run_id, created_at, dataset, rows, score, passed, summary, report)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)
ON CONFLICT (run_id) DO NOTHING
"""
RECENT = "SELECT summary FROM quality_runs ORDER BY created_at DESC, run_id DESC LIMIT $1"


NOT_MIGRATED = "the database has no quality_runs table: run `synfinance db migrate` (migration 0008)"


class QualityRunRepository:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def record(self, summary: dict[str, Any], report: dict[str, Any]) -> None:
        """Keep a run (a run id seen before is left as it was: recording twice is harmless)."""
        try:
            await self.conn.execute(INSERT, summary["run_id"], dt.datetime.fromisoformat(summary["created_at"]),
                                    summary["dataset"], summary["rows"], summary["score"], summary["passed"],
                                    json.dumps(summary), json.dumps(report, default=str))
        except asyncpg.UndefinedTableError as exc:
            raise MigrationError(NOT_MIGRATED) from exc

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        try:
            return [json.loads(r["summary"]) for r in await self.conn.fetch(RECENT, limit)]
        except asyncpg.UndefinedTableError as exc:
            raise MigrationError(NOT_MIGRATED) from exc
