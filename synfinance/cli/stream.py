"""`synfinance stream`: transactions emitted paced to the wall clock, with the achieved rate and lag."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from synfinance.errors import ParameterError, Problem
from synfinance.settings import load_settings
from synfinance.sinks import HttpSink, JsonlSink, PostgresSink, Sink
from synfinance.stream.pacer import stream as run_stream


@click.command("stream")
@click.option("--rate", type=float, required=True, help="Transactions per second (the average, with --speedup).")
@click.option("--duration", type=float, required=True, help="Seconds to run (Ctrl-C stops earlier, cleanly).")
@click.option("--speedup", type=float, default=None,
              help="Pace by the rows' own timestamps, this many times faster than real time.")
@click.option("--sink", type=click.Choice(["jsonl", "postgres", "http"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="jsonl: file to append to [default: stdout].")
@click.option("--url", default=None, help="http: where to POST each batch (JSON Lines).")
@click.option("--seed", type=int, default=None, help="[default: generation.seed]")
@click.option("--score", is_flag=True, help="Score every transaction with a registered model; its prediction goes "
                                            "with it (JSON Lines fields, or the predictions table).")
@click.option("--model", "version", default=None, help="With --score: the model version [default: the active one].")
def stream(rate: float, duration: float, speedup: float | None, sink: str, out: Path | None, url: str | None,
           seed: int | None, score: bool, version: str | None) -> None:
    """Emit generated transactions at a steady rate; report achieved rate and lag on stderr.

        synfinance stream --rate 200 --duration 30 --score | head
    """
    settings = load_settings().settings
    stage = None
    if score:
        from synfinance.model.scoring import ScoreStage

        stage = ScoreStage.of(Path(settings.ml.registry_path), version)
    if sink == "http" and not url:
        raise ParameterError([Problem("url", url, "a URL to POST to when --sink http")])
    if sink == "jsonl":
        target = sys.stdout.buffer if out is None else out.open("ab")
        emit: Sink = JsonlSink(target)
    elif sink == "postgres":
        from synfinance.store.connect import Database

        emit = PostgresSink(Database.from_config(settings.database))
    else:
        assert url is not None
        emit = HttpSink(url, timeout_s=settings.server.timeout_s)
    try:
        report = run_stream(rate, duration, emit, seed=settings.generation.seed if seed is None else seed,
                            speedup=speedup, score=stage)
    finally:
        emit.close([])
    table = Table(title="stream" + (" (interrupted)" if report.interrupted else ""), show_header=False)
    for key, value in [
        ("rows", f"{report.rows:,}"), ("elapsed", f"{report.seconds:.2f} s"),
        ("rate", f"{report.achieved_rate:,.0f}/s achieved, {report.requested_rate:,.0f}/s requested"),
        ("lag", f"p50 {report.lag_p50_ms:.1f} ms, p99 {report.lag_p99_ms:.1f} ms, max {report.lag_max_ms:.1f} ms"),
    ]:
        table.add_row(key, value)
    Console(stderr=True).print(table)
