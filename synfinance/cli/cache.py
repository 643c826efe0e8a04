"""`synfinance cache stats|warm|clear`: the online feature store and the model cache of a running API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from synfinance.cli.conventions import Section, result, working
from synfinance.cli.remote import KEY_ENVS, call, default_url

URL = click.option("--url", default=None, help="API base URL [default: the detached API's, else server.host:port].")
KEY = click.option("--key", envvar=KEY_ENVS, default=None,
                   help="An API key with the admin scope (better from $SYNFINANCE_API_KEY: kept out of argv).")


@click.group(cls=Section)
def cache() -> None:
    """Caches of a running API: each feature shard's online state and its loaded model."""


def _show(title: str, report: dict[str, Any]) -> None:
    table = Table(title=title, box=None, padding=(0, 1))
    for column in ("shard", "customers", "merchants", "devices", "state MB", "model", "model MB"):
        table.add_column(column, justify="left" if column in ("shard", "model") else "right")
    for s in report["shards"]:
        f, m = s["features"], s["model"]
        table.add_row(str(f["shard"]), f"{f['customers']:,}", f"{f['merchants']:,}", f"{f['devices']:,}",
                      f"{f['state_bytes'] / 1e6:,.1f}", str(m["version"] or "-"), f"{m['bytes'] / 1e6:,.1f}")
    t = report["features"]
    table.add_row("all", f"{t['customers']:,}", f"{t['merchants']:,}", f"{t['devices']:,}",
                  f"{t['state_bytes'] / 1e6:,.1f}", ", ".join(report["model"]["versions"]),
                  f"{report['model']['bytes'] / 1e6:,.1f}")
    Console().print(table)


@cache.command("stats", example="synfinance cache stats --url http://127.0.0.1:8000")
@URL
@KEY
def stats_cmd(url: str | None, key: str | None) -> None:
    """Entries and memory of each feature shard's online state, and the model each has loaded."""
    url = url or default_url()
    report = call("GET", url, "/v1/cache", key)
    result({"url": url, **report}, lambda: _show(f"caches of {url}", report))


@cache.command("warm", example="synfinance cache warm --from dataset --url http://127.0.0.1:8000")
@click.option("--from", "source", required=True, metavar="DATASET|database",
              help="A dataset directory (on the API's machine) to replay, or `database`: the transactions stored "
                   "after what the shards hold.")
@URL
@KEY
def warm_cmd(source: str, url: str | None, key: str | None) -> None:
    """Fill the online features (replaying a dataset's transactions, or the database's) and load the model."""
    url = url or default_url()
    dataset = None if source == "database" else str(Path(source).resolve())
    with working(f"warming from {source}"):
        report = call("POST", url, "/v1/cache/warm", key, {"dataset": dataset})
    result({"url": url, **report}, lambda: _show(
        f"warmed from {source}: {report['replayed_rows']:,} transactions replayed", report))


@cache.command("clear", example="synfinance cache clear --features --url http://127.0.0.1:8000")
@click.option("--features/--no-features", default=True, show_default=True,
              help="Forget every customer's, merchant's and device's online state.")
@click.option("--model/--no-model", default=False, show_default=True,
              help="Drop the loaded model (read again from the registry by the next score).")
@URL
@KEY
def clear_cmd(features: bool, model: bool, url: str | None, key: str | None) -> None:
    """Empty the online feature store and/or the model cache; scores after it start from no history."""
    if not (features or model):
        raise click.UsageError("nothing to clear: --features and --no-model leave both caches as they are")
    url = url or default_url()
    report = call("POST", url, "/v1/cache/clear", key, {"features": features, "model": model})
    result({"url": url, **report}, lambda: _show("cleared" + (" (features)" if features else "")
                                                 + (" (model)" if model else ""), report))
