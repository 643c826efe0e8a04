"""`synfinance model ...` end to end on a small dataset."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.model import registry
from synfinance.output.dataset import read_dataset
from synfinance.schema import PREDICTION_SCHEMA
from synfinance.store.connect import Database
from synfinance.store.load import load_dataset


def run(*args: str) -> tuple[int, str, str]:
    return run_env({}, *args)


def run_env(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli-model") / "ds"
    code, _, stderr = run(
        "generate",
        "transactions",
        "--count",
        "60000",
        "--fraud-rate",
        "0.03",
        "--features",
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0, stderr
    return out


def test_train_list_evaluate_predict(data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    code, stdout, stderr = run("model", "train", "--data", str(data), "--models", str(models), "--json")
    assert code == 0, stderr
    metrics = json.loads(stdout)
    assert {"roc_auc", "pr_auc", "recall_at_1pct_fpr", "per_type_recall"} <= set(metrics)
    code, stdout, _ = run("model", "list", "--models", str(models))
    assert code == 0 and "v0001" in stdout and "*" in stdout
    code, stdout, _ = run("model", "evaluate", "--data", str(data), "--models", str(models))
    assert code == 0 and "generalisation" in stdout
    code, stdout, _ = run(
        "model", "predict", "--data", str(data), "--out", str(tmp_path / "scores"), "--models", str(models)
    )
    assert code == 0, stdout
    scores = pq.read_table(tmp_path / "scores" / "predictions.parquet")
    assert scores.schema.equals(PREDICTION_SCHEMA, check_metadata=False) and scores.num_rows == 60000
    decisions = scores.column("decision").to_numpy(zero_copy_only=False)
    policy = registry.load(models).policy
    assert decisions.tolist() == policy.decide(scores.column("fraud_probability").to_numpy()).tolist()
    assert {"approve", "review"} <= set(decisions.tolist())
    # explanations where a decision needs one (the default): every flagged row has 3 reasons, no approved row any
    explained = np.array([len(r) for r in scores.column("reasons").to_pylist()])
    assert (explained[decisions != "approve"] == 3).all() and (explained[decisions == "approve"] == 0).all()


def test_model_errors_are_one_line(tmp_path: Path) -> None:
    code, _, stderr = run("model", "deploy", "v0007", "--models", str(tmp_path))
    assert code == 2 and stderr.count("\n") == 1 and "v0007" in stderr
    code, _, stderr = run("model", "evaluate", "--data", str(tmp_path), "--models", str(tmp_path))
    assert code == 2 and "no active model" in stderr


def test_optimize_searches_then_registers_the_best(data: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    code, stdout, stderr = run("model", "optimize", "--data", str(data), "--models", str(models), "--trials", "2",
                               "--seed", "4")
    assert code == 0, stderr
    assert stdout.count("trial ") == 2 and "-> v0001" in stdout
    metrics = json.loads((models / "v0001" / "metrics.json").read_text())
    assert len(metrics["search"]["trials"]) == 2
    assert metrics["search"]["best"] in [t["params"] for t in metrics["search"]["trials"]]


@pytest.fixture(scope="module")
def trained(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with one version trained on `data` and deployed."""
    models = tmp_path_factory.mktemp("trained") / "models"
    code, _, stderr = run("model", "train", "--data", str(data), "--models", str(models))
    assert code == 0, stderr
    return models


def test_train_prints_the_policy_and_its_outcomes(data: Path, tmp_path: Path) -> None:
    code, stdout, stderr = run("model", "train", "--data", str(data), "--models", str(tmp_path / "m"),
                               "--review-rate", "0.02")
    assert code == 0, stderr
    assert "sent to review" in stdout and "precision of flagged" in stdout and "recall of flagged" in stdout
    assert "policy (budget 2.00%" in stdout


@pytest.mark.parametrize(("args", "option"), [
    pytest.param(["--review-rate", "0"], "--review-rate", id="no-budget"),
    pytest.param(["--decline-precision", "1.5"], "--decline-precision", id="precision"),
    pytest.param(["--review-cost", "-3"], "--review-cost", id="negative-cost"),
])
def test_bad_policy_options_are_one_line_naming_the_option(trained: Path, args: list[str], option: str) -> None:
    code, _, stderr = run("model", "deploy", "v0001", "--models", str(trained), *args)
    assert code == 2 and stderr.count("\n") == 1 and option in stderr, stderr


