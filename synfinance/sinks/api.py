"""A running SynFinance API: each batch stored and scored there (POST /v1/transactions), and, a delay later,
its truth sent back as label feedback (POST /v1/feedback/batch), as a bank learns of chargebacks and cases.

    sink = ApiSink("http://127.0.0.1:8000", key, feedback_delay_s=3600 / speedup)

Feedback not yet due when the sink closes is not sent (the bank has not learned it yet); close says how much.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

import pyarrow as pa

from synfinance.errors import StoreUnavailable
from synfinance.output.dataset import FileEntry
from synfinance.output.jsonl import encode_jsonl
from synfinance.sinks.base import ShardOutput
from synfinance.world.plan import GenerationPlan

BATCH = 10_000  # the API's limit per request


class ApiSink:
    kind = "api"
    travels = False  # it keeps the pending feedback: one instance, in the driving process

    def __init__(self, url: str, api_key: str, feedback_delay_s: float | None = None, timeout_s: float = 30.0,
                 clock: Any = time.monotonic) -> None:
        self.url, self.api_key, self.timeout_s = url.rstrip("/"), api_key, timeout_s
        self.delay_s, self.clock = feedback_delay_s, clock
        self.pending: deque[tuple[float, list[dict[str, Any]]]] = deque()
        self.sent = self.unsent = 0

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        return []

    def write(self, output: ShardOutput) -> list[FileEntry]:
        table = output.transactions
        for start in range(0, table.num_rows, BATCH):
            part = table.slice(start, BATCH)
            lines = encode_jsonl(part).rstrip(b"\n").split(b"\n")
            self._post("/v1/transactions", b'{"transactions":[' + b",".join(lines) + b"]}")
            if self.delay_s is not None:
                self.pending.append((self.clock() + self.delay_s, truth(part)))
        self.send_due()
        return [FileEntry(f"<{self.kind} batch {output.shard}>", table.num_rows, "")]

    def send_due(self) -> None:
        """Send every feedback batch whose delay has passed."""
        while self.pending and self.pending[0][0] <= self.clock():
            _, items = self.pending.popleft()
            self._post("/v1/feedback/batch", json.dumps({"feedback": items}).encode())
            self.sent += len(items)

    def close(self, entries: list[FileEntry]) -> Path | None:
        self.send_due()
        self.unsent = sum(len(items) for _, items in self.pending)
        self.pending.clear()
        return None

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(self.url + path, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-API-Key": self.api_key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 (user's URL)
                response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise StoreUnavailable(f"POST {self.url + path}: HTTP {exc.code} {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreUnavailable(f"POST {self.url + path}: {getattr(exc, 'reason', exc)}") from exc


def truth(table: pa.Table) -> list[dict[str, Any]]:
    """The generated labels of these rows as feedback items."""
    ids, fraud, kinds = (table.column(n).to_pylist() for n in ("transaction_id", "is_fraud", "fraud_type"))
    return [{"transaction_id": i, "is_fraud": bool(f), "fraud_type": k if f else None}
            for i, f, k in zip(ids, fraud, kinds, strict=True)]
