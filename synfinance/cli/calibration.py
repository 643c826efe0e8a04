"""`synfinance calibration report`: a dataset held against the published figures of config/calibration.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from synfinance.calibration.report import Result, band, compare, declared_fraud_rate, fmt, outside
from synfinance.cli.conventions import Section, quiet
from synfinance.population.calibration import calibration as table
from synfinance.quality.data import Dataset


@click.group(cls=Section)
def calibration() -> None:
    """Realism against published payment statistics."""


def render(results: list[Result]) -> Table:
    out = Table(title="calibration: ours against published (config/calibration.yaml)")
    for header in ("figure", "ours", "published", "tolerance", "", "sources"):
        out.add_column(header)
    for r in results:
        f = r.figure
        status = {"inside": "[green]inside[/]", "outside": "[red]OUTSIDE[/]"}.get(r.status, r.status)
        out.add_row(f.what, fmt(f, r.ours), f"{fmt(f, f.published)} ({band(f, f.band)})", band(f, f.tolerance),
                    status, ", ".join(table().sources[s].publisher for s in f.sources))
    return out


@calibration.command("report", example="synfinance calibration report --in dataset")
@click.option("--in", "source", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="A dataset directory (generate transactions).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON document on stdout.")
def report(source: Path, as_json: bool) -> None:
    """Each figure of the calibration table measured on the dataset, against the published value and the
    tolerance. Exits 1 when a figure is outside its tolerance. Prevalence figures are judged only on a dataset
    generated at published prevalence (--prevalence published); otherwise the row says how far fraud is
    oversampled.
    """
    data = Dataset.read(source)
    results = compare(data.transactions, declared_fraud_rate(data.parameters))
    bad = outside(results)
    if as_json:
        figures = [r.to_json(table()) for r in results]
        click.echo(json.dumps({"figures": figures, "outside": [r.figure.id for r in bad]}))
    elif not quiet():
        Console().print(render(results))
        if bad:
            click.echo("outside tolerance: " + ", ".join(r.figure.id for r in bad))
    if bad:
        raise SystemExit(1)
