"""`synfinance health check`: a running API's components, liveness and readiness, as a table or JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from synfinance.cli.conventions import Section, quiet
from synfinance.cli.remote import default_url
from synfinance.errors import ServiceUnavailable

GROUPS = ("scoring", "queries", "writes")


@click.group(cls=Section)
def health() -> None:
    """Health of a running API: each component, and whether it is live and ready."""


def detail(name: str, c: dict[str, Any]) -> str:
    """One line about a component: what it is, or why it is down."""
    if c.get("status") not in ("ok", "disabled", "low"):
        return str(c.get("reason") or "")
    ms = f", {c['round_trip_ms']:.1f} ms" if "round_trip_ms" in c else ""
    if name == "model":
        return f"version {c.get('version')}{ms}"
    if name == "feature_store":
        return f"{c['shards']} shards, {c['customers']:,} customers warmed{ms}"
    if name == "database":
        return f"breaker {c.get('breaker')}{ms}"
    if name == "ray":
        return (f"{c['nodes']} node(s), {c['cpus_free']:g} of {c['cpus']:g} CPUs free, "
                f"{c['object_store_free_mb']:,} of {c['object_store_mb']:,} MB object store free")
    if name == "disk":
        return ", ".join(f"{path}: {d['free_mb']:,} MB free" for path, d in c["paths"].items())
    return ""


@health.command("check", example="synfinance health check --url http://127.0.0.1:8000")
@click.option("--url", default=None, help="API base URL [default: the detached API's, else server.host:port].")
@click.option("--route", type=click.Choice(GROUPS), default="scoring", show_default=True,
              help="Which routes' readiness decides the exit code.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout instead of the table.")
def check_cmd(url: str | None, route: str, as_json: bool) -> None:
    """Ask a running API for its health; exit 1 when it is not ready for --route (or does not answer)."""
    import requests
    from rich.console import Console
    from rich.table import Table

    base = (url or default_url()).rstrip("/")
    try:
        live = requests.get(base + "/health/live", timeout=10).status_code == 200
        report = requests.get(base + "/health", timeout=30).json()
    except (requests.RequestException, ValueError) as exc:
        raise ServiceUnavailable(f"no health answer from {base}: {exc}") from exc
    ready = bool(report.get("ready", {}).get(route, False))
    if as_json:
        click.echo(json.dumps({"url": base, "live": live, "route": route, "ready_for_route": ready, **report},
                              indent=2, default=str))
    elif not quiet():
        table = Table(title=f"{base}: {report.get('status')} (config {report.get('config_version')})", box=None,
                      padding=(0, 1))
        table.add_column("component")
        table.add_column("status")
        table.add_column("detail", overflow="fold")
        for name in ("model", "feature_store", "database", "ray", "disk"):
            if name in report:
                table.add_row(name, str(report[name].get("status")), detail(name, report[name]))
        groups = report.get("ready", {})
        table.add_row("live", "yes" if live else "no", "")
        table.add_row("ready", ", ".join(g for g in GROUPS if groups.get(g)) or "none",
                      ("not ready: " + ", ".join(g for g in GROUPS if not groups.get(g))) if not all(
                          groups.get(g) for g in GROUPS) else "")
        Console().print(table)
    raise SystemExit(0 if live and ready else 1)
