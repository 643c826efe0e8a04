"""`synfinance api start|status|stop`: the HTTP API on Ray Serve (serve/)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.cli.conventions import Section, result
from synfinance.cli.remote import KEY_ENVS
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.schema import IST_OFFSET_S

if TYPE_CHECKING:
    import rich.table

    from synfinance.settings import Settings

IST = dt.timezone(dt.timedelta(seconds=IST_OFFSET_S), "IST")


@click.group(cls=Section)
def api() -> None:
    """The HTTP API: scoring, queries, health and metrics on Ray Serve."""


@api.command("start", example="synfinance api start --detach --port 8000")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="HTTP port [default: server.port].")
@click.option("--detach", is_flag=True, help="Run in the background; `api status` / `api stop` manage it.")
def start_cmd(port: int | None, detach: bool) -> None:
    """Start Ray (local unless ray.address is set), Ray Serve and the app; --detach returns once it answers."""
    from serve import process
    from synfinance.settings import load_settings

    for warning in start_warnings(load_settings().settings):
        click.echo(f"warning: {warning}", err=True)
    if not detach:
        process.serve_forever(port)
        return
    state = process.start_detached(port)
    health = state.get("health", {})
    result({**state, "log": str(process.log_file())},
           f"API running at {state['url']} (pid {state['pid']}); model: "
           f"{health.get('model', {}).get('version') or health.get('model', {}).get('reason')}; "
           f"log: {process.log_file()}")


def start_warnings(settings: Settings) -> list[str]:
    """What a newcomer's first start lacks and would otherwise find out from a 401 or history-less scores."""
    found = []
    if not settings.security.api_keys:
        found.append("no API keys (security.api_keys): every /v1 route will answer 401. For example: export "
                     "API_KEY=my-key SYNFINANCE_SECURITY__API_KEYS='[{\"name\": \"me\", \"key\": \"my-key\", "
                     "\"scopes\": [\"admin\"]}]' (docs/api.md#keys-scopes-limits)")
    if settings.server.warm_from is None and not settings.database.enabled:
        found.append("the feature store starts empty (server.warm_from unset, database disabled): customers are "
                     "scored without their history. For example: export SYNFINANCE_SERVER__WARM_FROM=dataset")
    return found


@api.command("status", example="synfinance api status")
@click.option("--json", "as_json", is_flag=True, help="Print the whole status as JSON.")
def status_cmd(as_json: bool) -> None:
    """Whether the detached API runs, and its /health. Exit code 1 when it does not run."""
    from serve import process

    state = process.status()
    if not state["running"]:
        human = "API not running"
    else:
        health = state.get("health", {})
        parts = [f"{name}: {health[name].get('status')}" for name in ("model", "feature_store", "database")
                 if name in health]
        human = (f"API running at {state['url']} (pid {state['pid']}): {health.get('status', 'no answer')}; "
                 + ", ".join(parts))
    result(state, human)
    raise SystemExit(0 if state["running"] else 1)


@api.command("stop", example="synfinance api stop")
def stop_cmd() -> None:
    """Stop the detached API (SIGTERM; it shuts Serve and its Ray down)."""
    from serve import process

    stopped = process.stop()
    result(stopped,
           f"stopped API (pid {stopped['stopped_pid']})" if "stopped_pid" in stopped else "API was not running")


