"""`synfinance model ...`: train, evaluate, optimise, deploy, list and batch-predict fraud models."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from synfinance.cli.conventions import Section, quiet, result, working
from synfinance.cli.options import DATE, TIME
from synfinance.cli.pushing import push_finished
from synfinance.errors import OutputError
from synfinance.settings import load_settings

DATA = click.option("--data", type=click.Path(path_type=Path), required=True, help="Dataset directory with features.")


def _models(models: Path | None) -> Path:
    return models if models is not None else Path(load_settings().settings.ml.registry_path)


MODELS = click.option("--models", type=click.Path(path_type=Path), default=None,
                      help="Registry directory [default: ml.registry_path].")
# Commands that write a model also accept --out for the registry directory.
MODELS_OUT = click.option("--models", "--out", "models", type=click.Path(path_type=Path), default=None,
                          help="Registry directory to write to [default: ml.registry_path].")


POLICY_OPTIONS = (
    click.option("--policy", type=click.Choice(["budget", "cost"]), default=None,
                 help="How to choose the review threshold on the validation weeks [default: ml.policy]."),
    click.option("--review-rate", type=float, default=None,
                 help="Share of all transactions sent to review (policy budget) [default: ml.review_rate]."),
    click.option("--decline-precision", type=float, default=None,
                 help="Decline where validation transactions at that score were fraud at least this often "
                      "[default: ml.decline_precision]."),
    click.option("--review-cost", type=float, default=None,
                 help="INR cost of one review (policy cost) [default: ml.review_cost_inr]."),
)


def policy_options(f: Any) -> Any:
    for option in reversed(POLICY_OPTIONS):
        f = option(f)
    return f


def _rule(policy: str | None, review_rate: float | None, decline_precision: float | None,
          review_cost: float | None) -> Any:
    """The policy rule from the flags, the settings (ml.*) filling what is not given; every bad value named."""
    from synfinance.model.fitting import PolicyRule
    from synfinance.model.threshold import Costs

    base = PolicyRule.of(load_settings().settings.ml)
    return PolicyRule(policy or base.rule, base.review_rate if review_rate is None else review_rate,
                      base.decline_precision if decline_precision is None else decline_precision,
                      Costs(review_inr=base.costs.review_inr if review_cost is None else review_cost))


@click.group(cls=Section)
def model() -> None:
    """Fraud model: LightGBM on the 69 features, with a decision policy (approve / review / decline)."""


def show(title: str, metrics: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(metrics, indent=2, sort_keys=True, default=float))
        return
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("rows", "frauds", "roc_auc", "pr_auc", "recall_at_1pct_fpr", "brier"):
        value = metrics[key]
        table.add_row(key, f"{value:,}" if isinstance(value, int) else f"{value:.4f}")
    for key, label in (("review_rate", "sent to review"), ("decline_rate", "declined"),
                       ("flagged_rate", "review + decline")):
        table.add_row(label, f"{metrics[key]:.2%}")
    for key, label in (("precision", "precision of flagged"), ("recall", "recall of flagged"), ("f1", "f1"),
                       ("decline_precision", "precision of declines")):
        table.add_row(label, f"{metrics[key]:.4f}")
    for name, recall in sorted(metrics["per_type_recall"].items()):
        table.add_row(f"recall · {name}", f"{recall:.3f}")
    c = metrics["confusion"]
    table.add_row("flagged tp/fp/fn/tn", f"{c['tp']:,} / {c['fp']:,} / {c['fn']:,} / {c['tn']:,}")
    Console().print(table)


def _policy_line(policy: dict[str, Any]) -> str:
    decline = "never" if policy["decline_at"] is None else f"p >= {policy['decline_at']:.4f}"
    rule = f"budget {policy['review_rate']:.2%}" if policy["rule"] == "budget" else "least expected cost"
    return (f"policy ({rule}, declines where >= {policy['decline_precision']:.0%} are fraud): "
            f"review at p >= {policy['review_at']:.4f}, decline at {decline}")


@model.command("train", example="synfinance model train --data dataset")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Dataset directory with features.")
@click.option("--from-db", "from_db", is_flag=True,
              help="Instead of --data: what the service stored (features, and the labels fed back by --labels-until).")
@click.option("--since", type=DATE, default=None, help="With --from-db: transactions from this IST date on.")
@click.option("--until", type=DATE, default=None, help="With --from-db: transactions before this IST date.")
@click.option("--labels-until", type=TIME,
              default=None, help="With --from-db: only labels fed back by then (UTC unless an offset is given) "
                                 "[default: now].")
@MODELS_OUT
@click.option("--seed", type=int, default=None, help="Training seed [default: generation.seed].")
@policy_options
@click.option("--deploy/--no-deploy", default=True, show_default=True, help="Make the new version active.")
@click.option("--json", "as_json", is_flag=True, help="Print metrics.json (test weeks at the top) instead of a table.")
def train_cmd(data: Path | None, from_db: bool, since: dt.date | None, until: dt.date | None,
              labels_until: dt.datetime | None, models: Path | None, seed: int | None, policy: str | None,
              review_rate: float | None, decline_precision: float | None, review_cost: float | None, deploy: bool,
              as_json: bool) -> None:
    """Train on the earliest 70 % of the data, choose the decision policy on the next 15 %, test on the last 15 %.

    With --from-db, the data is what the service stored: transactions (--since, --until) with their features,
    and only the labels fed back by --labels-until; a transaction whose label had not arrived is left out. The
    registry records the window and the cut-off. Runs as a Ray job too:
    `ray job submit -- synfinance model train --from-db`.
    """
    from synfinance.model import registry
    from synfinance.model.fitting import fit_labelled, fit_model

    settings = load_settings().settings
    _one_source(data, from_db, since, until, labels_until)
    rule = _rule(policy, review_rate, decline_precision, review_cost)
    root = _models(models)
    seed = settings.generation.seed if seed is None else seed
    begun = time.perf_counter()
    with working("training"):
        if data is not None:
            fitted = fit_model(data, root, seed, settings.ml.num_threads, rule)
        else:
            labelled, source = _stored(since, until, labels_until)
            fitted = fit_labelled(labelled, source, root, seed, settings.ml.num_threads, rule)
    trained_on = json.loads((root / fitted.version / "metadata.json").read_text())["training_data"]["rows"]
    push_finished("train", trained_on, time.perf_counter() - begun)
    if deploy:
        registry.deploy(root, fitted.version)
    if as_json:
        click.echo(json.dumps(fitted.metrics, indent=2, sort_keys=True, default=float))
        return
    if quiet():
        return
    show(f"model {fitted.version}: test weeks at the policy chosen on the validation weeks", fitted.metrics["test"],
         False)
    click.echo(_policy_line(fitted.metrics["policy"]))
    click.echo(f"registered {root / fitted.version}" + (" (active)" if deploy else ""))


def _one_source(data: Path | None, from_db: bool, since: dt.date | None, until: dt.date | None,
                labels_until: dt.datetime | None) -> None:
    from synfinance.errors import ParameterError, Problem

    problems = []
    if (data is None) == (not from_db):
        problems.append(Problem("data", None if data is None else str(data), "either --data DIR or --from-db"))
    if not from_db:
        problems += [Problem(name, str(value), "only with --from-db") for name, value in
                     (("since", since), ("until", until), ("labels_until", labels_until)) if value is not None]
    if since is not None and until is not None and until <= since:
        problems.append(Problem("until", until.isoformat(), f"a date after --since ({since.isoformat()})"))
    if problems:
        raise ParameterError(problems)


def _stored(since: dt.date | None, until: dt.date | None,
            labels_until: dt.datetime | None) -> tuple[Any, dict[str, Any]]:
    """What the service stored in the window, labelled as known by the cut-off, and the registry's account of it."""
    import asyncio

    from synfinance.model.data import labelled_table
    from synfinance.schema import IST_OFFSET_S
    from synfinance.store.connect import Database
    from synfinance.store.training import labelled_since

    ist = dt.timezone(dt.timedelta(seconds=IST_OFFSET_S))
    start = dt.datetime.combine(since or dt.date(1970, 1, 2), dt.time(), ist)
    end = dt.datetime.combine(until or dt.date(9999, 12, 31), dt.time(), ist)
    cutoff = dt.datetime.now(dt.UTC) if labels_until is None else labels_until

    async def read() -> Any:
        conn = await Database.from_config(load_settings().settings.database).connect(bulk=True, application="train")
        try:
            return await labelled_since(conn, start, end, cutoff)
        finally:
            await conn.close()

    table = asyncio.run(read())
    source = {"source": "database", "since": None if since is None else since.isoformat(),
              "until": None if until is None else until.isoformat(), "labels_until": cutoff.isoformat(),
              "labelled_rows": table.num_rows}
    return labelled_table(table), source


