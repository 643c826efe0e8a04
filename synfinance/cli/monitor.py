"""`synfinance monitor ...`: the local Prometheus stack, and dashboards as static pages without Grafana."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from synfinance.cli.conventions import Section, result
from synfinance.cli.options import DURATION
from synfinance.settings import load_settings

STATE = Path(".synfinance/monitor")
DIR = click.option("--dir", "root", type=click.Path(path_type=Path, file_okay=False), default=STATE,
                   show_default=True, help="Where the stack keeps its configs, data, logs and pids.")


def ports_options(f: click.decorators.FC) -> click.decorators.FC:
    for name, default in reversed((("prometheus", 9090), ("alertmanager", 9093), ("pushgateway", 9091),
                                   ("node-exporter", 9100))):
        f = click.option(f"--{name}-port", type=click.IntRange(1, 65535), default=default, show_default=True)(f)
    return f


@click.group(cls=Section)
def monitor() -> None:
    """Prometheus, Alertmanager, Pushgateway and node exporter for a local SynFinance; dashboard snapshots."""


@monitor.command("install", example="synfinance monitor install")
def install() -> None:
    """Install the stack's Debian packages when missing (root; otherwise says how)."""
    from synfinance.monitor.stack import install_packages

    installed = install_packages()
    result({"installed": installed},
           f"installed {', '.join(installed)}" if installed else "the monitoring packages are installed")


@monitor.command("up", example="synfinance monitor up")
@DIR
@ports_options
@click.option("--scrape-interval", type=DURATION, default="15s", show_default=True,
              help="Scrape and rule evaluation interval (Ray's agents: at least 5 s).")
@click.option("--webhook", default=None, help="Send every alert to this URL [default: alertmanager.yml's].")
@click.option("--ray-address", default=None,
              help="Scrape this Ray cluster's metrics agents ('auto': the local one) when no Ray dashboard "
                   "writes its service-discovery file.")
def up(root: Path, prometheus_port: int, alertmanager_port: int, pushgateway_port: int, node_exporter_port: int,
       scrape_interval: float, webhook: str | None, ray_address: str | None) -> None:
    """Start the stack (installing its packages when missing) and point Prometheus at Ray and the Pushgateway;
    `synfinance monitor status` then shows each component."""
    from synfinance.monitor.stack import Ports, Stack, write_ray_targets

    stack = Stack(root, Ports(prometheus_port, alertmanager_port, pushgateway_port, node_exporter_port),
                  scrape_interval, webhook)
    urls = stack.up()
    lines, agents = [], []
    if ray_address is not None:
        from actors.handles import session
        from actors.metrics import agent_urls
        from synfinance.settings.models import RayConfig

        with session(RayConfig(address=ray_address)):
            agents = [u.removeprefix("http://").removesuffix("/metrics") for u in agent_urls()]
        write_ray_targets(stack.ray_targets, agents)
        lines.append(f"scraping {len(agents)} Ray metrics agent(s): {', '.join(agents)}")
    lines += [f"{component:14} {url}" for component, url in urls.items()]
    lines.append(f"pushgateway for batch jobs: SYNFINANCE_MONITORING__PUSHGATEWAY_URL={urls['pushgateway']}")
    lines.append(f"for Ray's dashboard, start Ray with: RAY_PROMETHEUS_HOST={urls['prometheus']} "
                 "RAY_GRAFANA_HOST=http://127.0.0.1:3000")
    result({"urls": urls, "ray_agents": agents}, "\n".join(lines))


@monitor.command("down", example="synfinance monitor down")
@DIR
def down(root: Path) -> None:
    """Stop what `monitor up` started."""
    from synfinance.monitor.stack import Stack

    stopped = Stack(root).down()
    result({"stopped": stopped}, f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@monitor.command("status", example="synfinance monitor status")
@DIR
@ports_options
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def status(root: Path, prometheus_port: int, alertmanager_port: int, pushgateway_port: int,
           node_exporter_port: int, as_json: bool) -> None:
    """Each component: running, ready, URL; exit 1 when one is not ready."""
    from synfinance.monitor.stack import Ports, Stack

    rows = Stack(root, Ports(prometheus_port, alertmanager_port, pushgateway_port, node_exporter_port)).status()
    if as_json:
        click.echo(json.dumps(rows))
    else:
        table = Table("component", "pid", "running", "ready", "url")
        for r in rows:
            table.add_row(r["component"], str(r["pid"] or "-"), "yes" if r["running"] else "no",
                          "yes" if r["ready"] else "no", r["url"])
        Console().print(table)
    if not all(r["ready"] for r in rows):
        raise SystemExit(1)


@monitor.command("snapshot", example="synfinance monitor snapshot --dashboard ray-pipeline --since 15m --out snap")
@click.option("--dashboard", "uid", required=True, help="A dashboard's uid, e.g. api-performance.")
@click.option("--since", type=DURATION, default="15m", show_default=True, help="How far back, e.g. 15m, 2h.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Directory to write.")
@click.option("--url", default=None, help="Prometheus [default: monitoring.prometheus_url].")
def snapshot_cmd(uid: str, since: float, out: Path, url: str | None) -> None:
    """Render a dashboard's panels from Prometheus to a static HTML page with PNG charts (no Grafana needed);
    open <out>/index.html."""
    from synfinance.errors import ParameterError, Problem
    from synfinance.monitor.dashboards import DASHBOARDS, find
    from synfinance.monitor.prom import Prometheus
    from synfinance.monitor.snapshot import snapshot

    try:
        board = find(uid)
    except KeyError:
        raise ParameterError([Problem("dashboard", uid, "one of " + ", ".join(b.uid for b in DASHBOARDS))]) from None
    page = snapshot(Prometheus(url or load_settings().settings.monitoring.prometheus_url), board, since, out)
    result({"page": str(page)}, f"wrote {page}")
