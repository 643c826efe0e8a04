"""`synfinance debug ...`: profile a command or a live actor, explain a transaction, show a trace."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from synfinance.cli.conventions import Section
from synfinance.errors import OutputError
from synfinance.settings import load_settings


@click.group(cls=Section)
def debug() -> None:
    """Profiles, a transaction explained, a trace as a tree."""


@debug.command("profile", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
               example="synfinance debug profile --memory -- generate transactions --count 5000 --out profiled --quiet")
@click.option("--memory", is_flag=True, help="Also the top allocation sites (tracemalloc; slower).")
@click.option("--top", type=click.IntRange(1, 200), default=15, show_default=True, help="Rows per table.")
@click.option("--flame", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a flame graph (SVG) with py-spy instead (py-spy must be installed).")
@click.option("--actor", default=None, help="Sample a live Ray actor by class (ShardWorker, FeatureShard) with py-spy.")
@click.option("--replica", default=None, help="Sample a live Serve replica by deployment (Ingress, Query).")
@click.option("--address", default="auto", show_default=True, help="The Ray cluster of --actor/--replica.")
@click.option("--seconds", type=click.FloatRange(1, 600), default=10, show_default=True,
              help="How long --flame samples a live process.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def profile_cmd(memory: bool, top: int, flame: Path | None, actor: str | None, replica: str | None, address: str,
                seconds: float, as_json: bool, command: tuple[str, ...]) -> None:
    """Profile a synfinance command (CPU by function, memory with --memory, time by stage), or a live process:
    `--replica Ingress` prints a py-spy dump of each Ingress replica's stacks."""
    from synfinance.errors import ParameterError, Problem

    target = actor or replica
    if as_json and (target is not None or flame is not None):
        raise ParameterError([Problem("json", True, "only when profiling a command (py-spy writes its own output)")])
    if target is not None:
        _live(target, address, flame, seconds)
        return
    if not command:
        raise ParameterError([Problem("command", None, "a synfinance command after --, or --actor/--replica")])
    if flame is not None:
        _spy(["record", "-o", str(flame), "--", sys.executable, "-m", "synfinance", *command])
        click.echo(f"wrote {flame}")
        return
    from synfinance.cli import main
    from synfinance.debug.profile import profile

    def run() -> None:  # the command itself, its errors left to this command's error handling
        with main.make_context("synfinance", list(command)) as ctx:
            main.invoke(ctx)

    report = profile(run, memory, top)
    if as_json:
        click.echo(json.dumps(report))
        return
    console = Console(stderr=True)
    _table(console, f"CPU: {report['seconds']:.2f} s wall clock, by cumulative time", report["cpu"])
    if report["stages"]:
        _table(console, "time by stage (the command's spans)", report["stages"])
    if "memory" in report:
        _table(console, "memory: top allocation sites still held", report["memory"])


def _table(console: Console, title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = Table(*rows[0].keys(), title=title)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


def _need_spy() -> None:
    if shutil.which("py-spy") is None:
        raise OutputError("py-spy is not installed: pip install py-spy (it samples processes from outside)")


def _spy(args: list[str]) -> None:
    _need_spy()
    done = subprocess.run(["py-spy", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise OutputError(f"py-spy {args[0]} failed: {done.stderr.strip()[-500:]}")
    click.echo(done.stdout, nl=False)


def _live(target: str, address: str, flame: Path | None, seconds: float) -> None:
    from actors.handles import actor_pids, session
    from synfinance.settings.models import RayConfig

    _need_spy()  # before connecting to a cluster
    with session(RayConfig(address=address)):
        found = actor_pids(target)
    if not found:
        raise OutputError(f"no live actor or replica named {target!r} on the Ray cluster at {address}")
    for class_name, pid in found:
        click.echo(f"== {class_name} (pid {pid})")
        if flame is not None:
            out = flame.with_name(f"{flame.stem}-{pid}{flame.suffix or '.svg'}")
            _spy(["record", "-o", str(out), "--pid", str(pid), "--duration", str(int(seconds))])
            click.echo(f"wrote {out}")
        else:
            _spy(["dump", "--pid", str(pid)])


@debug.group("inspect")
def inspect() -> None:
    """Look inside a transaction or a trace."""


@inspect.command("transaction", example="synfinance debug inspect transaction TXN-790269-00000-00000042 --data dataset")
@click.argument("transaction_id")
@click.option("--data", type=click.Path(path_type=Path, file_okay=False, exists=True), required=True,
              help="The dataset directory (with features for the feature table).")
@click.option("--models", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Model registry [default: ml.registry_path].")
@click.option("--model", "version", default=None, help="Version [default: the active one].")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def inspect_transaction(transaction_id: str, data: Path, models: Path | None, version: str | None,
                        as_json: bool) -> None:
    """A transaction, its label and evidence, its features beside the customer's usual, and the model's view."""
    from synfinance.debug.transaction import explain

    report = explain(data, transaction_id, models or Path(load_settings().settings.ml.registry_path), version)
    if as_json:
        click.echo(json.dumps(report, default=str))
        return
    console = Console()
    facts = Table(show_header=False, title=f"transaction {transaction_id}")
    for key, value in report["transaction"].items():
        facts.add_row(key, str(value))
    console.print(facts)
    console.print_json(json.dumps(report["label"], default=str))
    if report.get("model"):
        m = report["model"]
        console.print(f"[bold]model {m['version']}[/]: fraud probability {m['fraud_probability']:.4f}, "
                      f"decision {m['decision']}, anomaly {m['anomaly_score']:.3f}")
        reasons = Table("feature", "contribution (log-odds)", title="top contributions")
        for r in m["reasons"]:
            reasons.add_row(r["feature"], f"{r['contribution']:+.3f}")
        console.print(reasons)
    if report.get("features"):
        table = Table("feature", "value", "customer's usual", title=f"features (customer's "
                      f"{report['customer_transactions']} transactions)")
        for f in report["features"]:
            table.add_row(f["name"], _fmt(f["value"]), _fmt(f["usual"]))
        console.print(table)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:,.4g}"


@inspect.command("trace", example="synfinance debug inspect trace 4bf92f3577b34da6a3ce929d0e0e4736")
@click.argument("trace_id")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where the file exporter wrote spans [default: monitoring.tracing.file_dir].")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def inspect_trace(trace_id: str, directory: Path | None, as_json: bool) -> None:
    """A trace's spans as a tree with durations (spans written by the `file` tracing exporter)."""
    from synfinance.debug.traces import lines, load

    roots = load(directory or Path(load_settings().settings.monitoring.tracing.file_dir), trace_id)
    rows = lines(roots)
    if as_json:
        click.echo(json.dumps([{"span": n.strip(), "depth": (len(n) - len(n.lstrip())) // 2, "start_ms": s,
                                "ms": d, "service": svc} for n, s, d, svc in rows]))
        return
    table = Table("span", "start ms", "duration ms", "service", title=f"trace {trace_id}")
    for name, start, ms, service in rows:
        table.add_row(name, f"{start:.2f}", f"{ms:.2f}", service)
    Console().print(table)
