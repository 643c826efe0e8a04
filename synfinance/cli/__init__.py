"""The `synfinance` command: one entry point for every task."""

from __future__ import annotations

import click

import synfinance
from synfinance.cli.api import api
from synfinance.cli.bench import bench
from synfinance.cli.cache import cache
from synfinance.cli.calibration import calibration
from synfinance.cli.champion import guard_cmd, promote_cmd, rollback_cmd, shadow_cmd
from synfinance.cli.chaos import chaos
from synfinance.cli.config import config
from synfinance.cli.db import db
from synfinance.cli.debug import debug
from synfinance.cli.docs import docs
from synfinance.cli.errors import Flags, Group
from synfinance.cli.generate import generate
from synfinance.cli.health import health
from synfinance.cli.metrics import metrics
from synfinance.cli.model import model
from synfinance.cli.monitor import monitor
from synfinance.cli.patterns import patterns
from synfinance.cli.quality import quality
from synfinance.cli.shell import shell
from synfinance.cli.stream import stream
from synfinance.observability import logs


def _debug(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    Flags.debug = value


@click.group(cls=Group, context_settings={"max_content_width": 80, "help_option_names": ["-h", "--help"]})
@click.version_option(synfinance.__version__, "-V", "--version", prog_name="synfinance")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug,
              help="Show the traceback of an error (also SYNFINANCE_DEBUG=1).")
def main() -> None:
    """SynFinance: synthetic Indian retail-banking transactions with labelled fraud.

    Every command takes --help (with a worked example), --json (one JSON document on stdout) where it
    prints a result, and --quiet. Exit codes: 0 ok, 1 failure, 2 usage error.
    Shell completion: eval "$(_SYNFINANCE_COMPLETE=bash_source synfinance)" (zsh_source, fish_source).
    """
    # the library's log events (retries, refusals) go to stderr, warnings and worse: stdout is the commands' own
    logs.configure("WARNING", "console")


main.add_command(generate)
main.add_command(bench)
main.add_command(docs)
main.add_command(config)
for command in (shadow_cmd, promote_cmd, rollback_cmd, guard_cmd):
    model.add_command(command)
main.add_command(model)
main.add_command(db)
main.add_command(stream)
main.add_command(api)
main.add_command(monitor)
main.add_command(debug)
main.add_command(health)
main.add_command(chaos)
main.add_command(quality)
main.add_command(patterns)
main.add_command(calibration)
main.add_command(cache)
main.add_command(metrics)
main.add_command(shell)