def test_deploy_rechooses_the_policy_without_retraining(trained: Path) -> None:
    before = registry.load(trained).policy
    code, stdout, stderr = run("model", "deploy", "v0001", "--models", str(trained), "--review-rate", "0.002")
    assert code == 0, stderr
    after = registry.load(trained).policy
    assert after.review_rate == 0.002 and after.review_at > before.review_at and "sent to review" in stdout
    assert registry.versions(trained) == ["v0001"]  # nothing retrained
    run("model", "deploy", "v0001", "--models", str(trained), "--review-rate", str(before.review_rate))


def test_generate_with_score_equals_model_predict(trained: Path, tmp_path: Path) -> None:
    # setup: a new dataset scored as it is generated, then scored again from its stored features
    out = tmp_path / "ds"
    code, _, stderr = run_env({"SYNFINANCE_ML__REGISTRY_PATH": str(trained)}, "generate", "transactions",
                              "--count", "20000", "--seed", "9", "--customers", "400", "--features", "--score",
                              "--out", str(out), "--quiet")
    assert code == 0, stderr
    code, _, stderr = run("model", "predict", "--data", str(out), "--models", str(trained), "--out",
                          str(tmp_path / "p"), "--quiet")
    assert code == 0, stderr
    # check
    generated = read_dataset(out)["predictions"]
    predicted = pq.read_table(tmp_path / "p" / "predictions.parquet")
    assert generated.equals(predicted)  # same probabilities, decisions, reasons, scored_at (the transaction's time)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["predictions"]["model_version"] == "v0001"


@pytest.mark.postgres
def test_a_scored_dataset_loads_its_predictions_into_postgresql(trained: Path, tmp_path: Path, db: Database) -> None:
    out = tmp_path / "ds"
    code, _, stderr = run_env({"SYNFINANCE_ML__REGISTRY_PATH": str(trained)}, "generate", "transactions",
                              "--count", "6000", "--seed", "12", "--customers", "150", "--score", "--out", str(out),
                              "--quiet")
    assert code == 0, stderr
    asyncio.run(load_dataset(db, out))
    stored = asyncio.run(fetch_rows(db, "SELECT transaction_id, fraud_probability, decision, reasons::text AS reasons "
                                        "FROM predictions ORDER BY transaction_id"))
    expected = read_dataset(out)["predictions"].sort_by("transaction_id")
    assert [r["transaction_id"] for r in stored] == expected.column("transaction_id").to_pylist()
    assert [r["fraud_probability"] for r in stored] == expected.column("fraud_probability").to_pylist()
    assert [r["decision"] for r in stored] == expected.column("decision").to_pylist()
    assert [json.loads(r["reasons"]) for r in stored] == expected.column("reasons").to_pylist()


async def fetch_rows(db: Database, sql: str) -> list[dict]:
    conn = await db.connect()
    try:
        return [dict(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def test_score_needs_a_model_and_parquet(tmp_path: Path) -> None:
    code, _, stderr = run_env({"SYNFINANCE_ML__REGISTRY_PATH": str(tmp_path / "none")}, "generate", "transactions",
                              "--count", "1000", "--score", "--out", str(tmp_path / "ds"))
    assert code == 2 and "no active model" in stderr
    assert not (tmp_path / "ds").exists()  # refused before any work
    code, _, stderr = run("generate", "transactions", "--count", "1000", "--score", "--format", "csv",
                          "--out", str(tmp_path / "ds"))
    assert code == 2 and "--score" in stderr


def test_stream_with_score_sends_each_prediction_with_its_transaction(trained: Path) -> None:
    code, stdout, stderr = run_env({"SYNFINANCE_ML__REGISTRY_PATH": str(trained)}, "stream", "--rate", "2000",
                                   "--duration", "1", "--score")
    assert code == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert len(lines) >= 1000 and all(line["model_version"] == "v0001" for line in lines)
    policy = registry.load(trained).policy
    assert [line["decision"] for line in lines] == policy.decide(
        np.array([line["fraud_probability"] for line in lines])).tolist()


def test_evaluate_writes_a_report_page_with_its_charts(trained: Path, data: Path, tmp_path: Path) -> None:
    code, _, stderr = run("model", "evaluate", "--data", str(data), "--models", str(trained), "--report",
                          str(tmp_path / "report"))
    assert code == 0, stderr
    page = (tmp_path / "report" / "index.html").read_text()
    for chart in ("precision-recall", "score-histogram", "recall-by-type", "confusion"):
        png = (tmp_path / "report" / f"{chart}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5_000  # a drawn chart, not an empty canvas
        assert f'id="{chart}"' in page and "data:image/png;base64," in page
