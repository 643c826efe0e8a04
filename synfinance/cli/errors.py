"""The CLI's error contract: bad input exits 2 with one line per problem, no traceback."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, NoReturn

import click

from synfinance.cli.conventions import Section
from synfinance.errors import ConfigError, ModelError, OutputError, SchemaError, SynFinanceError, ValidationError

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def option_name(field: str) -> str:
    """The command-line spelling of a parameter name: shard_size -> --shard-size."""
    return field if field.startswith("-") or "." in field else "--" + field.replace("_", "-")


def fail(lines: list[str], code: int) -> NoReturn:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(code)


class Flags:
    """What the top-level options of the command line being run asked for (reset by each run: the shell runs many,
    tests run many in one process)."""

    debug = False


def debugging() -> bool:
    """`synfinance --debug ...` (or SYNFINANCE_DEBUG=1): errors keep their traceback."""
    return Flags.debug or os.environ.get("SYNFINANCE_DEBUG", "").lower() in ("1", "true", "yes")


class Group(Section):
    """The top-level group: errors are one clear line each, never a traceback unless --debug."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line; every failure becomes `error: ...` lines on stderr and its exit code."""
        kwargs["standalone_mode"] = False
        Flags.debug = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            fail([exc.format_message()], EXIT_BAD_INPUT)
        except click.ClickException as exc:
            fail([exc.format_message()], exc.exit_code)
        except click.Abort:
            fail(["aborted"], 130)
        except ConfigError as exc:
            fail(exc.lines(), EXIT_BAD_INPUT)
        except ValidationError as exc:
            lines = [f"{option_name(p.field)}: expected {p.expected}, got {p.got!r}" for p in exc.problems]
            fail(lines, EXIT_BAD_INPUT)
        except (OutputError, SchemaError, ModelError) as exc:
            fail([str(exc)], EXIT_BAD_INPUT)
        except SynFinanceError as exc:
            if debugging():
                traceback.print_exc()
            fail([f"{type(exc).__name__}: {exc}"], EXIT_FAILURE)
        except Exception as exc:  # anything unforeseen: one line, the traceback only when debugging
            if debugging():
                traceback.print_exc()
            hint = "" if debugging() else " (run with --debug for the traceback)"
            fail([f"{type(exc).__name__}: {exc}{hint}"], EXIT_FAILURE)
        sys.exit(result if isinstance(result, int) else 0)
