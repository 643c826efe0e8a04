"""`--json`: stdout holds the command's JSON document and nothing else: what other threads print while it runs (Ray's
forwarded raylet warnings come from a thread of the driver) goes to stderr."""

from __future__ import annotations

import json
import threading

from click.testing import CliRunner

from synfinance.cli.conventions import Command, result


def noisy() -> None:
    """Another thread prints to stdout (as Ray's forwarded log lines do) while the command runs; then it answers."""
    thread = threading.Thread(target=print, args=("(raylet) WARNING: 8 PYTHON worker processes have been started",))
    thread.start()
    thread.join()
    result({"answer": 42}, "the answer is 42")


COMMAND = Command("noisy", callback=noisy)


def test_under_json_stdout_is_the_document_alone_and_the_rest_goes_to_stderr() -> None:
    run = CliRunner().invoke(COMMAND, ["--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout) == {"answer": 42}
    assert "(raylet) WARNING" in run.stderr


def test_without_json_stdout_is_left_alone() -> None:
    run = CliRunner().invoke(COMMAND, [])
    assert run.exit_code == 0
    assert run.stdout.splitlines() == ["(raylet) WARNING: 8 PYTHON worker processes have been started",
                                       "the answer is 42"]
