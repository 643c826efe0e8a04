"""`synfinance calibration report` and `generate transactions --prevalence`: exit codes, JSON, what the summary
and the manifest say about prevalence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.population.calibration import calibration


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def rewritten(dataset: Path, out: Path, change: Callable[[pa.Table], pa.Table]) -> Path:
    """The dataset beside itself with every transaction part changed (the rest linked, the manifest as it was)."""
    out.mkdir()
    for entry in dataset.iterdir():
        if entry.name != "transactions":
            (out / entry.name).symlink_to(entry)
    (out / "transactions").mkdir()
    for part in sorted((dataset / "transactions").iterdir()):
        pq.write_table(change(pq.read_table(part)), out / "transactions" / part.name)
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calibration") / "ds"
    code, _, err = run("generate", "transactions", "--count", "200000", "--seed", "2", "--quiet", "--out", str(out))
    assert code == 0, err
    return out


def test_a_default_dataset_is_inside_every_tolerance(dataset: Path) -> None:
    code, stdout, _ = run("calibration", "report", "--in", str(dataset), "--json")
    report = json.loads(stdout)
    assert code == 0 and report["outside"] == []
    assert [f["id"] for f in report["figures"]] == [f.id for f in calibration().figures]
    upi = next(f for f in report["figures"] if f["id"] == "upi_share")
    assert upi["status"] == "inside" and upi["sources"][0]["publisher"] == "Reserve Bank of India"
    prevalence = next(f for f in report["figures"] if f["id"] == "fraud_prevalence_upi")
    assert prevalence["status"].startswith("not judged: fraud oversampled")


def test_a_drifted_dataset_exits_1_naming_the_figures(dataset: Path, tmp_path: Path) -> None:
    # setup: the same dataset with half its UPI payments rewritten as debit-card ones (a card market)
    def to_cards(table: pa.Table) -> pa.Table:
        mode = table.column("payment_mode")
        half = pa.array([i % 2 == 0 for i in range(table.num_rows)])
        card = pc.if_else(pc.and_(half, pc.equal(mode, "UPI")), "Debit Card", mode)
        return table.set_column(table.schema.get_field_index("payment_mode"), "payment_mode", card)

    drifted = rewritten(dataset, tmp_path / "drifted", to_cards)
    # run
    code, stdout, _ = run("calibration", "report", "--in", str(drifted))
    # check
    assert code == 1
    assert "outside tolerance: upi_share" in stdout and "debit_card_share" in stdout


def test_published_prevalence_is_one_flag_and_the_manifest_says_so(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    code, stdout, _ = run("generate", "transactions", "--count", "20000", "--seed", "3", "--prevalence", "published",
                          "--out", str(out), "--json")
    assert code == 0
    summary = json.loads(stdout)
    published = calibration().model.published_fraud_rate
    assert summary["prevalence"]["fraud_rate"] == published and summary["prevalence"]["oversampling"] == 1.0
    assert json.loads((out / "manifest.json").read_text())["prevalence"]["expected_fraud_rows"] == pytest.approx(
        20000 * published, abs=1e-3)


def test_the_summary_says_how_oversampled_and_what_a_tiny_count_gave(tmp_path: Path) -> None:
    code, stdout, _ = run("generate", "transactions", "--count", "20000", "--seed", "3", "--out", str(tmp_path / "a"))
    assert code == 0 and "×2,353 the published 8.5 per million" in stdout
    code, stdout, _ = run("generate", "transactions", "--count", "20000", "--seed", "3", "--fraud-rate", "0.000001",
                          "--out", str(tmp_path / "b"), "--json")
    prevalence = json.loads(stdout)["prevalence"]
    assert code == 0 and prevalence["expected_fraud_rows"] == 0.02 and prevalence["generated_fraud_rows"] == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(("--prevalence", "published", "--fraud-rate", "0.01"), "--prevalence or --fraud-rate",
                     id="both"),
        pytest.param(("--fraud-rate", "0.5"), "--fraud-rate: expected a share", id="above-oversampling"),
        pytest.param(("--fraud-rate", "0.0000001"), "one per million", id="below-one-per-million"),
        pytest.param(("--prevalence", "typical"), "typical", id="unknown-preset"),
    ],
)
def test_bad_prevalence_is_refused_naming_it(tmp_path: Path, args: tuple[str, ...], named: str) -> None:
    result = CliRunner().invoke(main, ["generate", "transactions", "--count", "1000", "--out", str(tmp_path / "x"),
                                       *args])
    assert result.exit_code != 0 and named in result.stdout + result.stderr
    assert not (tmp_path / "x").exists()


def test_quality_run_warns_when_realism_drifts(dataset: Path, tmp_path: Path) -> None:
    def tripled(table: pa.Table) -> pa.Table:
        kind = table.schema.field("amount_inr").type
        amount = pc.cast(pc.multiply(table.column("amount_inr"), pa.scalar(3, kind)), kind)
        return table.set_column(table.schema.get_field_index("amount_inr"), "amount_inr", amount)

    drifted = rewritten(dataset, tmp_path / "drifted", tripled)
    _, stdout, _ = run("quality", "run", "--in", str(drifted), "--json")  # the clean case: test_validators.py
    found = {f["validator"]: f for f in json.loads(stdout)["validators"]}["calibration"]
    assert {v["severity"] for v in found["violations"]} == {"warning"}
    assert any("average UPI person-to-merchant ticket" in v["message"] for v in found["violations"])
    assert found["metrics"]["calibration_outside"] == len(found["violations"]) > 0
