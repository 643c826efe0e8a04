"""`synfinance api start|status|stop`: the HTTP API on Ray Serve (serve/)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from synfinance.features.inputs import INPUT_COLUMNS


@click.group()
def api() -> None:
    """The HTTP API: scoring, queries, health and metrics on Ray Serve."""


@api.command("start")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="HTTP port [default: server.port].")
@click.option("--detach", is_flag=True, help="Run in the background; `api status` / `api stop` manage it.")
def start_cmd(port: int | None, detach: bool) -> None:
    """Start Ray (local unless ray.address is set), Ray Serve and the app; --detach returns once it answers."""
    from serve import process

    if not detach:
        process.serve_forever(port)
        return
    state = process.start_detached(port)
    health = state.get("health", {})
    click.echo(f"API running at {state['url']} (pid {state['pid']}); model: "
               f"{health.get('model', {}).get('version') or health.get('model', {}).get('reason')}; "
               f"log: {process.log_file()}")


@api.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the whole status as JSON.")
def status_cmd(as_json: bool) -> None:
    """Whether the detached API runs, and its /health. Exit code 1 when it does not run."""
    from serve import process

    state = process.status()
    if as_json:
        click.echo(json.dumps(state, indent=2, default=str))
    elif not state["running"]:
        click.echo("API not running")
    else:
        health = state.get("health", {})
        parts = [f"{name}: {health[name].get('status')}" for name in ("model", "feature_store", "database")
                 if name in health]
        click.echo(f"API running at {state['url']} (pid {state['pid']}): {health.get('status', 'no answer')}; "
                   + ", ".join(parts))
    raise SystemExit(0 if state["running"] else 1)


@api.command("stop")
def stop_cmd() -> None:
    """Stop the detached API (SIGTERM; it shuts Serve and its Ray down)."""
    from serve import process

    result = process.stop()
    click.echo(f"stopped API (pid {result['stopped_pid']})" if "stopped_pid" in result else "API was not running")


@api.command("score")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The dataset the API was warmed from.")
@click.option("--count", type=click.IntRange(1, 1000), default=5, show_default=True)
@click.option("--url", default=None, help="API base URL [default: the detached API's].")
@click.option("--key", envvar="API_KEY", default=None, help="X-API-Key to send (or $API_KEY; kept out of argv).")
def score_cmd(data: Path, count: int, url: str | None, key: str | None) -> None:
    """Score a few customers' next transactions over HTTP: the same population generated over the days after
    the dataset's (so each has the history the API was warmed with), with what actually happened beside it."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import requests
    from rich.console import Console
    from rich.table import Table

    from serve import process
    from synfinance.generate import GenerationParams, GenerationPlan, generate_shard
    from synfinance.generate.replay import replayed
    from synfinance.output.dataset import read_manifest

    url = url or process.status().get("url")
    if url is None:
        raise click.UsageError("no --url and no detached API running (`synfinance api start --detach`)")
    params = GenerationParams.from_json(read_manifest(data)["parameters"]).next_period()
    nxt = generate_shard(GenerationPlan(params), 0).sort_by([("timestamp", "ascending")])
    first = np.unique(pc.dictionary_encode(nxt.column("customer_id")).combine_chunks().indices.to_numpy(),
                      return_index=True)[1]  # each customer's first row (rows are in time order)
    picked = replayed(nxt.take(pa.array(np.sort(first)[:count])), "API-")  # ids apart from the dataset's
    table = Table(title=f"POST {url}/v1/score  (next transactions after {params.start - dt.timedelta(days=1)})")
    for column in ("transaction", "customer", "amount ₹", "probability", "decision", "top reason", "ms", "actual"):
        table.add_column(column)
    truths = picked.select(["fraud_type", "is_anomaly"]).to_pylist()
    for row, truth in zip(picked.select(list(INPUT_COLUMNS)).to_pylist(), truths, strict=True):
        answer = requests.post(f"{url}/v1/score", data=json.dumps(row, default=str), timeout=30,
                               headers={"X-API-Key": key or "", "Content-Type": "application/json"})
        if answer.status_code != 200:
            raise click.ClickException(f"HTTP {answer.status_code}: {answer.text[:300]}")
        s = answer.json()
        table.add_row(s["transaction_id"], row["customer_id"], f"{row['amount_inr']:,}",
                      f"{s['fraud_probability']:.4f}", s["decision"], s["reasons"][0]["feature"],
                      f"{s['processing_time_ms']:.1f}", truth["fraud_type"] or ("anomaly" if truth["is_anomaly"]
                                                                              else "legitimate"))
    Console().print(table)
