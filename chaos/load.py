"""A bounded load generator for a local API, and the ledger of the writes it had acknowledged.

    spec = LoadSpec(rate_per_s=60, concurrency=8, duration_s=20, mix={"score": 0.6, "query": 0.2, "write": 0.2})
    answers = Load("http://127.0.0.1:8000", keys, spec, Requests.from_dataset(data, run_id)).run()

It only talks to 127.0.0.1 / localhost (a chaos tool must not load someone else's service). Requests are sent
at `rate_per_s` in all by at most `concurrency` clients for `duration_s`. A write is POST /v1/transactions of
new records with an Idempotency-Key; a client retries a write that got no 2xx (no answer, 5xx, 429) with the
same key, as a careful client would, and the ledger notes which transaction ids were acknowledged (2xx) and
which were attempted: the chaos verdict checks every acknowledged one is stored exactly once (like a Jepsen
checker: acknowledged writes lost or duplicated fail the run; writes never acknowledged may or may not land).
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import requests
from pydantic import BaseModel, ConfigDict, Field, field_validator

from synfinance.errors import ParameterError, Problem
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.generation.replay import replayed
from synfinance.output.dataset import read_dataset
from synfinance.resilience import RetryPolicy
from synfinance.schema import TRANSACTION_SCHEMA

KINDS = ("score", "query", "write")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
YEAR = dt.timedelta(days=365)
WRITE_RETRY = RetryPolicy(attempts=6, base_s=0.2, max_s=2.0, deadline_s=20.0)


class LoadSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_s: float = Field(50.0, gt=0, le=5_000, description="Requests per second, all clients together.")
    concurrency: int = Field(8, ge=1, le=256, description="Clients sending at once.")
    duration_s: float = Field(10.0, gt=0, le=3_600, description="How long the load lasts.")
    mix: dict[str, float] = Field(default_factory=lambda: {"score": 1.0},
                                  description="Relative share of each kind: score, query, write.")

    @field_validator("mix")
    @classmethod
    def _known(cls, mix: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(mix) - set(KINDS))
        if unknown or not mix or any(v < 0 for v in mix.values()) or sum(mix.values()) <= 0:
            raise ValueError(f"shares of {', '.join(KINDS)} (non-negative, not all zero); got {mix}")
        return mix


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int  # 0: no answer (connection refused, timeout)
    sent_s: float  # since the load started
    seconds: float
    retry_after: str | None = None


@dataclass
class Ledger:
    """Writes the API acknowledged (2xx) and those it never did, by transaction id."""

    acked: list[str] = field(default_factory=list)
    unacked: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # the acknowledged records, as sent
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, ids: list[str], acknowledged: bool, records: list[dict[str, Any]] | None = None) -> None:
        with self._lock:
            (self.acked if acknowledged else self.unacked).extend(ids)
            if acknowledged:
                self.records.extend(records or [])


@dataclass
class Requests:
    """What the clients send: whole records (a year after the dataset's latest) to score or store, and ids to read.

    Each client gets the records of its own customers, in time order, so no customer's transactions are sent out
    of order by two clients at once; customers are renamed per run (and per pass over a client's records), so a
    run starts every customer afresh whatever earlier runs sent.
    """

    groups: list[list[dict[str, Any]]]  # per client
    query_ids: list[str]
    run_id: str
    _sent: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sent = [0] * len(self.groups)

    @classmethod
    def from_dataset(cls, data: Path, run_id: str, clients: int, rows: int = 4_000) -> Requests:
        txns = read_dataset(data, verify=False)["transactions"].sort_by([("timestamp", "ascending")])
        later = replayed(txns.slice(max(0, txns.num_rows - rows)), "", shift=YEAR)
        groups: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
        for record in _json_rows(later.select(TRANSACTION_SCHEMA.names)):
            groups[zlib.crc32(record["customer_id"].encode()) % clients].append(record)
        return cls([g for g in groups if g] or [[]], txns.column("transaction_id").to_pylist()[:rows], run_id)

    def body(self, kind: str, client: int) -> tuple[str, str, Any, list[str]]:
        """(method, path, JSON body, transaction ids written) of client's next request of this kind."""
        mine = client % len(self.groups)
        group, n = self.groups[mine], self._sent[mine]
        self._sent[mine] += 1
        if kind == "query":
            return "GET", f"/v1/transactions/{self.query_ids[n % len(self.query_ids)]}", None, []
        passes, i = divmod(n, len(group))
        record = {**group[i], "transaction_id": f"CH{self.run_id}-{client}-{n}",
                  "customer_id": f"CH{self.run_id}p{passes}-{group[i]['customer_id']}"}
        if kind == "score":
            return "POST", "/v1/score", {k: record[k] for k in INPUT_COLUMNS}, []
        return "POST", "/v1/transactions", {"transactions": [record]}, [record["transaction_id"]]


class Load:
    def __init__(self, base: str, keys: dict[str, str], spec: LoadSpec, source: Requests,
                 ledger: Ledger | None = None) -> None:
        host = urlsplit(base).hostname or ""
        if host not in LOCAL_HOSTS:
            raise ParameterError([Problem("url", base, "an API on 127.0.0.1 or localhost (chaos load stays local)")])
        self.base, self.keys, self.spec, self.source = base.rstrip("/"), keys, spec, source
        self.ledger = ledger or Ledger()
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        total = sum(spec.mix.values())
        self._kinds = [k for k in KINDS for _ in range(round(20 * spec.mix.get(k, 0) / total))] or ["score"]

    def run(self, stop: threading.Event | None = None) -> list[Answer]:
        """Send for duration_s (or until stop is set); every answer, in the order they came."""
        stop = stop or threading.Event()
        started = time.monotonic()
        interval = 1.0 / self.spec.rate_per_s
        ticket = itertools.count()
        tickets = threading.Lock()

        def client(index: int) -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    with tickets:
                        n = next(ticket)
                    due = started + n * interval
                    if due - started >= self.spec.duration_s:
                        return
                    if (wait := due - time.monotonic()) > 0 and stop.wait(wait):
                        return
                    self._send(session, self._kinds[n % len(self._kinds)], index, started)

        with ThreadPoolExecutor(self.spec.concurrency) as pool:
            for future in [pool.submit(client, i) for i in range(self.spec.concurrency)]:
                future.result()
        return sorted(self.answers, key=lambda a: a.sent_s)

    def _send(self, session: requests.Session, kind: str, client: int, started: float) -> None:
        method, path, body, ids = self.source.body(kind, client)
        headers = {"X-API-Key": self.keys[kind]} | ({"Idempotency-Key": f"chaos-{ids[0]}"} if ids else {})

        def once() -> Answer:
            sent = time.monotonic()
            try:
                r = session.request(method, self.base + path, json=body, headers=headers, timeout=30)
                answer = Answer(kind, r.status_code, sent - started, time.monotonic() - sent,
                                r.headers.get("Retry-After"))
            except requests.RequestException:
                answer = Answer(kind, 0, sent - started, time.monotonic() - sent)
            with self._lock:
                self.answers.append(answer)
            if ids and not 200 <= answer.status < 300 and answer.status not in (409, 422):
                raise _Unacknowledged(answer)
            return answer

        if not ids:
            once()
            return
        try:
            answer = WRITE_RETRY.run_sync(once, retry_on=(_Unacknowledged,))
        except _Unacknowledged:
            self.ledger.note(ids, False)
            return
        self.ledger.note(ids, 200 <= answer.status < 300, body["transactions"])


class _Unacknowledged(Exception):
    """A write that got no 2xx and may be tried again with its key."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"{answer.kind}: {answer.status}")
        self.answer = answer


def _json_rows(table: pa.Table) -> list[dict[str, Any]]:
    def plain(v: Any) -> Any:
        if isinstance(v, dt.datetime | dt.date):
            return v.isoformat()
        return str(v) if isinstance(v, Decimal) else v

    return [{k: plain(v) for k, v in r.items()} for r in table.to_pylist()]
