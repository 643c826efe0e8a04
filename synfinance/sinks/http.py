"""HTTP: each shard POSTed as JSON Lines (application/x-ndjson); a failure names the URL and the status."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from synfinance.errors import StoreUnavailable
from synfinance.output.dataset import FileEntry
from synfinance.output.jsonl import encode_jsonl
from synfinance.sinks.base import ShardOutput
from synfinance.sinks.jsonl import with_predictions
from synfinance.world.plan import GenerationPlan


class HttpSink:
    """The receiver must treat a shard's rows by transaction_id to make a repeated POST harmless."""

    kind = "http"
    travels = True

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url, self.timeout_s = url, timeout_s

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        return []

    def write(self, output: ShardOutput) -> list[FileEntry]:
        request = urllib.request.Request(self.url, data=encode_jsonl(with_predictions(output)), method="POST",
                                         headers={"Content-Type": "application/x-ndjson"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (user's URL)
                response.read()
        except urllib.error.HTTPError as exc:
            raise StoreUnavailable(f"POST {self.url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreUnavailable(f"POST {self.url}: {getattr(exc, 'reason', exc)}") from exc
        return [FileEntry(f"<{self.kind} shard {output.shard}>", output.transactions.num_rows, "")]

    def close(self, entries: list[FileEntry]) -> Path | None:
        return None  # nothing to release: every POST opens and closes its own connection