@model.command("evaluate", example="synfinance model evaluate --data dataset --report evaluation")
@click.option("--model", "version", default=None, help="Version [default: active].")
@DATA
@MODELS
@click.option("--json", "as_json", is_flag=True)
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="Also write an HTML page with charts (PR curve, scores by label, recall by type, confusion) here.")
def evaluate_cmd(version: str | None, data: Path, models: Path | None, as_json: bool, report: Path | None) -> None:
    """Score a dataset (e.g. another seed: unseen customers) at the model's policy and compare with its own test
    weeks. With --report, open <report>/index.html for the charts."""
    from synfinance.model import registry
    from synfinance.model.fitting import evaluate_on

    fraud_model = registry.load(_models(models), version)
    if report is not None and report.exists() and not report.is_dir():
        raise OutputError(f"--report: {report} exists and is not a directory")
    with working("evaluating"):
        evaluation = evaluate_on(fraud_model, data, load_settings().settings.ml.num_threads)
    here = evaluation.metrics
    if report is not None:
        from synfinance.model.report import write_report

        page = write_report(report, f"Model {fraud_model.version} on {data}", evaluation.y, evaluation.score,
                            fraud_model.policy, here)
        click.echo(f"report: {page}", err=True)
    trained_on = json.loads((_models(models) / fraud_model.version / "metrics.json").read_text())["test"]
    if as_json:
        click.echo(json.dumps({"this_dataset": here, "training_test_weeks": trained_on}, indent=2, default=float))
        return
    if quiet():
        return
    show(f"model {fraud_model.version} on {data}", here, False)
    keys = ("roc_auc", "pr_auc", "recall_at_1pct_fpr", "precision", "recall")
    click.echo("generalisation (training test weeks -> this dataset): " + ", ".join(
        f"{k} {trained_on[k]:.3f} -> {here[k]:.3f}" for k in keys))


