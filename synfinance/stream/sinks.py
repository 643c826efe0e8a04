"""Where a stream's batches go: JSON Lines to a byte stream, PostgreSQL (load_part), or HTTP POST."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import BinaryIO

import pyarrow as pa

from synfinance.errors import StoreUnavailable
from synfinance.output.jsonl import encode_jsonl


class JsonlSink:
    """Each batch as JSON Lines, flushed at once (a consumer reading a pipe sees rows as they are due)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def __call__(self, batch: pa.Table) -> None:
        self.out.write(encode_jsonl(batch))
        self.out.flush()

    def close(self) -> None:
        self.out.flush()


class PostgresSink:
    """Each batch loaded with synfinance.store.load_part (one transaction, idempotent) on one connection."""

    def __init__(self, database: object) -> None:
        from synfinance.store.connect import Database

        assert isinstance(database, Database)
        self.database = database
        self.runner = asyncio.Runner()
        self.conn = self.runner.run(database.connect(bulk=True))

    def __call__(self, batch: pa.Table) -> None:
        from synfinance.store.load import load_part

        self.runner.run(load_part(self.conn, batch))

    def close(self) -> None:
        self.runner.run(self.conn.close())
        self.runner.close()


class HttpSink:
    """POST each batch as JSON Lines (application/x-ndjson) to a URL; a failure names the URL and status."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url, self.timeout_s = url, timeout_s

    def __call__(self, batch: pa.Table) -> None:
        request = urllib.request.Request(self.url, data=encode_jsonl(batch), method="POST",
                                         headers={"Content-Type": "application/x-ndjson"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (user's URL)
                response.read()
        except urllib.error.HTTPError as exc:
            raise StoreUnavailable(f"POST {self.url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreUnavailable(f"POST {self.url}: {getattr(exc, 'reason', exc)}") from exc

    def close(self) -> None:
        """Nothing to release: every POST opens and closes its own connection."""
