"""`synfinance generate ...`: datasets, customers and merchants from a seed."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from synfinance.calibration.report import MIN_EXPECTED_CASES, OVERSAMPLED_ABOVE
from synfinance.cli.conventions import Section, result, wants_json, working
from synfinance.cli.options import DATE, campaign_option
from synfinance.cli.pushing import push_finished
from synfinance.errors import OutputError, ParameterError, Problem, ValidationError
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.observability import tracing
from synfinance.output.dataset import PARTS, read_dataset, read_manifest
from synfinance.output.files import atomic_path
from synfinance.output.formats import FORMATS, SUFFIX, write_table
from synfinance.population.calibration import calibration
from synfinance.population.customers import build_customers
from synfinance.population.merchants import build_merchants
from synfinance.runner import run_shards
from synfinance.settings import load_settings
from synfinance.sinks import DatasetSink, JsonlSink, Sink
from synfinance.world.campaign import load_campaign

if TYPE_CHECKING:
    from synfinance.model.scoring import ScoreStage

FORMAT = click.Choice(FORMATS)


@click.group(cls=Section)
def generate() -> None:
    """Generate synthetic data."""


def _days(start: dt.date, days: int | None, end: dt.date | None, default: int) -> int:
    if days is not None and end is not None:
        raise ParameterError([Problem("end", end.isoformat(), "either --end or --days, not both")])
    if end is None:
        return default if days is None else days
    if end < start:
        raise ParameterError([Problem("end", end.isoformat(), f"a date on or after --start ({start.isoformat()})")])
    return (end - start).days + 1


@generate.command("transactions",
                  example="synfinance generate transactions --count 20000 --seed 7 --features --out dataset")
@click.option("--count", type=int, required=True, help="Exactly this many transactions.")
@click.option("--seed", type=int, default=None, help="Same seed, same bytes [default: generation.seed].")
@click.option("--customers", type=int, default=None, help="Population [default: generation.customers or count/100].")
@click.option("--merchants", type=int, default=None, help="Merchants [default: generation.merchants or customers/10].")
@click.option("--start", type=DATE, default=None, help="First IST date [default: generation.start].")
@click.option("--days", type=int, default=None, help="Length of the date range [default: generation.days].")
@click.option("--end", type=DATE, default=None, help="Last IST date, inclusive (instead of --days).")
@click.option("--format", "fmt", type=FORMAT, default="parquet", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("dataset"), show_default=True,
              help="Dataset directory, or - for JSON Lines on stdout (with --format jsonl).")
@click.option("--shard-size", type=int, default=None, help="Most customers per shard [default: generation.shard_size].")
@click.option("--fraud-rate", type=float, default=None, help="Share of fraud rows [default: generation.fraud_rate].")
@click.option("--prevalence", type=click.Choice(["published"]), default=None,
              help="published: fraud at the rate published for UPI (8.5 per million; config/calibration.yaml) "
                   "instead of --fraud-rate.")
@click.option("--anomaly-rate", type=float, default=None, help="Share of anomalies [default: generation.anomaly_rate].")
@click.option("--difficulty", default=None, help="easy, realistic or hard [default: generation.difficulty].")
@click.option("--fraud-types", default=None, help="Comma-separated fraud types to inject [default: all].")
@campaign_option()
@click.option("--no-patterns", is_flag=True, help="Ordinary transactions only: no fraud or anomaly labels.")
@click.option("--features", "with_features", is_flag=True, help="Also write features/part-<shard> (69 features).")
@click.option("--score", is_flag=True,
              help="Also score every transaction with a registered model: predictions/part-<shard> (Parquet).")
@click.option("--model", "version", default=None, help="With --score: the model version [default: the active one].")
@click.option("--explain", type=click.Choice(["flagged", "all", "none"]), default="flagged", show_default=True,
              help="With --score: who gets top reasons (flagged: those sent to review or declined).")
@click.option("--workers", type=click.IntRange(min=0, max=1024), default=0, show_default=True,
              help="Ray shard workers (0: in this process, without Ray).")
@click.option("--local", is_flag=True, help="Run in this process without Ray, whatever --workers says.")
@click.option("--address", default=None,
              help="Ray cluster to join: auto or ray://host:port [default: start a local Ray].")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def transactions(
    count: int, seed: int | None, customers: int | None, merchants: int | None, start: dt.date | None,
    days: int | None, end: dt.date | None, fmt: str, out: Path, shard_size: int | None, fraud_rate: float | None,
    prevalence: str | None, anomaly_rate: float | None, difficulty: str | None, fraud_types: str | None,
    campaign_file: str | None, no_patterns: bool, with_features: bool, score: bool, version: str | None, explain: str,
    workers: int, local: bool, address: str | None, quiet: bool,
) -> None:
    """Generate a dataset directory: transactions by shard, customers, merchants, manifest.

    Options left out take their value from the settings (section generation); flags win.
    """
    gen = load_settings().settings.generation
    start = gen.start if start is None else start
    if prevalence is not None and fraud_rate is not None:
        raise ParameterError([Problem("prevalence", prevalence, "either --prevalence or --fraud-rate, not both")])
    if prevalence == "published":
        fraud_rate = calibration().model.published_fraud_rate
    params = params_from_settings(
        count, seed=seed, customers=customers, merchants=merchants, start=start, days=_days(start, days, end, gen.days),
        shard_size=shard_size, fraud_rate=fraud_rate, anomaly_rate=anomaly_rate, difficulty=difficulty,
        fraud_types=None if fraud_types is None else tuple(t.strip() for t in fraud_types.split(",") if t.strip()),
        patterns=not no_patterns, campaign=None if campaign_file is None else load_campaign(Path(campaign_file)))
    GenerationPlan(params)  # what only the population can check (a campaign's merchants) fails before any write
    stage = _score_stage(version, explain, fmt, out) if score else None
    if str(out) == "-" and wants_json():
        raise ParameterError([Problem("json", True, "not with --out - (stdout carries the transactions)")])
    console = Console(stderr=True, quiet=quiet)
    begun = time.perf_counter()
    columns = (
        TextColumn("[bold]generating"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"), TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(), TextColumn("{task.fields[workers]}"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("generate", total=count, rate="", workers="")
        by_worker: dict[str, int] = {}

        def advance(rows: int, worker: str = "") -> None:
            progress.advance(task, rows)
            done = progress.tasks[0].completed
            if worker:
                by_worker[worker] = by_worker.get(worker, 0) + rows
            shares = "  ".join(f"{w.removeprefix('worker-')}:{n:,}" for w, n in sorted(by_worker.items()))
            progress.update(task, rate=f"{done / max(time.perf_counter() - begun, 1e-9):,.0f} rows/s",
                            workers=shares)

        if str(out) == "-":
            _to_stdout(params, fmt, 0 if local else workers, address, advance)
            console.print(f"{count:,} transactions as JSON Lines on stdout in {time.perf_counter() - begun:.2f} s")
            return
        sink = DatasetSink(out, fmt, None if stage is None else stage.manifest())
        redone = 0  # shards made again after their worker or its node was lost (Ray only)
        if workers == 0 or local:
            tracing.setup(load_settings().settings.monitoring.tracing, "cli")  # stages as spans, if asked
            done = run_shards(params, sink, on_progress=lambda rows: advance(rows, ""), features=with_features,
                              score=stage)
        else:
            done, redone = _run_on_ray(params, sink, workers, with_features, address, advance, stage)
        assert done is not None  # a dataset sink always writes its manifest
        manifest = done
    elapsed = time.perf_counter() - begun
    push_finished("generate", count, elapsed)
    _summary(params, manifest, elapsed, redone)


def params_from_settings(count: int, **given: Any) -> GenerationParams:
    """Generation parameters: the settings' (section generation), overridden by those given that are not None."""
    gen = load_settings().settings.generation
    values: dict[str, Any] = {
        "seed": gen.seed, "customers": gen.customers, "merchants": gen.merchants, "start": gen.start, "days": gen.days,
        "shard_size": gen.shard_size, "fraud_rate": gen.fraud_rate, "anomaly_rate": gen.anomaly_rate,
        "difficulty": gen.difficulty, "fraud_types": None, "patterns": True,
        "fraud_weights": tuple(gen.fraud_type_weights.items()) or None,
        "anomaly_weights": tuple(gen.anomaly_type_weights.items()) or None,
        "lookalikes": tuple(gen.lookalikes.items()) or None,
    }
    values.update({k: v for k, v in given.items() if v is not None})
    return GenerationParams(count=count, **values).resolved()


