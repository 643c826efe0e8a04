"""The `synfinance` command: one entry point for every task."""

from __future__ import annotations

import click

import synfinance
from synfinance.cli.api import api
from synfinance.cli.bench import bench
from synfinance.cli.chaos import chaos
from synfinance.cli.config import config
from synfinance.cli.db import db
from synfinance.cli.debug import debug
from synfinance.cli.docs import docs
from synfinance.cli.errors import Group
from synfinance.cli.generate import generate
from synfinance.cli.health import health
from synfinance.cli.model import model
from synfinance.cli.monitor import monitor
from synfinance.cli.patterns import patterns
from synfinance.cli.quality import quality
from synfinance.cli.stream import stream
from synfinance.observability import logs


@click.group(cls=Group)
@click.version_option(synfinance.__version__, prog_name="synfinance")
def main() -> None:
    """SynFinance: synthetic Indian retail-banking transactions with labelled fraud."""
    # the library's log events (retries, refusals) go to stderr, warnings and worse: stdout is the commands' own
    logs.configure("WARNING", "console")


main.add_command(generate)
main.add_command(bench)
main.add_command(docs)
main.add_command(config)
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
