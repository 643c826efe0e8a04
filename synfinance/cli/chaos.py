"""`synfinance chaos list|run`: fault scenarios against a local stack, with a verdict that counts every write."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from synfinance.cli.conventions import Section, quiet, result
from synfinance.settings import load_settings


@click.group(cls=Section)
def chaos() -> None:
    """Chaos scenarios (chaos/scenarios/*.yaml): faults under load, and whether anything was lost."""


@chaos.command("list", example="synfinance chaos list")
def list_cmd() -> None:
    """The scenarios there are, with their titles."""
    from chaos.scenario import load_scenario, names

    titles = {name: load_scenario(name).title for name in names()}
    result({"scenarios": titles}, "\n".join(f"{name:20} {title}" for name, title in titles.items()))


@chaos.command("run", example="synfinance chaos run db-down-serving")
@click.argument("scenario")
@click.option("--json", "as_json", is_flag=True, help="The verdict as one JSON document on stdout.")
@click.option("--work", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Scratch directory [default: a temporary one, removed after].")
def run_cmd(scenario: str, as_json: bool, work: Path | None) -> None:
    """Run SCENARIO (a name from `chaos list`, or a YAML file) against a local stack built for it: a small dataset,
    a model, PostgreSQL (database.url, in a schema of its own, dropped after) behind a cuttable proxy and, for API
    scenarios, a Serve app of two ingress replicas on a local Ray. Prints the verdict; exit 1 when it fails.
    """
    from rich.console import Console
    from rich.table import Table

    from chaos.run import run
    from chaos.scenario import load_scenario
    from chaos.stack import local_stack

    chosen = load_scenario(scenario)
    settings = load_settings().settings
    with tempfile.TemporaryDirectory(prefix="synfinance-chaos-") as scratch:
        folder = work or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        Console(stderr=True).print(f"[bold]{chosen.title}[/]: building the local stack in {folder} ...")
        with local_stack(folder, settings, api=chosen.kind == "api") as stack:
            verdict = run(chosen, stack, Path(scenario).stem)
    if as_json:
        click.echo(json.dumps(verdict.to_json(), indent=2, default=str))
    elif not quiet():
        table = Table(title=f"chaos: {verdict.title} ({verdict.seconds:g} s)", box=None, padding=(0, 1))
        table.add_column("", overflow="fold")
        table.add_column("", overflow="fold")
        for what, value in verdict.rows():
            table.add_row(what, value)
        Console().print(table)
    raise SystemExit(0 if verdict.passed else 1)
