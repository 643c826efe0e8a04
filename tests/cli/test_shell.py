"""`synfinance shell` driven through a pseudo-terminal, as a person at a keyboard would: Tab completion, a command
run, errors that leave the prompt up, and history that survives into the next session."""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from examples import example

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[>=()][0-9A-Za-z]?|\r")
PROMPT = "synfinance>"


class Terminal:
    """A child process on a pty: send keys, wait for text (escape sequences stripped) to appear."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        import pty

        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                        start_new_session=True)
        os.close(slave)
        self.raw = ""
        self.seen = 0  # how much of the screen text an earlier expect consumed

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def text(self) -> str:
        return ANSI.sub("", self.raw)

    def expect(self, wanted: str, timeout_s: float = 60) -> str:
        """Wait until `wanted` appears after what earlier expects consumed; the text up to it."""
        deadline = time.monotonic() + timeout_s
        while True:
            at = self.text().find(wanted, self.seen)
            if at >= 0:
                before, self.seen = self.text()[self.seen:at], at + len(wanted)
                return before
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                raise AssertionError(f"{wanted!r} never appeared; the screen so far:\n{self.text()[-3000:]}")
            if select.select([self.master], [], [], min(left, 1.0))[0]:
                with contextlib.suppress(OSError):  # the child closed the pty
                    self.raw += os.read(self.master, 65536).decode(errors="replace")

    def close(self) -> int:
        try:
            return self.process.wait(timeout=30)
        finally:
            os.close(self.master)


@pytest.fixture
def start(tmp_path: Path):  # type: ignore[no-untyped-def]
    cli = shutil.which("synfinance", path=str(Path(sys.executable).parent))
    assert cli is not None
    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "100", "LINES": "40",
           "SYNFINANCE_HISTORY": str(tmp_path / "history")}
    opened: list[Terminal] = []

    def open_shell() -> Terminal:
        terminal = Terminal([cli, *example("shell")], env, tmp_path)
        opened.append(terminal)
        terminal.expect(PROMPT)
        return terminal

    yield open_shell
    for terminal in opened:
        if terminal.process.poll() is None:
            terminal.process.kill()
            terminal.close()


def test_completion_a_command_errors_and_history_across_sessions(start, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shell = start()
    # Tab completes the group, then the command, then an option of that command
    shell.send("gen\t")
    shell.expect("generate")
    shell.send(" cust\t")
    shell.expect("customers")
    shell.send(" --cou\t")
    shell.expect("--count")
    assert "\x1b[" in shell.raw  # the line is highlighted as it is typed
    shell.send(" 1000 --out people.parquet\r")
    shell.expect("wrote 1,000 customers to people.parquet")
    shell.expect(PROMPT)
    assert (tmp_path / "people.parquet").is_file()
    # a failing command says why in one line, and the prompt comes back
    shell.send("generate customers --count -5\r")
    shell.expect("error: --count: expected")
    shell.expect(PROMPT)
    shell.send("config validate --env nowhere\r")
    shell.expect("error: Invalid value for '--env'")
    shell.expect("(exit 2)")
    shell.expect(PROMPT)
    shell.send("help db\r")
    shell.expect("PostgreSQL: migrate, load datasets")
    shell.expect(PROMPT)
    shell.send("exit\r")
    assert shell.close() == 0

    # the next session has the earlier lines: Up recalls the last (exit), Up again the one before, which runs again
    again = start()
    again.send("\x1b[A")
    again.expect("exit")
    again.send("\x1b[A")
    again.expect("help db")
    again.send("\r")
    again.expect("PostgreSQL: migrate, load datasets")
    again.expect(PROMPT)
    again.send("quit\r")
    assert again.close() == 0
    history = (tmp_path / "history").read_text()
    assert "+generate customers --count 1000 --out people.parquet" in history and "+help db" in history


def test_bash_completion_as_the_reference_documents_it() -> None:
    from click.testing import CliRunner

    from synfinance.cli import main

    def complete(words: str) -> list[str]:
        env = {"_SYNFINANCE_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        done = CliRunner().invoke(main, [], prog_name="synfinance", env=env)
        assert done.exit_code == 0, done.output
        return [line.split(",", 1)[1] for line in done.stdout.splitlines()]

    assert complete("synfinance gen") == ["generate"]
    assert complete("synfinance generate transactions --fe") == ["--features"]
    assert "cache" in complete("synfinance c") and "config" in complete("synfinance c")
    source = CliRunner().invoke(main, [], prog_name="synfinance", env={"_SYNFINANCE_COMPLETE": "bash_source"})
    assert "_synfinance_completion()" in source.stdout
