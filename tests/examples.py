"""The worked example at the end of each command's --help, read from the help as a user sees it."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import click
from click.testing import CliRunner

from synfinance.cli import main


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every leaf command with its path, e.g. (("generate", "transactions"), <Command>)."""
    for name, sub in sorted(group.commands.items()):
        if isinstance(sub, click.Group):
            yield from commands(sub, (*path, name))
        else:
            yield (*path, name), sub


def help_text(*path: str) -> str:
    done = CliRunner().invoke(main, [*path, "--help"], terminal_width=80)
    assert done.exit_code == 0, done.output
    return done.stdout


def example_lines(*path: str) -> list[str]:
    """The example command lines of `synfinance <path> --help` (a trailing `\\` continues a line; `#` comments)."""
    lines = help_text(*path).splitlines()
    if "Example:" not in lines:
        return []
    found, current = [], ""
    for line in lines[lines.index("Example:") + 1:]:
        if not line.startswith("  "):
            break
        current += line.strip().removesuffix("\\").rstrip() + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            found.append(current.split("  #")[0].strip())
            current = ""
    return found


def example(*path: str) -> list[str]:
    """The first example's arguments after `synfinance`, e.g. example("db", "load") -> ["db", "load", "--in", ...]."""
    words = shlex.split(example_lines(*path)[0], comments=True)
    assert words[0] == "synfinance", words
    return words[1:]
