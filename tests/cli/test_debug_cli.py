"""`synfinance debug`: a trace as a tree, a transaction explained, a command profiled; clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner
from examples import example

from synfinance.cli import main
from synfinance.generation import GenerationParams
from synfinance.model import registry
from synfinance.model.fitting import fit_model
from synfinance.observability import tracing
from synfinance.runner import write_dataset
from synfinance.schema import FEATURE_NAMES
from synfinance.settings.models import TracingConfig


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("debug")
    data, models = root / "ds", root / "models"
    write_dataset(GenerationParams(count=30_000, seed=4, customers=400, merchants=900), data, features=True)
    registry.deploy(models, fit_model(data, models, seed=1, num_threads=2).version)
    return data, models


def test_a_trace_as_a_tree(tmp_path: Path) -> None:
    tracing.setup(TracingConfig(exporter="file", file_dir=str(tmp_path)), "test")
    try:
        with tracing.span("request") as root, tracing.span("features"), tracing.span("model.predict"):
            pass
        trace_id = f"{root.get_span_context().trace_id:032x}"
    finally:
        tracing.setup(TracingConfig(), "test")
    # the --help example, with this trace's id in place of the example's
    args = [trace_id if len(word) == 32 else word for word in example("debug", "inspect", "trace")]
    code, out, _ = invoke(*args, "--dir", str(tmp_path), "--json")
    assert code == 0
    assert [(s["span"], s["depth"]) for s in json.loads(out)] == [("request", 0), ("features", 1),
                                                                 ("model.predict", 2)]
    code, _, err = invoke("debug", "inspect", "trace", "0" * 32, "--dir", str(tmp_path))
    assert code == 1 and "no span of trace" in err


def test_a_transaction_explained_with_its_features_and_the_models_view(trained: tuple[Path, Path]) -> None:
    data, models = trained
    txns = ds.dataset(data / "transactions").to_table()
    fraud = txns.filter(pc.equal(txns["is_fraud"], True)).slice(0, 1).to_pylist()[0]
    code, out, err = invoke("debug", "inspect", "transaction", fraud["transaction_id"], "--data", str(data),
                            "--models", str(models), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["transaction"]["customer_id"] == fraud["customer_id"]
    assert report["label"]["is_fraud"] is True and isinstance(report["label"]["fraud_evidence"], dict)
    assert [f["name"] for f in report["features"]] == list(FEATURE_NAMES)
    stored = ds.dataset(data / "features").to_table(
        filter=pc.field("transaction_id") == fraud["transaction_id"]).to_pylist()[0]
    assert all(f["value"] == (None if stored[f["name"]] is None else round(stored[f["name"]], 6))
               for f in report["features"])
    assert report["model"]["decision"] in ("approve", "review", "decline") and report["model"]["reasons"]
    code, _, err = invoke("debug", "inspect", "transaction", "TXN-nope", "--data", str(data))
    assert code == 1 and "no transaction 'TXN-nope'" in err


def test_a_command_profiled_by_function_stage_and_memory(tmp_path: Path) -> None:
    code, out, err = invoke("debug", "profile", "--memory", "--json", "--top", "5", "--", "generate",
                            "transactions", "--count", "3000", "--out", str(tmp_path / "ds"), "--quiet")
    assert code == 0, err
    report = json.loads(out)
    assert (tmp_path / "ds" / "manifest.json").is_file()  # the command really ran
    assert {s["stage"] for s in report["stages"]} >= {"shard.generate", "shard.write"}
    assert len(report["cpu"]) == 5 and all("click" not in r["function"] for r in report["cpu"])
    assert report["memory"] and report["seconds"] > 0


def test_profile_needs_a_command_or_a_process() -> None:
    code, _, err = invoke("debug", "profile")
    assert code == 2 and "command" in err


@pytest.mark.skipif(shutil.which("py-spy") is not None, reason="py-spy is installed here")
def test_sampling_a_live_process_without_py_spy_says_how() -> None:
    code, _, err = invoke("debug", "profile", "--replica", "Ingress")
    assert code != 0 and "pip install py-spy" in err
