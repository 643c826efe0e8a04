"""`synfinance bench generate` prints its table and one parsable JSON line; `docs build --check` agrees."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from synfinance.cli import main


def test_bench_generate_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, ["bench", "generate", "--count", "20000", "--runs", "3"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("rows_per_s", "peak_rss_mb", "floor_rows_per_s", "ratio_to_floor"):
        assert summary[key] > 0, key
    assert len(summary["runs_rows_per_s"]) == 3
    assert summary["ratio_to_floor"] == round(summary["rows_per_s"] / summary["floor_rows_per_s"], 3)
    assert "floor" in result.stdout


def test_bench_refuses_fewer_than_three_runs() -> None:
    result = CliRunner().invoke(main, ["bench", "generate", "--runs", "1"])
    assert result.exit_code == 2 and "--runs" in result.stderr


def test_docs_check_reports_current_pages() -> None:
    result = CliRunner().invoke(main, ["docs", "build", "--check"])
    assert result.exit_code == 0, result.stderr


def test_bench_features_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, ["bench", "features", "--count", "5000", "--runs", "3"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("batch_rows_per_s", "online_p50_ms", "online_p99_ms", "peak_rss_mb", "state_mb", "state_mb_double"):
        assert summary[key] > 0, key
    assert summary["online_p50_ms"] <= summary["online_p99_ms"]


@pytest.mark.postgres
def test_bench_db_prints_the_contracted_json_line(pg_url: str) -> None:
    result = CliRunner().invoke(main, ["bench", "db", "--count", "10000", "--runs", "3"],
                                env={"SYNFINANCE_DATABASE__URL": pg_url})
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("copy_rows_per_s", "get_by_id_p99_ms", "page_query_p99_ms", "reload_s", "floor_p99_ms"):
        assert summary[key] > 0, key
    assert len(summary["runs_load_s"]) == 3


@pytest.mark.ray
@pytest.mark.slow
def test_bench_pipeline_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, ["bench", "pipeline", "--count", "10000", "--large", "20000", "--runs", "3"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("workers_1_rows_per_s", "workers_2_rows_per_s", "speedup", "peak_rss_mb_1m", "peak_rss_mb_10m",
                "cpu_us_per_row_in_process", "cpu_us_per_row_workers_1", "cpu_us_per_row_workers_2"):
        assert summary[key] > 0, key
    assert summary["speedup"] == round(summary["workers_2_rows_per_s"] / summary["workers_1_rows_per_s"], 2)
    # CPU per row sums every process: with Ray it is at least the in-process path's computation, and the
    # overhead is its ratio (the workers' CPU is read from the actors, so 0 there would mean it was not)
    assert summary["cpu_us_per_row_workers_2"] > 0.5 * summary["cpu_us_per_row_in_process"]
    assert summary["ray_overhead"] == round(summary["cpu_us_per_row_workers_2"]
                                            / summary["cpu_us_per_row_in_process"], 3)
