"""`synfinance api start|status|stop`: the HTTP API on Ray Serve (serve/)."""

from __future__ import annotations

import json

import click


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
