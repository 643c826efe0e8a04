"""Structured logs: one JSON object per line, secret fields masked whatever logs them."""

from __future__ import annotations

import json

import pytest

from synfinance.observability.logs import MASK, configure, get_logger


def test_json_lines_with_secrets_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure("INFO", "json")
    get_logger("t").info("called", key_name="ops", api_key="k-123-secret", url="postgresql://u:pw@h/db", rows=3)
    get_logger("t").debug("below the level")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["event"] == "called" and event["key_name"] == "ops" and event["rows"] == 3
    assert event["api_key"] == MASK and event["url"] == MASK and event["level"] == "info"
    assert "k-123-secret" not in lines[0] and "pw@" not in lines[0]
