"""The regression comparison: another seed of the baseline's configuration passes; a real shift fails; model,
latency and memory figures fail only beyond both their test and their floor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synfinance.quality.regression import regress

BASELINES = Path(__file__).parents[2] / "regression" / "baselines"
CLI = [sys.executable, "-m", "synfinance"]


def _quality(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "quality", "run", "--baseline", str(BASELINES), "--json", *args],
                          capture_output=True, text=True, check=False, cwd=cwd)


def _generate(out: Path, *args: str) -> Path:
    subprocess.run([*CLI, "generate", "transactions", "--count", "100000", "--features", "--quiet", "--out",
                    str(out), *args], check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def baseline_seed() -> int:
    return int(json.loads((BASELINES / "baseline.json").read_text())["profile"]["parameters"]["seed"])


def test_another_seed_of_the_same_configuration_passes(tmp_path: Path, baseline_seed: int) -> None:
    done = _quality("--count", "100000", "--seed", str(baseline_seed + 1), cwd=tmp_path)
    report = json.loads(done.stdout)
    assert report["regression"]["failed"] == [], report["regression"]["failed"]
    assert report["regression"]["compared"]["distribution"] >= 70  # every feature and numeric field compared
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("flags", "shifted"), [
    pytest.param(("--fraud-rate", "0.01"), "fraud", id="half-the-fraud"),
    pytest.param(("--anomaly-rate", "0.10"), "anomaly", id="twice-the-anomalies"),
    pytest.param(("--start", "2025-04-01"), "is_holiday_or_festival", id="another-season"),
])
def test_a_shifted_dataset_fails(tmp_path: Path, baseline_seed: int, flags: tuple[str, ...], shifted: str) -> None:
    data = _generate(tmp_path / "shifted", "--seed", str(baseline_seed + 1), *flags)
    done = _quality("--in", str(data), cwd=tmp_path)
    report = json.loads(done.stdout)
    failed = [c["name"] for c in report["regression"]["failed"]]
    assert done.returncode == 1
    assert any(shifted in name for name in failed), failed


BASE = {"model": {"version": "v0001", "pr_auc": 0.80, "recall": 0.70, "frauds": 2000},
        "bench": {"api": {"score_p95_ms": 20.0, "score_p99_ms": 30.0, "peak_rss_mb": 900.0}}}


@pytest.mark.parametrize(("model", "bench", "failed"), [
    pytest.param({"pr_auc": 0.79, "recall": 0.70}, {}, [], id="model-within-noise"),
    pytest.param({"pr_auc": 0.70, "recall": 0.70}, {}, ["pr_auc"], id="pr-auc-fell"),
    pytest.param({"pr_auc": 0.80, "recall": 0.62}, {}, ["recall"], id="recall-fell"),
    pytest.param(None, {"api": {"score_p95_ms": 24.0}}, [], id="latency-within-floor"),
    pytest.param(None, {"api": {"score_p95_ms": 34.0}}, ["api.score_p95_ms"], id="latency-grew"),
    pytest.param(None, {"api": {"score_p95_ms": 4.0, "score_p99_ms": 9.0}}, [], id="latency-fell"),
    pytest.param(None, {"api": {"peak_rss_mb": 1050.0}}, [], id="memory-under-a-quarter"),
    pytest.param(None, {"api": {"peak_rss_mb": 1200.0}}, ["api.peak_rss_mb"], id="memory-grew"),
    pytest.param(None, {"api": {"count": 5000, "peak_rss_mb": 9000.0}}, [], id="another-size-not-compared"),
])
def test_model_latency_and_memory(model: dict[str, float] | None, bench: dict[str, dict[str, float]],
                                  failed: list[str]) -> None:
    result = regress([], model, bench, BASE)
    assert [c.name for c in result.comparisons if c.shifted] == failed
    assert result.passed == (not failed)
