"""`synfinance generate ...` over the real entry point: success paths and every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.output.dataset import read_dataset


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_generate_transactions_writes_a_complete_dataset(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    code, stdout, _ = run("generate", "transactions", "--count", "2500", "--seed", "9", "--out", str(out))
    assert code == 0
    assert "2,500" in stdout and "manifest" in stdout
    tables = read_dataset(out)
    assert tables["transactions"].num_rows == 2500
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 9 and manifest["counts"]["transactions"] == 2500


def test_end_date_sets_the_range(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    code, _, _ = run(
        "generate",
        "transactions",
        "--count",
        "500",
        "--start",
        "2025-12-20",
        "--end",
        "2025-12-31",
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0
    dates = read_dataset(out)["transactions"].column("local_date").to_pylist()
    assert min(dates).isoformat() >= "2025-12-20" and max(dates).isoformat() <= "2025-12-31"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
@pytest.mark.parametrize("what", ["customers", "merchants"])
def test_generate_population_tables(tmp_path: Path, what: str, fmt: str) -> None:
    target = tmp_path / f"{what}.{fmt}"
    code, stdout, _ = run("generate", what, "--count", "400", "--format", fmt, "--out", str(target))
    assert code == 0, stdout
    assert target.is_file() and "400" in stdout


def _unwritable(tmp_path: Path) -> str:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return str(blocker / "ds")


BAD_INPUT = [
    pytest.param(["--count", "0"], "--count: expected an integer from 1", id="count-zero"),
    pytest.param(["--count", "-5"], "--count: expected an integer from 1", id="count-negative"),
    pytest.param(["--count", "many"], "'--count'", id="count-not-a-number"),
    pytest.param(["--count", "10", "--start", "2025-02-30"], "'--start': expected a date YYYY-MM-DD", id="bad-date"),
    pytest.param(
        ["--count", "10", "--start", "01/02/2025"], "'--start': expected a date YYYY-MM-DD", id="bad-date-format"
    ),
    pytest.param(
        ["--count", "10", "--start", "2025-10-10", "--end", "2025-10-01"],
        "--end: expected a date on or after",
        id="reversed-dates",
    ),
    pytest.param(
        ["--count", "10", "--end", "2025-10-05", "--days", "3"],
        "--end: expected either --end or --days",
        id="conflicting-end-days",
    ),
    pytest.param(
        ["--count", "10", "--start", "2019-06-01"], "--start: expected a date from 2020-01-01", id="before-calendar"
    ),
    pytest.param(
        ["--count", "10", "--start", "2030-12-01", "--days", "60"],
        "--days: expected a range ending by",
        id="past-calendar",
    ),
    pytest.param(["--count", "10", "--format", "xml"], "'--format'", id="unknown-format"),
    pytest.param(
        ["--count", "10", "--merchants", "10"], "--merchants: expected an integer from 338", id="too-few-merchants"
    ),
    pytest.param(
        ["--count", "100000", "--customers", "1", "--days", "10"],
        "--customers: expected at least 200",
        id="too-few-customers",
    ),
    pytest.param(["--count", "10", "--seed", "-1"], "--seed: expected an integer from 0", id="negative-seed"),
    pytest.param(["--count", "10", "--out", "UNWRITABLE"], "--out: cannot create", id="unwritable-out"),
    pytest.param(
        ["--count", "10", "--fraud-types", "card_testing,teleport"],
        "--fraud-types: expected names from: account_takeover, amount_manipulation",
        id="unknown-fraud-type",
    ),
    pytest.param(
        ["--count", "10", "--fraud-rate", "0.3"],
        "--fraud-rate: expected a share from 1e-06 (one per million, real-world prevalence) to 0.2",
        id="fraud-rate-out-of-range",
    ),
    pytest.param(
        ["--count", "10", "--difficulty", "brutal"],
        "--difficulty: expected one of easy, realistic, hard",
        id="unknown-difficulty",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_exits_2_with_one_clear_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "ds"
    args = [a if a != "UNWRITABLE" else _unwritable(tmp_path) for a in args]
    if "--out" not in args:
        args += ["--out", str(out)]
    code, stdout, stderr = run("generate", "transactions", *args)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert "Traceback" not in stderr + stdout
    assert not out.exists()
    assert not (tmp_path / "a-file" / "ds").exists()


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    code, _, stderr = run(
        "generate", "transactions", "--count", "0", "--days", "0", "--merchants", "5", "--out", str(tmp_path / "ds")
    )
    assert code == 2
    lines = stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["--count", "--days", "--merchants"]


def test_out_that_holds_foreign_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    code, _, stderr = run("generate", "transactions", "--count", "10", "--out", str(tmp_path))
    assert code == 2 and "not part of a SynFinance dataset" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"]


def test_console_script_reports_version_and_errors_without_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "synfinance"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("synfinance, version ")
    bad = subprocess.run(
        [exe, "generate", "transactions", "--count", "x"], capture_output=True, text=True, cwd=tmp_path
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_generate_customers_rejects_a_directory_as_out(tmp_path: Path) -> None:
    code, _, stderr = run("generate", "customers", "--count", "10", "--out", str(tmp_path))
    assert code == 2 and "--out" in stderr and "is a directory" in stderr


def test_written_population_file_conforms(tmp_path: Path) -> None:
    target = tmp_path / "m.parquet"
    run("generate", "merchants", "--count", "338", "--out", str(target))
    assert pq.read_table(target).num_rows == 338


def test_pattern_flags_reach_the_dataset(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    code, _, stderr = run(
        "generate",
        "transactions",
        "--count",
        "20000",
        "--fraud-rate",
        "0.03",
        "--difficulty",
        "easy",
        "--fraud-types",
        "card_testing,velocity_abuse",
        "--out",
        str(out),
        "--quiet",
    )
    assert code == 0, stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["difficulty"] == "easy"
    assert manifest["parameters"]["fraud_types"] == ["card_testing", "velocity_abuse"]
    txns = read_dataset(out)["transactions"]
    assert set(txns.column("fraud_type").unique().to_pylist()) - {None} == {"card_testing", "velocity_abuse"}


def test_no_patterns_writes_empty_labels(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    assert run("generate", "transactions", "--count", "3000", "--no-patterns", "--out", str(out), "--quiet")[0] == 0
    txns = read_dataset(out)["transactions"]
    assert not any(txns.column("is_fraud").to_pylist()) and not any(txns.column("is_anomaly").to_pylist())
