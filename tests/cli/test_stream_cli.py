"""`synfinance stream` end to end: JSON Lines on stdout, the report on stderr, bad input in one line each."""

from __future__ import annotations

import json

from click.testing import CliRunner

from synfinance.cli import main


def test_stream_writes_jsonl_and_reports() -> None:
    result = CliRunner().invoke(main, ["stream", "--rate", "400", "--duration", "0.5", "--seed", "3"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert 150 <= len(rows) <= 200
    assert f"{len(rows):,}" in result.stderr and "achieved" in result.stderr


def test_bad_input_is_one_line_per_problem() -> None:
    result = CliRunner().invoke(main, ["stream", "--rate", "-1", "--duration", "1", "--sink", "http"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["error: --url: expected a URL to POST to when --sink http, got None"]
    result = CliRunner().invoke(main, ["stream", "--rate", "-1", "--duration", "0"])
    assert result.stderr.count("error:") == 2 and "--rate" in result.stderr and "--duration" in result.stderr
