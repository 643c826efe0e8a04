"""The paced stream: schedule on a virtual clock, the requested rate on the real one, Ctrl-C, sinks."""

from __future__ import annotations

import asyncio
import http.server
import io
import json
import threading
from collections.abc import Iterator

import pyarrow as pa
import pytest
from pg_schemas import count_rows

from synfinance.errors import ParameterError
from synfinance.output.dataset import FileEntry
from synfinance.sinks import HttpSink, JsonlSink, PostgresSink, ShardOutput
from synfinance.store.connect import Database
from synfinance.stream.pacer import Clock, run, source, stream


class Collected:
    """A sink that keeps what it is given (the Sink protocol; a plain user sink looks like this)."""

    kind, travels = "memory", True

    def __init__(self, stop_after: int | None = None) -> None:
        self.batches: list[pa.Table] = []
        self.stop_after = stop_after

    def open(self, plan: object) -> list[FileEntry]:
        return []

    def write(self, output: ShardOutput) -> list[FileEntry]:
        if self.stop_after is not None and len(self.batches) >= self.stop_after:
            raise KeyboardInterrupt
        self.batches.append(output.transactions)
        return []

    def close(self, entries: list[FileEntry]) -> None:
        return None


class VirtualClock:
    """Time that moves only when the pacer sleeps: the schedule is checked exactly, whatever the machine."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_rows_leave_in_time_order_on_schedule() -> None:
    clock = VirtualClock()
    sink = Collected()
    report = stream(rate=500, duration_s=4, sink=sink, seed=3, clock=Clock(clock.now, clock.sleep))
    rows = pa.concat_tables(sink.batches)
    assert report.rows == rows.num_rows == 2000
    ts = rows["timestamp"].to_pylist()
    assert ts == sorted(ts)  # event-time order across the whole stream
    assert report.lag_max_ms < 10.5  # never later than one 10 ms tick
    assert report.seconds == pytest.approx(4, abs=0.01)


def test_speedup_paces_by_the_rows_own_timestamps() -> None:
    _, table, due = source(rows=5000, seed=3, speedup=86_400.0, duration_s=1.0)
    ts = table["timestamp"].cast(pa.int64()).to_numpy() / 1e6
    assert due[0] == 0 and due[-1] <= 1.0  # a day of data in one second
    assert due == pytest.approx((ts - ts[0]) / 86_400.0)


def test_the_requested_rate_is_achieved_within_ten_percent() -> None:
    # the acceptance criterion; 1,000/s for 1.5 s is far below what any machine here sustains
    report = stream(rate=1000, duration_s=1.5, sink=Collected(), seed=3)
    assert report.achieved_rate == pytest.approx(1000, rel=0.10)


def test_ctrl_c_stops_cleanly_and_keeps_what_was_emitted() -> None:
    sink = Collected(stop_after=3)
    clock = VirtualClock()
    report = stream(rate=100, duration_s=10, sink=sink, seed=3, clock=Clock(clock.now, clock.sleep))
    assert report.interrupted
    out = io.BytesIO()
    jsonl = JsonlSink(out)
    for k, batch in enumerate(sink.batches):
        jsonl.write(ShardOutput(k, batch))
    lines = out.getvalue().splitlines()
    assert 0 < len(lines) == report.rows < 1000
    assert all(json.loads(line)["transaction_id"].startswith("TXN-") for line in lines)


@pytest.mark.parametrize(("kwargs", "field"), [
    pytest.param({"rate": 0, "duration_s": 1}, "rate", id="zero-rate"),
    pytest.param({"rate": 10, "duration_s": 0}, "duration", id="zero-duration"),
    pytest.param({"rate": 1_000_000, "duration_s": 3600}, "duration", id="too-many-rows"),
    pytest.param({"rate": 10, "duration_s": 1, "speedup": -2.0}, "speedup", id="negative-speedup"),
])
def test_bad_parameters_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ParameterError) as error:
        stream(sink=Collected(), **kwargs)  # type: ignore[arg-type]
    assert error.value.problems[0].field == field


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet (the default logs every request to stderr)."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ingest", received
    server.shutdown()
    server.server_close()


def test_http_sink_posts_every_row(collector: tuple[str, list[bytes]]) -> None:
    url, received = collector
    _, table, due = source(rows=300, seed=3, speedup=None, duration_s=0.3)
    report = run(table, due, HttpSink(url), duration_s=5, requested_rate=1000)
    lines = [line for body in received for line in body.splitlines()]
    assert len(lines) == report.rows == 300
    assert [json.loads(x)["transaction_id"] for x in lines] == table["transaction_id"].to_pylist()


@pytest.mark.postgres
def test_postgres_sink_stores_every_row(db: Database) -> None:
    plan, table, due = source(rows=400, seed=3, speedup=None, duration_s=0.2)
    sink = PostgresSink(db)
    try:
        sink.open(plan)
        report = run(table, due, sink, duration_s=5, requested_rate=2000)
    finally:
        sink.close([])

    assert report.rows == asyncio.run(count_rows(db, "transactions")) == 400
