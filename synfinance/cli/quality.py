"""`synfinance quality ...`: check a dataset (validators, score, gates, regression), write baselines, list runs."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from synfinance.cli.conventions import Section, result
from synfinance.cli.errors import EXIT_FAILURE
from synfinance.cli.generate import params_from_settings
from synfinance.cli.pushing import push_finished
from synfinance.errors import ParameterError, Problem
from synfinance.quality.baseline import read_baseline, write_baseline
from synfinance.quality.data import Dataset
from synfinance.quality.history import History
from synfinance.quality.report import TREND_RUNS, QualityReport
from synfinance.quality.run import assess, pushed
from synfinance.runner import run_shards
from synfinance.settings import load_settings
from synfinance.sinks import DatasetSink

IN = click.option("--in", "source", type=click.Path(path_type=Path, file_okay=False), default=None,
                  help="A dataset directory to check [default: generate one with --count and --seed].")
COUNT = click.option("--count", type=click.IntRange(min=1_000), default=None,
                     help="Transactions to generate (with features) when no --in is given [default: 100000].")
SEED = click.option("--seed", type=int, default=None, help="Seed of the generated dataset [default: generation.seed].")
DEFAULT_COUNT = 100_000


@click.group(cls=Section)
def quality() -> None:
    """Data quality: validators, a score, gates, baselines and a report."""


@contextlib.contextmanager
def _dataset(source: Path | None, count: int | None, seed: int | None, console: Console) -> Iterator[Path]:
    """The directory to check: --in as given, else a dataset generated (with features) into a temporary one."""
    if source is not None:
        if count is not None or seed is not None:
            raise ParameterError([Problem("count", count if count is not None else seed,
                                          "--count and --seed only without --in (they generate the dataset)")])
        yield source
        return
    params = params_from_settings(count or DEFAULT_COUNT, seed=seed)
    with tempfile.TemporaryDirectory(prefix="synfinance-quality-") as tmp:
        with console.status(f"generating {params.count:,} transactions (seed {params.seed}) with features"):
            run_shards(params, DatasetSink(Path(tmp), "parquet"), features=True)
        yield Path(tmp)


@quality.command("run", example="synfinance quality run --count 20000 --seed 7 --report quality-report")
@COUNT
@SEED
@IN
@click.option("--baseline", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="A baseline directory (synfinance quality baseline) to compare against.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Write report.json, report.md and index.html (with charts) here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document on stdout.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors (and --json).")
def run(count: int | None, seed: int | None, source: Path | None, baseline: Path | None, report_dir: Path | None,
        as_json: bool, quiet: bool) -> None:
    """Check a dataset: every validator, the score, the gates and (with --baseline) the regression comparison.

    Exits 1 when a blocking gate fails or the regression comparison does, 2 on bad input.
    """
    settings = load_settings().settings
    console = Console(stderr=True, quiet=quiet or as_json)
    base = read_baseline(baseline) if baseline is not None else None  # a bad baseline fails before any work
    history = History(settings)
    begun = time.perf_counter()
    with _dataset(source, count, seed, console) as directory, console.status("checking"):
        data = Dataset.read(directory, base, settings.quality)
        name = str(source) if source is not None else f"generated: {data.rows:,} rows, seed " \
                                                          f"{data.parameters.get('seed')}"
        report = assess(data, settings, history.recent(TREND_RUNS), name)
    if report_dir is not None:
        _write(report_dir, report)
    history.record(report)
    push_finished("quality", report.rows, time.perf_counter() - begun, pushed(report))
    if as_json:
        click.echo(json.dumps(report.to_json(), default=str))
    elif not quiet:
        _print(report, console, report_dir)
    if not report.passed:
        raise SystemExit(EXIT_FAILURE)


def _write(out: Path, report: QualityReport) -> None:
    from synfinance.output.files import atomic_path
    from synfinance.quality.page import write_page  # altair: 0.5 s, only for a report

    out.mkdir(parents=True, exist_ok=True)
    body = report.to_json()
    for name, text in (("report.json", json.dumps(body, indent=1, default=str) + "\n"),
                       ("report.md", report.to_markdown())):
        with atomic_path(out / name) as tmp:
            tmp.write_text(text)
    write_page(out, body)


def _print(report: QualityReport, console: Console, report_dir: Path | None) -> None:
    out = Console()
    table = Table(title=f"quality: {report.dataset}", show_header=False)
    counts = report.counts()
    trend = ", ".join(f"{t['score']:.1f}" for t in report.trend[:5]) or "none"
    for key, value in (("score", f"{report.score:.1f} / 100"), ("rows", f"{report.rows:,}"),
                       ("violations", ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"),
                       ("earlier scores", trend)):
        table.add_row(key, value)
    for g in report.gates:
        shown = "—" if g.value is None else f"{g.value:.4g}"
        table.add_row(f"gate {g.name}", f"{g.status} ({shown}){'' if g.blocking else ', warning only'}")
    if report.regression is not None:
        failed = [c.name for c in report.regression.comparisons if c.shifted]
        table.add_row("regression", "passed" if not failed else f"FAILED: {', '.join(failed[:4])}"
                      + (" ..." if len(failed) > 4 else ""))
    table.add_row("verdict", "passed" if report.passed else "FAILED")
    if report_dir is not None:
        table.add_row("report", str(report_dir / "index.html"))
    out.print(table)
    for v in report.violations[:10]:
        out.print(f"[{v.severity}] {v.validator}: {v.message}", markup=False)


@quality.command("baseline", example="synfinance quality baseline --out baseline --count 20000 --seed 1")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Directory to write baseline.json into.")
@COUNT
@SEED
@IN
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def baseline_command(out: Path, count: int | None, seed: int | None, source: Path | None, quiet: bool) -> None:
    """Write a baseline: distributions, per-type rates, feature statistics, the served model's figures and the
    latest benchmark figures, for `quality run --baseline` to compare against.
    """
    settings = load_settings().settings
    console = Console(stderr=True, quiet=quiet)
    with _dataset(source, count, seed, console) as directory:
        path = write_baseline(out, Dataset.read(directory, config=settings.quality), settings.ml.registry_path,
                              settings.quality.bench_dir)
    result({"path": str(path)}, f"baseline written: {path}")


@quality.command("history", example="synfinance quality history --limit 5")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as one JSON document on stdout.")
def history_command(limit: int, as_json: bool) -> None:
    """Recent quality runs, newest first, with their scores and the trend."""
    history = History(load_settings().settings)
    runs = history.recent(limit)
    if as_json:
        click.echo(json.dumps(runs))
        return
    table = Table(title=f"quality runs ({history.where})")
    for header in ("when", "dataset", "rows", "score", "change", "violations", "verdict"):
        table.add_column(header)
    for i, r in enumerate(runs):
        before = runs[i + 1]["score"] if i + 1 < len(runs) else None
        change = "" if before is None else f"{r['score'] - before:+.1f}"
        found = ", ".join(f"{n} {s}" for s, n in r["violations"].items() if n) or "none"
        table.add_row(r["created_at"], r["dataset"], f"{r['rows']:,}", f"{r['score']:.1f}", change, found,
                      "passed" if r["passed"] else "FAILED")
    Console().print(table)
