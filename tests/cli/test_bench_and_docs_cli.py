"""`synfinance bench ...`: each command's --help example prints its table and one parsable JSON line with the
contracted keys (and --json that line alone)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from examples import example

from synfinance.cli import main


def test_bench_generate_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, example("bench", "generate"))
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


def test_bench_features_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, [*example("bench", "features"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # --json: the line alone
    for key in ("batch_rows_per_s", "online_p50_ms", "online_p99_ms", "peak_rss_mb", "state_mb", "state_mb_double"):
        assert summary[key] > 0, key
    assert summary["online_p50_ms"] <= summary["online_p99_ms"]


@pytest.mark.postgres
def test_bench_db_prints_the_contracted_json_line(pg_url: str) -> None:
    result = CliRunner().invoke(main, [*example("bench", "db"), "--json"],
                                env={"SYNFINANCE_DATABASE__URL": pg_url})
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    for key in ("copy_rows_per_s", "get_by_id_p99_ms", "page_query_p99_ms", "reload_s", "floor_p99_ms"):
        assert summary[key] > 0, key
    assert len(summary["runs_load_s"]) == 3


@pytest.mark.ray
@pytest.mark.soak  # 90 s on 2 cores (three pipelines, three runs each, each a Ray of its own): over the suite's budget
def test_bench_pipeline_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, [*example("bench", "pipeline"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    for key in ("workers_1_rows_per_s", "workers_2_rows_per_s", "speedup", "peak_rss_mb_1m", "peak_rss_mb_10m",
                "cpu_us_per_row_in_process", "cpu_us_per_row_workers_1", "cpu_us_per_row_workers_2"):
        assert summary[key] > 0, key
    assert summary["speedup"] == round(summary["workers_2_rows_per_s"] / summary["workers_1_rows_per_s"], 2)
    # CPU per row sums every process: with Ray it is at least the in-process path's computation, and the
    # overhead is its ratio (the workers' CPU is read from the actors, so 0 there would mean it was not)
    assert summary["cpu_us_per_row_workers_2"] > 0.5 * summary["cpu_us_per_row_in_process"]
    assert summary["ray_overhead"] == round(summary["cpu_us_per_row_workers_2"]
                                            / summary["cpu_us_per_row_in_process"], 3)


def test_bench_quality_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, [*example("bench", "quality"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # --json: the line alone
    for key in ("check_seconds_1m", "read_seconds_1m", "check_to_read", "peak_rss_mb"):
        assert summary[key] > 0, key
    assert set(summary["validator_seconds_1m"]) >= {"schema", "ranges", "drift", "parity"}


def test_bench_model_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, [*example("bench", "model"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    for key in ("batch_predict_rows_per_s", "predict_1m_seconds"):
        assert summary[key] > 0, key
    assert len(summary["runs_train_seconds"]) == summary["runs"] == 3


@pytest.mark.soak  # minutes of Serve load on both cores: `synfinance bench api` is run by hand for issue figures
def test_bench_api_prints_the_contracted_json_line() -> None:
    result = CliRunner().invoke(main, example("bench", "api"))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("floor_p50_ms", "score_p50_ms", "score_p99_ms", "max_score_rate_per_s", "arrow_batch_rows_per_s"):
        assert summary[key] > 0, key
    assert summary["score_errors"] == 0
