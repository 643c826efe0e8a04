"""`synfinance metrics export`: every SynFinance metric now, from Prometheus or straight from the endpoints."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import click

from synfinance.cli.conventions import Section, result
from synfinance.cli.remote import call, default_url
from synfinance.errors import ServiceUnavailable, StoreUnavailable
from synfinance.observability.metrics import samples_of
from synfinance.output.files import atomic_path
from synfinance.settings import load_settings

PREFIX = "synfinance_"


@click.group(cls=Section)
def metrics() -> None:
    """SynFinance's Prometheus metrics."""


def from_prometheus(url: str) -> list[dict[str, Any]]:
    """The latest value of every synfinance_* series Prometheus holds (raises StoreUnavailable when it is down)."""
    from synfinance.monitor.prom import Prometheus

    found = Prometheus(url).query(f'{{__name__=~"{PREFIX}.+"}}')
    return [{"name": s["metric"]["__name__"], "labels": {k: v for k, v in s["metric"].items() if k != "__name__"},
             "value": float(s["value"][1])} for s in found]


def from_endpoint(url: str) -> list[dict[str, Any]]:
    """Every synfinance_* sample of a running API's /metrics (the whole cluster's, read from Ray's agents)."""
    return samples_of(call("GET", url, "/metrics", raw=True, timeout_s=60), PREFIX)


def exposition(samples: list[dict[str, Any]], source: str, taken_at: str) -> str:
    """Prometheus text format: one `name{labels} value` line per sample, sorted."""
    def line(s: dict[str, Any]) -> str:
        labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(s["labels"].items()))
        return f"{s['name']}{{{labels}}} {s['value']!r}" if labels else f"{s['name']} {s['value']!r}"

    return f"# SynFinance metrics from {source} at {taken_at}\n" + "".join(
        line(s) + "\n" for s in sorted(samples, key=lambda s: (s["name"], sorted(s["labels"].items()))))


def _escape(value: str) -> str:
    return re.sub(r'(["\\])', r"\\\1", value).replace("\n", "\\n")


@metrics.command("export", example="synfinance metrics export --out metrics.prom --format prom")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.option("--format", "fmt", type=click.Choice(["prom", "json"]), default="prom", show_default=True)
@click.option("--source", type=click.Choice(["auto", "prometheus", "api"]), default="auto", show_default=True,
              help="auto: Prometheus when it answers (`monitor up`), else the running API's /metrics.")
@click.option("--prometheus-url", default=None, help="[default: monitoring.prometheus_url]")
@click.option("--url", default=None, help="API base URL [default: the detached API's, else server.host:port].")
def export_cmd(out: Path, fmt: str, source: str, prometheus_url: str | None, url: str | None) -> None:
    """A snapshot of every SynFinance metric now, as Prometheus text or JSON."""
    if out.parent and not out.parent.is_dir():
        raise click.BadParameter(f"directory {out.parent} does not exist", param_hint="--out")
    prom = prometheus_url or load_settings().settings.monitoring.prometheus_url
    taken_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    samples, where = None, ""
    if source in ("auto", "prometheus"):
        try:
            samples, where = from_prometheus(prom), f"prometheus {prom}"
        except StoreUnavailable:
            if source == "prometheus":
                raise
    if samples is None:
        api = url or default_url()
        try:
            samples, where = from_endpoint(api), f"api {api}"
        except ServiceUnavailable as exc:
            raise ServiceUnavailable(f"neither Prometheus ({prom}) nor an API ({api}) answers: start one with "
                                     "`synfinance monitor up` or `synfinance api start --detach`") from exc
    text = (json.dumps({"source": where, "taken_at": taken_at, "samples": samples}, indent=1) + "\n"
            if fmt == "json" else exposition(samples, where, taken_at))
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    names = len({s["name"] for s in samples})
    result({"path": str(out), "source": where, "taken_at": taken_at, "samples": len(samples), "metrics": names},
           f"wrote {len(samples):,} samples of {names} metrics from {where} to {out}")
    if not samples:
        click.echo("warning: no SynFinance metric recorded yet: nothing Prometheus scrapes has run (start the API, a "
                   "pipeline or a stream; `monitor up --ray-address auto` scrapes a running Ray's agents), or a "
                   "process's first report has not reached Ray's agent (every ~10 s)" if where.startswith("prometheus")
                   else "warning: the API has recorded no metric yet (its first report reaches Ray's agent within "
                   "~10 s of its first request)", err=True)
