"""`synfinance stream`: transactions emitted paced to the wall clock, with the achieved rate and lag."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import BinaryIO

import click
from rich.console import Console
from rich.table import Table

from synfinance.cli.conventions import Command, result, wants_json
from synfinance.cli.options import DATE, DURATION, campaign_option
from synfinance.cli.pushing import push_finished
from synfinance.errors import ParameterError, Problem
from synfinance.settings import load_settings
from synfinance.sinks import ApiSink, HttpSink, JsonlSink, PostgresSink, Sink
from synfinance.stream.pacer import span_days
from synfinance.stream.pacer import stream as run_stream
from synfinance.world.campaign import load_campaign
from synfinance.world.plan import GenerationParams


@click.command("stream", cls=Command, example="synfinance stream --rate 400 --duration 2 --out stream.jsonl")
@click.option("--rate", type=float, required=True, help="Transactions per second (the average, with --speedup).")
@click.option("--duration", type=float, required=True, help="Seconds to run (Ctrl-C stops earlier, cleanly).")
@click.option("--speedup", type=float, default=None,
              help="Pace by the rows' own timestamps, this many times faster than real time.")
@click.option("--sink", type=click.Choice(["jsonl", "postgres", "http", "api"]), default="jsonl", show_default=True,
              help="api: store and score each batch in a running SynFinance API (--url, --api-key).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="jsonl: file to append to [default: stdout].")
@click.option("--url", default=None, help="http: where to POST each batch (JSON Lines); api: the API's base URL.")
@click.option("--api-key", envvar="SYNFINANCE_API_KEY", default=None,
              help="api: a key with the write scope [env SYNFINANCE_API_KEY].")
@click.option("--feedback-delay", type=DURATION, default=None,
              help="api: send each transaction's truth as label feedback this long after it (event time: divided "
                   "by --speedup), e.g. 1h; unset: no feedback.")
@click.option("--seed", type=int, default=None, help="[default: generation.seed]")
@click.option("--start", type=DATE, default=None, help="First simulated day (after the data an API was warmed "
              "from, so its customers' histories go on) [default: generation.start].")
@click.option("--score", is_flag=True, help="Score every transaction with a registered model; its prediction goes "
                                            "with it (JSON Lines fields, or the predictions table).")
@click.option("--model", "version", default=None, help="With --score: the model version [default: the active one].")
@campaign_option(" Days are those of the simulated span (--speedup), from --start.")
def stream(rate: float, duration: float, speedup: float | None, sink: str, out: Path | None, url: str | None,
           api_key: str | None, feedback_delay: float | None, seed: int | None, start: dt.date | None, score: bool,
           version: str | None, campaign_file: str | None) -> None:
    """Emit generated transactions at a steady rate; report achieved rate and lag on stderr (--json: on stdout).

    With --sink api, the API scores each transaction and, --feedback-delay later, receives its truth as label
    feedback (precision and recall to watch in Grafana):

    \b
        synfinance stream --rate 50 --duration 600 --speedup 60 --sink api \\
            --url http://127.0.0.1:8000 --api-key $KEY --feedback-delay 1h
    """
    settings = load_settings().settings
    campaign = None if campaign_file is None else load_campaign(Path(campaign_file))
    stage = None
    if score:
        from synfinance.model.scoring import ScoreStage

        stage = ScoreStage.of(Path(settings.ml.registry_path), version)
    problems = []
    if sink in ("http", "api") and not url:
        problems.append(Problem("url", url, f"a URL to POST to when --sink {sink}"))
    if sink == "api" and not api_key:
        problems.append(Problem("api_key", None, "a key with the write scope when --sink api (or SYNFINANCE_API_KEY)"))
    if feedback_delay is not None and sink != "api":
        problems.append(Problem("feedback_delay", feedback_delay, "only with --sink api"))
    if wants_json() and sink == "jsonl" and out is None:
        problems.append(Problem("json", True, "--out FILE or another --sink: stdout carries the transactions"))
    if problems:
        raise ParameterError(problems)
    if campaign is not None:  # refused before any sink opens: nothing written
        GenerationParams(count=1, seed=0, start=start or settings.generation.start, days=span_days(duration, speedup),
                         campaign=campaign).resolved()
    owned: BinaryIO | None = None
    if sink == "jsonl":
        owned = None if out is None else out.open("ab")  # the --out file this command opened (and closes)
        target = sys.stdout.buffer if owned is None else owned
        emit: Sink = JsonlSink(target)
    elif sink == "postgres":
        from synfinance.resilience import RetryPolicy
        from synfinance.store.connect import Database

        database = settings.database
        emit = PostgresSink(Database.from_config(database), RetryPolicy.from_config(database.bulk_retry))
    elif sink == "api":
        assert url is not None and api_key is not None
        delay = None if feedback_delay is None else feedback_delay / (speedup or 1.0)
        emit = ApiSink(url, api_key, delay, timeout_s=settings.server.timeout_s)
    else:
        assert url is not None
        emit = HttpSink(url, timeout_s=settings.server.timeout_s)
    try:
        report = run_stream(rate, duration, emit, seed=settings.generation.seed if seed is None else seed,
                            speedup=speedup, score=stage, start=start or settings.generation.start,
                            campaign=campaign)
    finally:
        emit.close([])
        if owned is not None:
            owned.close()
    push_finished("stream", report.rows, report.seconds)
    table = Table(title="stream" + (" (interrupted)" if report.interrupted else ""), show_header=False)
    for key, value in [
        ("rows", f"{report.rows:,}"), ("elapsed", f"{report.seconds:.2f} s"),
        ("rate", f"{report.achieved_rate:,.0f}/s achieved, {report.requested_rate:,.0f}/s requested"),
        ("lag", f"p50 {report.lag_p50_ms:.1f} ms, p99 {report.lag_p99_ms:.1f} ms, max {report.lag_max_ms:.1f} ms"),
        *([("feedback", f"{emit.sent:,} sent, {emit.unsent:,} not yet due at the end")]
          if isinstance(emit, ApiSink) and feedback_delay is not None else []),
    ]:
        table.add_row(key, value)
    result({"rows": report.rows, "seconds": round(report.seconds, 3), "achieved_rate": report.achieved_rate,
            "requested_rate": report.requested_rate, "lag_p50_ms": report.lag_p50_ms, "lag_p99_ms": report.lag_p99_ms,
            "lag_max_ms": report.lag_max_ms, "interrupted": report.interrupted},
           lambda: Console(stderr=True).print(table))