def _to_stdout(params: GenerationParams, fmt: str, workers: int, address: str | None,
               advance: Callable[[int, str], None]) -> None:
    """--out -: transactions as JSON Lines on stdout, shard after shard (in-process: in shard order)."""
    if fmt != "jsonl":
        raise ParameterError([Problem("format", fmt, "jsonl when --out is - (stdout)")])
    sink = JsonlSink(sys.stdout.buffer)
    if workers == 0:
        run_shards(params, sink, on_progress=lambda rows: advance(rows, ""))
    else:
        _run_on_ray(params, sink, workers, False, address, advance)


def _run_on_ray(params: GenerationParams, sink: Sink, workers: int, features: bool, address: str | None,
                advance: Callable[[int, str], None], score: ScoreStage | None = None) -> tuple[Path | None, int]:
    """The same run through the Ray pipeline (imported here: the in-process path never loads Ray). The driver
    watches the configuration: log level, sampling and the PostgreSQL sink's retry change live in every actor."""
    from actors.handles import session
    from actors.live import watched_run
    from actors.metrics import retune
    from actors.pipeline import run_pipeline

    settings = load_settings().settings
    ray = settings.ray
    with session(ray.model_copy(update={"address": address}) if address else ray), \
            watched_run(load_settings, lambda new, _: retune("driver", new.monitoring)) as live:
        report = run_pipeline(params, sink, workers=workers, features=features, on_progress=advance,
                              score=score, monitoring=settings.monitoring, live=live, shape=ray)
        return report.manifest, sum(report.retries.values())  # the manifest, and the shards made again


