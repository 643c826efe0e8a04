"""What every `synfinance` command holds to: `--json`, `--quiet`, a worked example in `--help`.

A group made with `@click.group(cls=Section)` gives its commands the `Command` class: each gets `--json`
(one JSON document on stdout, nothing else there) and `--quiet` unless it declares its own, and an
`example=` shown at the end of its help. A command prints its result through `result(doc, human)`:
the document under `--json`, the human form otherwise, nothing under `--quiet`.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TextIO, cast

import click

DATA_ON_STDOUT = "data"  # a command whose stdout is its data (a stream, an export): no --json of its own


def _remember(key: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    def store(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        ctx.meta[f"synfinance.{key}"] = value

    return store


class Command(click.Command):
    """A command with the common flags and a worked example (or several) at the end of its help."""

    def __init__(self, *args: Any, example: str | Sequence[str] = (), output: str = "result", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = (example,) if isinstance(example, str) else tuple(example)
        self.output = output
        declared = {opt for p in self.params for opt in getattr(p, "opts", [])}
        if output != DATA_ON_STDOUT and "--json" not in declared:
            self.params.append(click.Option(["--json", "json_"], is_flag=True, expose_value=False,
                                            callback=_remember("json"),
                                            help="One JSON document on stdout, nothing else there."))
        if "--quiet" not in declared:
            self.params.append(click.Option(["--quiet", "quiet_"], is_flag=True, expose_value=False,
                                            callback=_remember("quiet"), help="No progress or summary."))

    def invoke(self, ctx: click.Context) -> Any:
        """Under --json stdout holds the document alone: what other threads print there while the command runs
        (Ray's forwarded raylet warnings, a library's background thread) goes to stderr."""
        if not (ctx.meta.get("synfinance.json") or ctx.params.get("as_json")):
            return super().invoke(ctx)
        with contextlib.redirect_stdout(cast(TextIO, OwnThreadOnly(sys.stdout, sys.stderr))):
            return super().invoke(ctx)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        if self.examples:
            with formatter.section("Example"):
                for line in self.examples:
                    for part in shell_lines(line, formatter.width - formatter.current_indent):
                        formatter.write(" " * formatter.current_indent + part + "\n")


class OwnThreadOnly:
    """A stdout that takes the writes of the thread that made it and sends every other thread's to `others`; the
    rest (encoding, buffer, isatty, fileno) is the real stdout's."""

    def __init__(self, stdout: TextIO, others: TextIO) -> None:
        self.stdout, self.others, self.owner = stdout, others, threading.get_ident()

    def write(self, text: str) -> int:
        return (self.stdout if threading.get_ident() == self.owner else self.others).write(text)

    def flush(self) -> None:
        self.stdout.flush()
        self.others.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stdout, name)


def shell_lines(command: str, width: int) -> list[str]:
    """A command line folded for the terminal the way a shell reads it: words, then ` \\` and an indented rest."""
    lines, current = [], ""
    for word in command.split(" "):
        if current and len(current) + 1 + len(word) > width - 2:
            lines.append(current + " \\")
            current = "    " + word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current]


class Section(click.Group):
    """A command group whose commands and subgroups follow the conventions."""

    command_class = Command
    group_class = type  # subgroups are Sections too


def wants_json() -> bool:
    """--json given (the common flag, or a command's own `as_json` parameter)."""
    ctx = click.get_current_context()
    return bool(ctx.meta.get("synfinance.json") or ctx.params.get("as_json"))


def quiet() -> bool:
    """--quiet given (the common flag, or a command's own `quiet` parameter)."""
    ctx = click.get_current_context()
    return bool(ctx.meta.get("synfinance.quiet") or ctx.params.get("quiet"))


def as_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, default=str)


def result(doc: Any, human: Callable[[], None] | str | None = None) -> None:
    """Print a command's result: `doc` as JSON under --json, else `human` (text or a printer) unless --quiet."""
    if wants_json():
        click.echo(as_json(doc))
    elif quiet() or human is None:
        return
    elif isinstance(human, str):
        click.echo(human)
    else:
        human()


def working(what: str) -> Any:
    """A spinner with the elapsed time on stderr while work of unknown length runs (none under --quiet)."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    console.quiet = quiet() or not console.is_terminal  # a spinner in a log or a pipe is noise (a blank line)
    return Progress(SpinnerColumn(), TextColumn(f"[bold]{what}"), TimeElapsedColumn(), console=console,
                    transient=True)
