"""`synfinance shell`: every command at one prompt (prompt_toolkit), with completion, history and highlighting."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from synfinance.cli.conventions import DATA_ON_STDOUT, Command

HISTORY_ENV = "SYNFINANCE_HISTORY"  # where the shell keeps its history [default: ~/.synfinance_history]
LEAVE = ("exit", "quit")


def history_path() -> Path:
    return Path(os.environ.get(HISTORY_ENV) or Path.home() / ".synfinance_history")


def words_after(root: click.Group, words: list[str]) -> list[str]:
    """What may follow the words so far: a group's commands, or the options of the command they reach."""
    command: click.Command = root
    for word in words:
        if isinstance(command, click.Group) and word in command.commands:
            command = command.commands[word]
    if isinstance(command, click.Group):
        return sorted(command.commands)
    options = sorted(opt for p in command.params if isinstance(p, click.Option) for opt in p.opts + p.secondary_opts)
    return [*options, "--help"]


def completer(root: click.Group) -> Any:
    from prompt_toolkit.completion import Completer, Completion

    class Commands(Completer):
        """Command and subcommand names, then the options of the command reached; `help` and `exit` too."""

        def get_completions(self, document: Any, complete_event: Any) -> Iterator[Completion]:
            text = document.text_before_cursor
            words = text.split()
            current = "" if not words or text.endswith(" ") else words.pop()
            if not words:
                candidates: Iterable[str] = [*sorted(root.commands), "help", *LEAVE]
            else:
                candidates = words_after(root, words[1:] if words[0] == "help" else words)
            for candidate in candidates:
                if candidate.startswith(current):
                    yield Completion(candidate, start_position=-len(current))

    return Commands()


@click.command("shell", cls=Command, output=DATA_ON_STDOUT,
               example="synfinance shell    # then: generate transactions --count 1000 --out ds")
def shell() -> None:
    """An interactive prompt for every command: Tab completes commands and options, ↑ and Ctrl-R search the
    history (kept across sessions in ~/.synfinance_history, or $SYNFINANCE_HISTORY), `help [COMMAND]` shows help,
    a failing command prints its error and the prompt stays; exit, quit or Ctrl-D leave."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.lexers import PygmentsLexer
    from pygments.lexers.shell import BashLexer

    from synfinance.cli import main

    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(history_path())), completer=completer(main), lexer=PygmentsLexer(BashLexer),
        auto_suggest=AutoSuggestFromHistory(), complete_while_typing=False)
    click.echo("SynFinance shell: Tab completes, `help` lists the commands, `exit` or Ctrl-D leaves.")
    while True:
        try:
            line = session.prompt("synfinance> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not run_line(main, line):
            break


def run_line(main: Any, line: str) -> bool:
    """Run one line of the shell as `synfinance <line>`; False when it asks to leave. Errors are printed, never
    raised: the shell survives them."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        return True
    if not words:
        return True
    if words[0] in LEAVE:
        return False
    if words[0] == "help":
        words = [*words[1:], "--help"]
    if words[0] == "shell":
        click.echo("error: already in the shell", err=True)
        return True
    try:
        main.main(words, prog_name="synfinance")
    except SystemExit as exc:
        if exc.code not in (0, None):
            click.echo(f"(exit {exc.code})", err=True)
    return True
