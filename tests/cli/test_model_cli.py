"""`synfinance model ...` end to end on a small dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.model import registry
from synfinance.model.decision import decide


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
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
    scores = pq.read_table(tmp_path / "scores" / "scores.parquet")
    assert scores.num_rows == 60000 and set(scores.column("decision").unique().to_pylist()) <= {
        "approve", "review", "decline"}
    assert scores.column("decision").to_pylist() == decide(scores.column("score").to_numpy(),
                                                           registry.load(models).threshold).tolist()
    assert all(len(r) == 3 for r in scores.column("reasons").to_pylist()[:100])


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
