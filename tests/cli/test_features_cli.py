"""`generate transactions --features` and `generate features --in` over the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.output.dataset import read_dataset


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_features_during_and_after_generation_are_the_same_bytes(tmp_path: Path) -> None:
    with_features, plain = tmp_path / "a", tmp_path / "b"
    assert (
        run("generate", "transactions", "--count", "6000", "--out", str(with_features), "--features", "--quiet")[0] == 0
    )
    assert run("generate", "transactions", "--count", "6000", "--out", str(plain), "--quiet")[0] == 0
    code, stdout, stderr = run("generate", "features", "--in", str(plain), "--quiet")
    assert code == 0, stderr
    a = json.loads((with_features / "manifest.json").read_text())
    b = json.loads((plain / "manifest.json").read_text())
    assert {f["path"]: f["sha256"] for f in a["files"]} == {f["path"]: f["sha256"] for f in b["files"]}
    assert a["features"]["count"] == 69
    tables = read_dataset(plain)
    assert tables["features"].num_rows == tables["transactions"].num_rows
    assert tables["features"].column("transaction_id").equals(tables["transactions"].column("transaction_id"))


def test_features_refuse_a_broken_dataset_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    assert run("generate", "transactions", "--count", "3000", "--out", str(out), "--quiet")[0] == 0
    part = next((out / "transactions").glob("part-*.parquet"))
    table = pq.read_table(part)
    pq.write_table(table.take(list(reversed(range(table.num_rows)))), part)  # out of time order
    code, _, stderr = run("generate", "features", "--in", str(out))
    assert code == 2
    assert "column 'timestamp' must be in time order" in stderr and stderr.count("\n") == 1
    assert list((out / "features").iterdir()) == []
    assert "features" not in json.loads((out / "manifest.json").read_text())


def test_features_need_a_dataset(tmp_path: Path) -> None:
    code, _, stderr = run("generate", "features", "--in", str(tmp_path))
    assert code == 2 and "--in" in stderr and "not a complete SynFinance dataset" in stderr


def test_features_of_a_csv_dataset_equal_those_of_parquet(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        code, _, stderr = run("generate", "transactions", "--count", "3000", "--format", fmt, "--features",
                              "--out", str(tmp_path / fmt), "--quiet")
        assert code == 0, stderr
    from_csv, from_parquet = read_dataset(tmp_path / "csv")["features"], read_dataset(tmp_path / "parquet")["features"]
    assert from_csv.equals(from_parquet)
