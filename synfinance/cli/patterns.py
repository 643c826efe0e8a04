"""`synfinance patterns report`: how separable each fraud and anomaly type is by one feature, per dataset."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from synfinance.cli.conventions import Section, quiet
from synfinance.errors import ModelError
from synfinance.quality.data import Dataset
from synfinance.quality.separability import FLAG_RECALL, PRECISION, TypeSeparability, separability
from synfinance.schema import FEATURE_NAMES
from synfinance.settings import load_settings


@click.group(cls=Section)
def patterns() -> None:
    """Fraud and anomaly patterns."""


def model_flags(data: Dataset, version: str | None) -> np.ndarray | None:
    """Per row: would the model (the active version, or `version`) send it to review or decline it; None when
    no model is registered and none was asked for."""
    from synfinance.model import registry
    from synfinance.model.scoring import score_columns

    settings = load_settings().settings
    try:
        model = registry.load(settings.ml.registry_path, version)
    except ModelError:
        if version is not None:
            raise
        return None
    x = np.column_stack([data.column(n, "features").astype(np.float64) for n in FEATURE_NAMES])
    scored = score_columns(model, x, "none", num_threads=settings.ml.num_threads)
    return np.asarray(scored.code > 0)


def render(rows: list[TypeSeparability]) -> Table:
    table = Table(title=f"one-feature rules: highest recall at precision >= {PRECISION:.2f} (else best F1)")
    for header in ("type", "rows", "best one-feature rule", "P", "R", "best raw field (AUC)", "model R", ""):
        table.add_column(header)
    for r in rows:
        rule = r.rule
        shown = "—" if rule is None else str(rule)
        table.add_row(f"{r.kind}:{r.name}", f"{r.rows:,}", shown, "" if rule is None else f"{rule.precision:.3f}",
                      "" if rule is None else f"{rule.recall:.3f}",
                      "—" if r.raw_field is None else f"{r.raw_field} ({r.raw_auc:.3f})",
                      "—" if r.model_recall is None else f"{r.model_recall:.3f}", "CAUGHT" if r.flagged() else "")
    return table


@patterns.command("report", example="synfinance patterns report --in dataset")
@click.option("--in", "source", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="A dataset directory with features (generate transactions --features; not needed with --by).")
@click.option("--by", type=click.Choice(["day", "week"]), default=None,
              help="Instead: each fraud type's rate per day or week beside the rate its parameters and campaign ask "
                   "for (weeks count from the dataset's first day).")
@click.option("--type", "types", multiple=True,
              help="With --by: these fraud types [default: the campaign's, else all].")
@click.option("--model", "version", default=None, help="Model version for the recall column [default: the active "
              "one, if any].")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as one JSON document on stdout.")
def report(source: Path, by: str | None, types: tuple[str, ...], version: str | None, as_json: bool) -> None:
    """Per fraud and anomaly type: the best one-feature threshold rule (precision, recall), the best raw field's
    AUC and the model's recall at its policy. Exits 1 when a fraud type is caught by one feature at recall >= 0.5
    with precision >= 0.95. With --by: fraud rates over time instead (a campaign's shape, before training on it).
    """
    if by is not None:
        _over_time(source, by, types, as_json)
        return
    data = Dataset.read(source)
    if data.features is None:
        raise click.UsageError(f"--in: {source} has no features; generate it with --features")
    with Console(stderr=True).status("measuring one-feature rules"):
        rows = separability(data, model_flags(data, version))
    caught = [r for r in rows if r.kind == "fraud" and r.flagged()]
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows]))
    elif not quiet():
        Console().print(render(rows))
        if caught:
            click.echo(f"caught by one feature (recall >= {FLAG_RECALL}, precision >= {PRECISION}): "
                       + ", ".join(r.name for r in caught))
    if caught:
        raise SystemExit(1)


def _over_time(source: Path, by: str, types: tuple[str, ...], as_json: bool) -> None:
    from synfinance.analytics.timeline import read_timeline

    rows, campaign = read_timeline(source, by)
    wanted = set(types) or ({r["type"] for r in rows} if campaign is None else set(campaign.fraud_types))
    unknown = wanted - {r["type"] for r in rows}
    if unknown:
        raise click.UsageError(f"--type: {', '.join(sorted(unknown))} not in this dataset's fraud types "
                               f"({', '.join(sorted({r['type'] for r in rows}))})")
    rows = [r for r in rows if r["type"] in wanted]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if quiet():
        return
    title = f"fraud per {by}" + ("" if campaign is None else f", campaign {campaign.name}")
    table = Table(title=title)
    for header in ("period from", "type", "rows", "rate", "asked", "realised/asked", "entry"):
        table.add_column(header, justify="left" if header in ("period from", "type", "entry") else "right")
    for r in rows:
        ratio = r["rate"] / r["expected_rate"] if r["expected_rate"] else None
        table.add_row(r["period"], r["type"], f"{r['fraud_rows']:,}", f"{r['rate']:.4%}", f"{r['expected_rate']:.4%}",
                      "—" if ratio is None else f"{ratio:.2f}", r["entry"])
    Console().print(table)
