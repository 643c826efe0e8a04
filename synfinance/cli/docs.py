"""`synfinance docs ...`: regenerate or check the generated reference pages."""

from __future__ import annotations

import click

from synfinance import docs as pages
from synfinance.cli.errors import EXIT_FAILURE, fail


@click.group()
def docs() -> None:
    """Generated documentation."""


@docs.command("build")
@click.option("--check", is_flag=True, help="Only report pages that are out of date (exit 1 if any).")
def build(check: bool) -> None:
    """Write docs/*.md pages that are generated from the code."""
    if check:
        stale = pages.stale_pages()
        if stale:
            fail([f"{name} is stale; run `synfinance docs build`" for name in stale], EXIT_FAILURE)
        click.echo("generated docs are current")
        return
    for path in pages.build():
        click.echo(f"wrote {path}")