def _score_stage(version: str | None, explain: str, fmt: str, out: Path) -> ScoreStage:
    """The model of --score (loaded now: an unknown version or an empty registry is one clear line, before work)."""
    from synfinance.model.scoring import ScoreStage

    if str(out) == "-" or fmt != "parquet":
        raise ParameterError([Problem("score", True, "a Parquet dataset directory (--format parquet, --out DIR): "
                                                     "predictions hold nested reasons")])
    return ScoreStage.of(Path(load_settings().settings.ml.registry_path), version, explain)


def _summary(params: GenerationParams, manifest: Path, elapsed: float, redone: int = 0) -> None:
    counts = read_manifest(manifest.parent)["counts"]
    doc = {"manifest": str(manifest), "counts": counts, "seed": params.seed, "start": params.start.isoformat(),
           "days": params.days, "elapsed_s": round(elapsed, 3), "rows_per_s": round(params.count / elapsed),
           "shards_redone": redone, "prevalence": None,
           "campaign": None if params.campaign is None else params.campaign.name}
    prevalence_line = ""
    if params.patterns:
        prevalence_line, doc["prevalence"] = _prevalence(params, manifest.parent)
    table = Table(title="SynFinance dataset", show_header=False)
    for key, value in [
        ("transactions", f"{counts['transactions']:,}"), ("customers", f"{counts['customers']:,}"),
        ("merchants", f"{counts['merchants']:,}"), ("shards", f"{counts['shards']:,}"), ("seed", str(params.seed)),
        ("dates", f"{params.start} + {params.days} days"),
        ("patterns", f"fraud {params.fraud_rate:.4%}, anomalies {params.anomaly_rate:.2%}, {params.difficulty}"
         if params.patterns else "off"),
        *([("prevalence", prevalence_line)] if params.patterns else []),
        *([("campaign", f"{params.campaign.name}: " + ", ".join(f"{e.name} ({e.fraud_type})"
                                                               for e in params.campaign.entries))]
          if params.campaign is not None else []),
        ("elapsed", f"{elapsed:.2f} s"),
        ("throughput", f"{params.count / elapsed:,.0f} rows/s"), ("manifest", str(manifest)),
        ("shards redone", f"{redone} (a worker or its node was lost; the output is the same)" if redone else "0"),
    ]:
        table.add_row(key, value)
    result(doc, lambda: Console().print(table))


def _prevalence(params: GenerationParams, dataset: Path) -> tuple[str, dict[str, float]]:
    """How the fraud rate stands against the published one; at a tiny expected count, what was generated."""
    p: dict[str, float] = dict(params.prevalence())
    ratio = p["oversampling"]
    published = f"the published {p['published_fraud_rate'] * 1e6:.1f} per million"
    line = f"×{ratio:,.0f} {published}" if ratio >= OVERSAMPLED_ABOVE else f"{ratio:.2f}× {published}"
    if p["expected_fraud_rows"] < MIN_EXPECTED_CASES:
        fraud = pc.sum(read_dataset(dataset, verify=False, only=(PARTS,))[PARTS].column("is_fraud")).as_py() or 0
        p["generated_fraud_rows"] = fraud
        line += (f"; {p['expected_fraud_rows']:.2f} fraud rows expected, {fraud:,} generated (each shard draws its "
                 "share at random at this size; a larger --count gives a steadier rate)")
    return line, p


