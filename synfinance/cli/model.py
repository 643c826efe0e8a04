"""`synfinance model ...`: train, evaluate, optimise, deploy, list and batch-predict fraud models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pyarrow as pa
from rich.console import Console
from rich.table import Table

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


@click.group()
def model() -> None:
    """Fraud model: LightGBM on the 69 features."""


def show(title: str, metrics: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(metrics, indent=2, sort_keys=True, default=float))
        return
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("rows", "frauds", "threshold", "roc_auc", "pr_auc", "recall_at_1pct_fpr", "precision", "recall",
                "f1", "brier"):
        value = metrics[key]
        table.add_row(key, f"{value:,}" if isinstance(value, int) else f"{value:.4f}")
    for name, recall in sorted(metrics["per_type_recall"].items()):
        table.add_row(f"recall · {name}", f"{recall:.3f}")
    c = metrics["confusion"]
    table.add_row("confusion tp/fp/fn/tn", f"{c['tp']:,} / {c['fp']:,} / {c['fn']:,} / {c['tn']:,}")
    Console().print(table)


@model.command("train")
@DATA
@MODELS_OUT
@click.option("--seed", type=int, default=None, help="Training seed [default: generation.seed].")
@click.option("--review-cost", type=click.FloatRange(min=0), default=50.0, show_default=True,
              help="INR cost of reviewing one flagged transaction.")
@click.option("--deploy/--no-deploy", default=True, show_default=True, help="Make the new version active.")
@click.option("--json", "as_json", is_flag=True, help="Print metrics.json (test weeks at the top) instead of a table.")
def train_cmd(data: Path, models: Path | None, seed: int | None, review_cost: float, deploy: bool,
              as_json: bool) -> None:
    """Train on the earliest 70 % of the data, choose the threshold on the next 15 %, test on the last 15 %."""
    from synfinance.model import registry
    from synfinance.model.fitting import fit_model
    from synfinance.model.threshold import Costs

    settings = load_settings().settings
    root = _models(models)
    fitted = fit_model(data, root, settings.generation.seed if seed is None else seed, settings.ml.num_threads,
                       Costs(review_inr=review_cost))
    if deploy:
        registry.deploy(root, fitted.version)
    if as_json:
        click.echo(json.dumps(fitted.metrics, indent=2, sort_keys=True, default=float))
        return
    show(f"model {fitted.version}: test weeks (threshold from validation weeks)", fitted.metrics["test"], False)
    click.echo(f"registered {root / fitted.version}" + (" (active)" if deploy else ""))


@model.command("evaluate")
@click.option("--model", "version", default=None, help="Version [default: active].")
@DATA
@MODELS
@click.option("--json", "as_json", is_flag=True)
def evaluate_cmd(version: str | None, data: Path, models: Path | None, as_json: bool) -> None:
    """Score a dataset (e.g. another seed: unseen customers) and compare with the model's own test weeks."""
    from synfinance.model import registry
    from synfinance.model.fitting import evaluate_on

    fraud_model = registry.load(_models(models), version)
    here = evaluate_on(fraud_model, data)
    trained_on = json.loads((_models(models) / fraud_model.version / "metrics.json").read_text())["test"]
    if as_json:
        click.echo(json.dumps({"this_dataset": here, "training_test_weeks": trained_on}, indent=2, default=float))
        return
    show(f"model {fraud_model.version} on {data}", here, False)
    keys = ("roc_auc", "pr_auc", "recall_at_1pct_fpr", "precision", "recall")
    click.echo("generalisation (training test weeks -> this dataset): " + ", ".join(
        f"{k} {trained_on[k]:.3f} -> {here[k]:.3f}" for k in keys))


@model.command("optimize")
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
    best, history = random_search(labelled, trials, seed, settings.ml.num_threads)
    for h in history:
        click.echo(f"trial {json.dumps(h['params'], sort_keys=True)}: valid PR-AUC {h['valid_pr_auc']:.4f}")
    fitted = fit_model(data, _models(models), seed, settings.ml.num_threads, overrides=best,
                       search={"best": best, "trials": history}, data=labelled)
    if deploy:
        registry.deploy(_models(models), fitted.version)
    click.echo(f"best {json.dumps(best, sort_keys=True)} -> {fitted.version}: test PR-AUC "
               f"{fitted.metrics['test']['pr_auc']:.4f}")


@model.command("deploy")
@click.argument("version")
@MODELS
def deploy_cmd(version: str, models: Path | None) -> None:
    """Make VERSION the active model (it must load against the current features)."""
    from synfinance.model import registry

    registry.deploy(_models(models), version)
    click.echo(f"{version} is now active")


@model.command("list")
@MODELS
def list_cmd(models: Path | None) -> None:
    """Registered versions with their test metrics; the active one is marked."""
    from synfinance.model import registry

    root = _models(models)
    active = registry.active_version(root)
    table = Table(title=f"models in {root}")
    for header in ("version", "created", "pr_auc", "roc_auc", "threshold", "active"):
        table.add_column(header)
    for version in registry.versions(root):
        meta_path = root / version / "metadata.json"
        if not meta_path.is_file():
            continue
        meta = json.loads(meta_path.read_text())
        table.add_row(version, meta["created_at"][:19], f"{meta['metrics']['pr_auc']:.4f}",
                      f"{meta['metrics']['roc_auc']:.4f}", f"{meta['threshold']:.2f}", "*" if version == active else "")
    Console().print(table)


@model.command("predict")
@click.option("--model", "version", default=None, help="Version [default: active].")
@DATA
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Directory for scores.parquet.")
@MODELS
def predict_cmd(version: str | None, data: Path, out: Path, models: Path | None) -> None:
    """Batch scoring: score, decision and top three reasons per transaction, to Parquet."""
    import pyarrow.parquet as pq

    from synfinance.model import registry
    from synfinance.model.data import feature_matrix
    from synfinance.model.decision import decide
    from synfinance.output.dataset import read_dataset
    from synfinance.output.files import atomic_path

    fraud_model = registry.load(_models(models), version)
    tables = read_dataset(data, verify=False)
    if "features" not in tables:
        raise OutputError(f"--data: {data} has no features; run `synfinance generate features --in {data}`")
    x = feature_matrix(tables["features"])
    score = fraud_model.predict(x)
    reasons = fraud_model.explain(x)
    result = pa.table({
        "transaction_id": tables["features"].column("transaction_id"),
        "score": score,
        "decision": pa.array(decide(score, fraud_model.threshold), pa.string()),
        "reasons": pa.array([[name for name, _ in r] for r in reasons], pa.list_(pa.string())),
        "model_version": pa.array([fraud_model.version] * len(score)),
    })
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "scores.parquet") as tmp:
        pq.write_table(result, tmp, compression="zstd")
    click.echo(f"scored {len(score):,} transactions with {fraud_model.version}: "
               f"{int((score >= fraud_model.threshold).sum()):,} to review -> {out / 'scores.parquet'}")