@model.command("optimize", example="synfinance model optimize --data dataset --trials 2")
@DATA
@MODELS_OUT
@click.option("--trials", type=click.IntRange(1, 50), default=8, show_default=True)
@click.option("--seed", type=int, default=None)
@click.option("--deploy/--no-deploy", default=False, show_default=True)
def optimize_cmd(data: Path, models: Path | None, trials: int, seed: int | None, deploy: bool) -> None:
    """Seeded random search over a small space, then train and register the best point."""
    from synfinance.model import registry
    from synfinance.model.data import load_labelled
    from synfinance.model.fitting import fit_model, random_search

    settings = load_settings().settings
    seed = settings.generation.seed if seed is None else seed
    labelled = load_labelled(data)  # read once: every trial and the final fit share it
    with working(f"searching {trials} points, then training the best"):
        best, history = random_search(labelled, trials, seed, settings.ml.num_threads)
        fitted = fit_model(data, _models(models), seed, settings.ml.num_threads, overrides=best,
                           search={"best": best, "trials": history}, data=labelled)
    if deploy:
        registry.deploy(_models(models), fitted.version)
    lines = [f"trial {json.dumps(h['params'], sort_keys=True)}: valid PR-AUC {h['valid_pr_auc']:.4f}" for h in history]
    lines.append(f"best {json.dumps(best, sort_keys=True)} -> {fitted.version}: test PR-AUC "
                 f"{fitted.metrics['test']['pr_auc']:.4f}")
    result({"version": fitted.version, "best": best, "trials": history, "test": fitted.metrics["test"],
            "active": deploy}, "\n".join(lines))


@model.command("deploy", example="synfinance model deploy v0001 --review-rate 0.005")
@click.argument("version")
@MODELS
@policy_options
def deploy_cmd(version: str, models: Path | None, policy: str | None, review_rate: float | None,
               decline_precision: float | None, review_cost: float | None) -> None:
    """Make VERSION the active model (it must load against the current features).

    With any policy option, its thresholds are chosen again from the validation scores stored with it (no
    retraining), the metrics at the new policy are printed, and a running API applies it within seconds.
    """
    from synfinance.model import registry
    from synfinance.model.fitting import repolicy

    root = _models(models)
    doc: dict[str, Any] = {"active": version}
    if any(v is not None for v in (policy, review_rate, decline_precision, review_cost)):
        registry.load(root, version)  # a clear error for an unknown version before any work
        fitted = repolicy(root, version, _rule(policy, review_rate, decline_precision, review_cost))
        doc.update(policy=fitted.metrics["policy"], test=fitted.metrics["test"])
    registry.deploy(root, version)

    def human() -> None:
        if "policy" in doc:
            show(f"model {version}: test weeks at the new policy", doc["test"], False)
            click.echo(_policy_line(doc["policy"]))
        click.echo(f"{version} is now active")

    result(doc, human)


@model.command("list", example="synfinance model list")
@MODELS
def list_cmd(models: Path | None) -> None:
    """Registered versions with their test metrics; the active one is marked."""
    from synfinance.model import registry

    root = _models(models)
    active = registry.active_version(root)
    table = Table(title=f"models in {root}")
    for header in ("version", "created", "pr_auc", "review at", "decline at", "active"):
        table.add_column(header)
    rows = []
    for version in registry.versions(root):
        meta_path = root / version / "metadata.json"
        if not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        policy = registry.policy_of(root / version, meta)
        decline = "never" if policy.decline_at is None else f"{policy.decline_at:.3f}"
        table.add_row(version, meta["created_at"][:16], f"{meta['metrics']['pr_auc']:.4f}", f"{policy.review_at:.3f}",
                      decline, "*" if version == active else "")
        rows.append({"version": version, "created_at": meta["created_at"], "pr_auc": meta["metrics"]["pr_auc"],
                     "review_at": policy.review_at, "decline_at": policy.decline_at, "active": version == active})
    result({"registry": str(root), "active": active, "versions": rows}, lambda: Console().print(table))


