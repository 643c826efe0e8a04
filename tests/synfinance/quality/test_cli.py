"""`synfinance quality run | baseline | history`: reports written, exit codes, runs kept in a file or PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pg_schemas import count_rows

from synfinance.cli import main
from synfinance.store.connect import Database


@pytest.fixture(autouse=True)
def quiet_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """History, benchmarks and models of this test only (never the developer's)."""
    monkeypatch.setenv("SYNFINANCE_QUALITY__HISTORY_PATH", str(tmp_path / "history.jsonl"))
    monkeypatch.setenv("SYNFINANCE_QUALITY__BENCH_DIR", str(tmp_path / "bench"))
    monkeypatch.setenv("SYNFINANCE_ML__REGISTRY_PATH", str(tmp_path / "models"))
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_writes_the_report_and_keeps_the_run(quality_dir: Path, tmp_path: Path) -> None:
    code, out, err = invoke("quality", "run", "--in", str(quality_dir), "--report", str(tmp_path / "r"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["passed"] and report["score"] >= 80
    assert {g["name"]: g["status"] for g in report["gates"]}["fraud-rate"] == "pass"
    assert {g["name"]: g["status"] for g in report["gates"]}["model-pr-auc"] == "no data"  # no model here
    assert json.loads((tmp_path / "r" / "report.json").read_text())["run_id"] == report["run_id"]
    assert (tmp_path / "r" / "report.md").read_text().startswith("# Data quality")
    assert "<img" in (tmp_path / "r" / "index.html").read_text()
    # a second run sees the first in its trend, and the history lists both, newest first
    code, out, _ = invoke("quality", "run", "--in", str(quality_dir), "--json")
    assert code == 0 and [t["run_id"] for t in json.loads(out)["trend"]] == [report["run_id"]]
    code, out, _ = invoke("quality", "history", "--json")
    runs = json.loads(out)
    assert code == 0 and len(runs) == 2 and runs[1]["run_id"] == report["run_id"]


@pytest.mark.parametrize(("blocking", "code"), [pytest.param("true", 1, id="blocking"),
                                                 pytest.param("false", 0, id="warning-only")])
def test_a_failed_gate_fails_the_run_when_it_blocks(quality_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, blocking: str, code: int) -> None:
    gates = tmp_path / "gates.yaml"
    gates.write_text(f"- {{name: tiny-fraud, metric: fraud_rate, max: 0.001, blocking: {blocking}}}\n")
    monkeypatch.setenv("SYNFINANCE_QUALITY__GATES_PATH", str(gates))
    got, out, _ = invoke("quality", "run", "--in", str(quality_dir), "--json")
    assert got == code
    assert {g["name"]: g["status"] for g in json.loads(out)["gates"]}["tiny-fraud"] == "fail"


@pytest.mark.parametrize(("args", "named"), [
    pytest.param(("--in", "{data}", "--count", "5000"), "--count", id="in-and-count"),
    pytest.param(("--count", "10"), "--count", id="count-too-small"),
    pytest.param(("--in", "{missing}"), "manifest", id="not-a-dataset"),
    pytest.param(("--in", "{data}", "--baseline", "{missing}"), "--baseline", id="no-baseline"),
])
def test_usage_errors_exit_2_with_one_line(quality_dir: Path, tmp_path: Path, args: tuple[str, ...],
                                            named: str) -> None:
    filled = [a.format(data=quality_dir, missing=tmp_path / "nowhere") for a in args]
    code, out, err = invoke("quality", "run", *filled)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and named in err, err


def test_a_wrong_gates_path_is_a_usage_error(quality_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    gates = tmp_path / "gates.yaml"
    gates.write_text("- {name: x, metric: fraud_rate}\n")
    monkeypatch.setenv("SYNFINANCE_QUALITY__GATES_PATH", str(gates))
    code, _, err = invoke("quality", "run", "--in", str(quality_dir))
    assert code == 2 and "give min, max or both" in err


def test_baseline_then_run_against_it(quality_dir: Path, tmp_path: Path) -> None:
    code, _, err = invoke("quality", "baseline", "--in", str(quality_dir), "--out", str(tmp_path / "base"))
    assert code == 0, err
    code, out, err = invoke("quality", "run", "--in", str(quality_dir), "--baseline", str(tmp_path / "base"),
                            "--json")
    regression = json.loads(out)["regression"]
    assert code == 0 and regression["passed"] and regression["compared"]["distribution"] >= 70, err


def test_runs_are_kept_in_postgresql_when_it_is_on(quality_dir: Path, db: Database,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNFINANCE_DATABASE__ENABLED", "true")
    monkeypatch.setenv("SYNFINANCE_DATABASE__URL", db.url)
    monkeypatch.setenv("SYNFINANCE_DATABASE__SCHEMA_NAME", db.schema)
    code, out, err = invoke("quality", "run", "--in", str(quality_dir), "--json")
    assert code == 0, err
    assert asyncio.run(count_rows(db, "quality_runs")) == 1
    code, listed, _ = invoke("quality", "history", "--json")
    assert code == 0 and [r["run_id"] for r in json.loads(listed)] == [json.loads(out)["run_id"]]
