"""Structured logs: one JSON object per line, secret fields masked whatever logs them."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from synfinance.observability.logs import LOG_FIELDS, MASK, configure, get_logger


def test_json_lines_with_secrets_masked(capfd: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "json")
    get_logger("t").info("called", key_name="ops", api_key="k-123-secret", url="postgresql://u:pw@h/db", rows=3)
    get_logger("t").debug("below the level")
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["event"] == "called" and event["key_name"] == "ops" and event["rows"] == 3
    assert event["api_key"] == MASK and event["url"] == MASK and event["level"] == "info"
    assert "k-123-secret" not in lines[0] and "pw@" not in lines[0]


def test_stdlib_records_become_the_same_json_with_the_trace_and_request_context(capfd: pytest.CaptureFixture[str],
                                                                               tmp_path: Path) -> None:
    import logging

    import structlog

    from synfinance.observability import tracing
    from synfinance.settings.models import TracingConfig

    configure("INFO", "json", component="query")
    tracing.setup(TracingConfig(exporter="file", file_dir=str(tmp_path)), "query")
    try:
        with structlog.contextvars.bound_contextvars(request_id="r-1"), tracing.span("db.call") as span:
            logging.getLogger("asyncpg.pool").warning("connection lost: %s", "reset by peer")
            trace_id = f"{span.get_span_context().trace_id:032x}"
    finally:
        tracing.setup(TracingConfig(), "query")
    line = capfd.readouterr().err.splitlines()[-1]
    record = json.loads(line)
    assert record["logger"] == "asyncpg.pool" and record["level"] == "warning" and record["component"] == "query"
    assert record["request_id"] == "r-1" and record["trace_id"] == trace_id
    assert set(record) <= set(LOG_FIELDS)


def test_with_tracing_off_a_span_is_an_invalid_one_that_takes_every_call_and_binds_no_trace(
        capfd: pytest.CaptureFixture[str]) -> None:
    from synfinance.observability import tracing
    from synfinance.settings.models import TracingConfig

    configure("INFO", "json", component="query")
    tracing.setup(TracingConfig(), "query")  # exporter none
    with tracing.span("feature_store.one", tracing.SERVER, rows=1) as span:
        assert not span.get_span_context().is_valid and tracing.trace_id() is None and tracing.carrier() is None
        span.update_name("POST /v1/score")  # what the edge middleware does with its span
        span.set_attributes({"http.status_code": 200})
        get_logger("t").info("inside")
    record = json.loads(capfd.readouterr().err.splitlines()[-1])
    assert record["event"] == "inside" and "trace_id" not in record and "span_id" not in record


def _logged_by_a_child(stderr: int) -> None:
    """A process configured for console lines logs one event to the given stderr."""
    code = ("from synfinance.observability.logs import configure, get_logger\n"
            "configure('INFO', 'console')\nget_logger('t').info('called', rows=3)\n")
    subprocess.run([sys.executable, "-c", code], stderr=stderr, check=True, timeout=60)


def test_console_lines_only_on_a_terminal_and_json_in_a_file(tmp_path: Path) -> None:
    # a file (a Ray worker's log): JSON, whatever the format asked for
    with open(tmp_path / "worker.err", "wb") as file:
        _logged_by_a_child(file.fileno())
    event = json.loads((tmp_path / "worker.err").read_text())
    assert event["event"] == "called" and event["rows"] == 3
    # a terminal: a console line
    leader, follower = pty.openpty()
    try:
        _logged_by_a_child(follower)
        os.close(follower)
        seen = b""
        while b"\n" not in seen:
            seen += os.read(leader, 4096)
    finally:
        os.close(leader)
    line = seen.decode().strip()
    assert "called" in line and "\x1b[" in line and not line.startswith("{")  # coloured, not JSON