@model.command("predict", example="synfinance model predict --data dataset --out scores")
@click.option("--model", "version", default=None, help="Version [default: active].")
@DATA
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Directory for predictions.parquet.")
@MODELS
@click.option("--explain", type=click.Choice(["flagged", "all", "none"]), default="flagged", show_default=True,
              help="Which transactions get their top reasons: those sent to review or declined, all, or none.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def predict_cmd(version: str | None, data: Path, out: Path, models: Path | None, explain: str, quiet: bool) -> None:
    """Batch scoring: probability, decision and top reasons per transaction (the predictions schema), to Parquet."""
    import pyarrow.parquet as pq
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from synfinance.model import registry
    from synfinance.model.batch import dataset_rows, predict_dataset
    from synfinance.output.files import atomic_path
    from synfinance.schema import PREDICTION_SCHEMA

    fraud_model = registry.load(_models(models), version)
    total = dataset_rows(data)
    threads = load_settings().settings.ml.num_threads
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out: {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    counts = {"approve": 0, "review": 0, "decline": 0}
    columns = (TextColumn("[bold]scoring"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True, quiet=quiet), transient=True) as progress, \
            atomic_path(out / "predictions.parquet") as tmp:
        task = progress.add_task("score", total=total)
        with pq.ParquetWriter(tmp, PREDICTION_SCHEMA, compression="zstd") as writer:
            for table in predict_dataset(fraud_model, data, explain, threads, lambda n: progress.advance(task, n)):
                writer.write_table(table)
                for decision, n in zip(*np.unique(table.column("decision").to_numpy(zero_copy_only=False),
                                                  return_counts=True), strict=True):
                    counts[str(decision)] += int(n)
    result({"version": fraud_model.version, "transactions": total, "decisions": counts,
            "path": str(out / "predictions.parquet")},
           f"scored {total:,} transactions with {fraud_model.version}: {counts['approve']:,} approve, "
           f"{counts['review']:,} review, {counts['decline']:,} decline -> {out / 'predictions.parquet'}")


@model.command("novelty", example="synfinance model novelty --data dataset --cut 60")
@DATA
@click.option("--cut", required=True, metavar="DAY|DATE",
              help="Train before this day (days from the dataset's first day, or YYYY-MM-DD); score from it on.")
@click.option("--seed", type=int, default=None, help="Training seed [default: generation.seed].")
@policy_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def novelty_cmd(data: Path, cut: str, seed: int | None, policy: str | None, review_rate: float | None,
                decline_precision: float | None, review_cost: float | None, as_json: bool) -> None:
    """Recall per fraud type after a cut, of a model trained and given its policy on the days before it: how
    a campaign's new fraud type fares against the types the model has seen. Nothing is registered."""
    import datetime as dt

    from synfinance.errors import ParameterError, Problem
    from synfinance.model.data import load_labelled
    from synfinance.model.novelty import before_and_after
    from synfinance.output.dataset import read_manifest
    from synfinance.schema import EPOCH_DATE, IST_OFFSET_S, US_PER_DAY, US_PER_S

    settings = load_settings().settings
    start = dt.date.fromisoformat(read_manifest(data)["parameters"]["start"])
    try:
        day = start + dt.timedelta(days=int(cut)) if cut.lstrip("-").isdigit() else dt.date.fromisoformat(cut)
    except ValueError:
        raise ParameterError([Problem("cut", cut, "days from the dataset's first day, or a date YYYY-MM-DD")]) from None
    cut_us = (day - EPOCH_DATE).days * US_PER_DAY - IST_OFFSET_S * US_PER_S
    with working("training before the cut"):
        found = before_and_after(load_labelled(data), cut_us, settings.generation.seed if seed is None else seed,
                                 settings.ml.num_threads, _rule(policy, review_rate, decline_precision, review_cost))
    doc = {"cut": day.isoformat(), **found.to_json()}
    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    table = Table(title=f"recall from {day} on, trained on {found.trained_rows:,} rows before it")
    for header in ("fraud type", "rows", "recall", ""):
        table.add_column(header, justify="left" if header == "fraud type" else "right")
    for name, recall in sorted(found.recall.items(), key=lambda kv: kv[1]):
        table.add_row(name, f"{found.rows[name]:,}", f"{recall:.3f}", "NEW" if name in found.new_types else "")
    table.add_row("types seen before the cut", "", f"{found.known_recall:.3f}", "")
    result(doc, lambda: Console().print(table))
