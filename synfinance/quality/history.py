"""Where quality runs are kept: PostgreSQL's quality_runs when the database is on, else a JSON Lines file
(quality.history_path). Both keep each run's summary; PostgreSQL keeps the whole report too."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from synfinance.quality.report import QualityReport
from synfinance.settings.models import Settings
from synfinance.store.connect import Database
from synfinance.store.quality import QualityRunRepository


class History:
    def __init__(self, settings: Settings) -> None:
        self.database = Database.from_config(settings.database) if settings.database.enabled else None
        self.file = Path(settings.quality.history_path)

    @property
    def where(self) -> str:
        return f"PostgreSQL {self.database.where}" if self.database else str(self.file)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """Summaries of the latest runs, newest first."""
        if self.database is not None:
            return asyncio.run(self._in_database(lambda repo: repo.recent(limit)))
        if not self.file.is_file():
            return []
        lines = [line for line in self.file.read_text().splitlines() if line.strip()]
        return [json.loads(line) for line in reversed(lines[-limit:])]

    def record(self, report: QualityReport) -> None:
        summary = report.summary()
        if self.database is not None:
            body = report.to_json()
            asyncio.run(self._in_database(lambda repo: repo.record(summary, body)))
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with self.file.open("a") as out:  # one line per run, written whole
            out.write(json.dumps(summary, sort_keys=True) + "\n")

    async def _in_database(self, work: Any) -> Any:
        assert self.database is not None
        conn = await self.database.connect()
        try:
            return await work(QualityRunRepository(conn))
        finally:
            await conn.close()
