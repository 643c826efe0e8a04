"""`synfinance docs ...`: regenerate or check the generated reference pages."""

from __future__ import annotations

import click

from synfinance import docs as pages
from synfinance.cli.conventions import Section, result
from synfinance.cli.errors import EXIT_FAILURE, fail
from synfinance.cli.reference import render_cli

MORE = {"docs/cli.md": render_cli}  # pages of this layer (the library's are in synfinance.docs.PAGES)


@click.group(cls=Section)
def docs() -> None:
    """Generated documentation."""


@docs.command("build", example="synfinance docs build --check")
@click.option("--check", is_flag=True, help="Only report pages that are out of date (exit 1 if any).")
def build(check: bool) -> None:
    """Write docs/*.md pages that are generated from the code."""
    if check:
        stale = pages.stale_pages(more=MORE)
        if stale:
            fail([f"{name} is stale; run `synfinance docs build`" for name in stale], EXIT_FAILURE)
        result({"stale": []}, "generated docs are current")
        return
    written = [str(path) for path in pages.build(more=MORE)]
    result({"written": written}, "\n".join(f"wrote {path}" for path in written))