def _write_single(table: pa.Table, out: Path | None, default_stem: str, fmt: str) -> Path:
    target = out if out is not None else Path(default_stem + SUFFIX[fmt])
    if target.is_dir():
        raise OutputError(f"--out: {target} is a directory; give a file path")
    if not target.parent.exists():
        raise OutputError(f"--out: directory {target.parent} does not exist")
    try:
        with atomic_path(target) as tmp:
            write_table(table, tmp, fmt)
    except OSError as exc:
        raise OutputError(f"--out: cannot write {target}: {exc.strerror}") from exc
    return target


def _check_population(seed: int, what: str, count: int) -> None:
    """The generator's own bounds on a population's size, named as this command's --count."""
    try:
        if what == "customers":
            GenerationParams(count=1, seed=seed, customers=count).resolved()
        else:
            GenerationParams(count=1, seed=seed, merchants=count).resolved()
    except ValidationError as exc:
        raise ValidationError([replace(p, field="count") if p.field == what else p for p in exc.problems]) from None


@generate.command("customers", example="synfinance generate customers --count 1000 --out customers.parquet")
@click.option("--count", type=int, required=True, help="Number of customers.")
@click.option("--seed", type=int, default=None, help="[default: generation.seed]")
@click.option("--format", "fmt", type=FORMAT, default="parquet", show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="File to write [default: customers.<format>]."
)
def customers_cmd(count: int, seed: int | None, fmt: str, out: Path | None) -> None:
    """Generate the customer population alone."""
    seed = load_settings().settings.generation.seed if seed is None else seed
    _check_population(seed, "customers", count)
    path = _write_single(build_customers(seed, count).table, out, "customers", fmt)
    result({"path": str(path), "customers": count}, f"wrote {count:,} customers to {path}")


@generate.command("merchants", example="synfinance generate merchants --count 500 --format csv --out merchants.csv")
@click.option("--count", type=int, required=True, help="Number of merchants.")
@click.option("--seed", type=int, default=None, help="[default: generation.seed]")
@click.option("--format", "fmt", type=FORMAT, default="parquet", show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="File to write [default: merchants.<format>]."
)
def merchants_cmd(count: int, seed: int | None, fmt: str, out: Path | None) -> None:
    """Generate the merchant catalogue alone."""
    seed = load_settings().settings.generation.seed if seed is None else seed
    _check_population(seed, "merchants", count)
    path = _write_single(build_merchants(seed, count).table, out, "merchants", fmt)
    result({"path": str(path), "merchants": count}, f"wrote {count:,} merchants to {path}")


@generate.command("features", example="synfinance generate features --in dataset")
@click.option("--in", "dataset", type=click.Path(path_type=Path), required=True, help="A generated dataset directory.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def features_cmd(dataset: Path, quiet: bool) -> None:
    """Compute the 69 features of an existing dataset into <in>/features/, keyed by transaction_id."""
    from synfinance.features.dataset import check_dataset, write_features

    if not (dataset / "manifest.json").is_file():
        raise OutputError(f"--in: {dataset} is not a complete SynFinance dataset (no manifest.json)")
    checked = check_dataset(dataset)  # before the progress bar: a broken dataset gets one clean line
    total = checked["counts"]["transactions"]
    console = Console(stderr=True, quiet=quiet)
    with Progress(TextColumn("[bold]features"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("features", total=total)
        manifest = write_features(dataset, lambda rows: progress.advance(task, rows), checked)
    result({"transactions": total, "manifest": str(manifest)},
           f"wrote features for {total:,} transactions; manifest {manifest}")


@generate.command("report", example="synfinance generate report --in dataset --out dataset-report.html")
@click.option("--in", "source", type=click.Path(path_type=Path, file_okay=False, exists=True), required=True,
              help="A dataset directory.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="FILE.html (with charts) or FILE.md (Markdown).")
def report_cmd(source: Path, out: Path) -> None:
    """An analytics summary of a dataset: volumes by segment, category, city, payment mode, hour and day,
    festival lift, and fraud and anomalies by type and severity."""
    from synfinance.analytics.page import to_html, to_markdown
    from synfinance.analytics.summary import summarise

    if out.suffix.lower() not in (".html", ".htm", ".md"):
        raise ParameterError([Problem("out", str(out), "a file name ending in .html or .md")])
    if not out.parent.is_dir():
        raise OutputError(f"--out: directory {out.parent} does not exist")
    if not (source / "manifest.json").is_file():
        raise OutputError(f"--in: {source} is not a complete SynFinance dataset (no manifest.json)")
    with working("summarising"):
        summary = summarise(source)
        text = to_markdown(summary) if out.suffix.lower() == ".md" else to_html(summary)
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    result({"path": str(out), **summary}, f"wrote {out}: {summary['totals']['transactions']:,} transactions summarised")