def demo_picks(nxt: pa.Table, count: int) -> list[np.ndarray]:
    """Which of the next period's transactions to score for a demo, as row positions per pick (the last is the one
    shown; the earlier ones are that customer's transactions before it, sent first so its history is right).

    Up to two-fifths are frauds (each customer's first), the rest legitimate first transactions of other
    customers spread over the hours of the day. Rows must be in time order.
    """
    customer = pc.dictionary_encode(nxt.column("customer_id")).combine_chunks().indices.to_numpy()
    fraud = nxt.column("is_fraud").to_numpy(zero_copy_only=False)
    hour = nxt.column("local_hour").to_numpy()
    rows = np.arange(nxt.num_rows)
    picks: list[np.ndarray] = []
    fraud_customers: set[int] = set()
    for i in np.flatnonzero(fraud):
        if len(picks) >= max(1, count * 2 // 5):
            break
        if int(customer[i]) not in fraud_customers:
            fraud_customers.add(int(customer[i]))
            picks.append(rows[: i + 1][customer[: i + 1] == customer[i]])
    _, first = np.unique(customer, return_index=True)  # each customer's first row
    legit = [i for i in np.sort(first) if not fraud[i] and int(customer[i]) not in fraud_customers]
    for target in np.linspace(8, 21, max(count - len(picks), 0)):
        if not legit:
            break
        best = min(legit, key=lambda i: (abs(int(hour[i]) - target), i))
        legit.remove(best)
        picks.append(np.array([best]))
    return sorted(picks, key=lambda p: int(p[-1]))


def scores_table(title: str) -> rich.table.Table:
    """The columns `api score` prints. The truth (a fraud type, "anomaly" or "legitimate") is never folded: at 80
    columns the top reason gives way instead (rich folds names without spaces mid-word)."""
    from rich.table import Table

    table = Table(title=title, box=None, padding=(0, 1), collapse_padding=True, pad_edge=False)
    for column, justify in (("when (IST)", "left"), ("amount ₹", "right"), ("p(fraud)", "right"),
                            ("decision", "left"), ("top reason", "left"), ("ms", "right")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    table.add_column("truth", no_wrap=True)  # as wide as its longest row: rich narrows the folding columns instead
    return table


@api.command("score", example="synfinance api score --data dataset --count 5")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The dataset the API was warmed from.")
@click.option("--count", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--url", default=None, help="API base URL [default: the detached API's].")
@click.option("--key", envvar=KEY_ENVS, default=None,
              help="X-API-Key to send (or $SYNFINANCE_API_KEY, $API_KEY; kept out of argv).")
def score_cmd(data: Path, count: int, url: str | None, key: str | None) -> None:
    """Score customers' next transactions over HTTP: the same population generated over the days after the
    dataset's (so each has the history the API was warmed with), spread over the day and including frauds, with
    what actually happened beside each.
    """
    import requests
    from rich.console import Console

    from serve import process
    from synfinance.generation import GenerationParams, GenerationPlan, generate_shard
    from synfinance.generation.replay import replayed
    from synfinance.output.dataset import read_manifest

    url = url or process.status().get("url")
    if url is None:
        raise click.UsageError("no --url and no detached API running (`synfinance api start --detach`)")
    params = GenerationParams.from_json(read_manifest(data)["parameters"]).next_period()
    nxt = replayed(generate_shard(GenerationPlan(params), 0).sort_by([("timestamp", "ascending")]), "API-")
    table = scores_table(f"POST /v1/score: next transactions from {params.start}")
    inputs = nxt.select(list(INPUT_COLUMNS)).to_pylist()
    scored = []
    truths = nxt.select(["fraud_type", "is_anomaly"]).to_pylist()
    for pick in demo_picks(nxt, count):
        for i in pick.tolist():
            answer = requests.post(f"{url}/v1/score", data=json.dumps(inputs[i], default=str), timeout=30,
                                   headers={"X-API-Key": key or "", "Content-Type": "application/json"})
            if answer.status_code != 200:
                raise click.ClickException(f"HTTP {answer.status_code}: {answer.text[:300]}")
        s, row, truth = answer.json(), inputs[pick[-1]], truths[pick[-1]]
        when = row["timestamp"].astimezone(IST).strftime("%a %H:%M")
        reason = s["reasons"][0]["feature"] if s["reasons"] else "-"
        actual = truth["fraud_type"] or ("anomaly" if truth["is_anomaly"] else "legitimate")
        table.add_row(when, f"{row['amount_inr']:,.2f}", f"{s['fraud_probability']:.4f}", s["decision"], reason,
                      f"{s['processing_time_ms']:.1f}", actual)
        scored.append({"transaction": row, "score": s, "truth": actual})
    result({"url": url, "scored": scored}, lambda: Console().print(table))
