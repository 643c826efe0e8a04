"""A quality run: every validator over a dataset, the score, the gates, the regression comparison against a
baseline, the trend from earlier runs, and the metrics it pushes.

    report = assess(Dataset.read(directory, baseline), settings, earlier=history.recent(10), name=str(directory))
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from synfinance.observability import metrics as catalogue
from synfinance.quality.base import Finding
from synfinance.quality.baseline import bench_figures, model_figures
from synfinance.quality.charts import chart_data
from synfinance.quality.compare import Comparison
from synfinance.quality.data import Dataset
from synfinance.quality.gates import apply_gates, read_gates
from synfinance.quality.regression import regress
from synfinance.quality.report import QualityReport
from synfinance.quality.score import quality_score
from synfinance.quality.validators import validators
from synfinance.settings.models import Settings


def check(data: Dataset, names: tuple[str, ...] | None = None) -> list[Finding]:
    """Every registered validator (or those named) over the dataset."""
    return [v.check(data) for v in validators(names)]


def flat_metrics(findings: list[Finding], score: float, model: dict[str, Any] | None,
                 bench: dict[str, Any]) -> dict[str, Any]:
    """What the gates read: each validator's single-number metrics, the score, violations by severity, the
    served model's test-week figures and the latest `bench api` latency."""
    out: dict[str, Any] = {}
    for f in findings:
        out |= {k: v for k, v in f.metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    out["score"] = score
    for severity in catalogue.QUALITY_SEVERITIES:
        out[f"violations_{severity}"] = sum(v.severity == severity for f in findings for v in f.violations)
    if model:
        out |= {f"model_{k}": model[k] for k in ("pr_auc", "recall", "review_rate", "precision") if k in model}
    api = bench.get("api", {})
    out |= {f"api_{k}": api[f"score_{k}"] for k in ("p50_ms", "p95_ms", "p99_ms") if f"score_{k}" in api}
    return out


def assess(data: Dataset, settings: Settings, earlier: list[dict[str, Any]] | None = None,
           name: str = "dataset") -> QualityReport:
    config = settings.quality
    findings = check(data)
    score = quality_score(findings)
    model = model_figures(settings.ml.registry_path)
    bench = bench_figures(config.bench_dir)
    metrics = flat_metrics(findings, score, model, bench)
    gates = config.gates + (read_gates(config.gates_path) if config.gates_path else ())
    regression = None
    if data.baseline is not None:
        drift = next((f for f in findings if f.validator == "drift"), None)
        comparisons = [Comparison(**c) for c in (drift.metrics.get("comparisons", []) if drift else [])]
        regression = regress(comparisons, model, bench, data.baseline)
        metrics["regression_failed"] = sum(c.shifted for c in regression.comparisons)
    return QualityReport(uuid.uuid4().hex, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), name, data.rows,
                         data.parameters, score, findings, metrics, apply_gates(gates, metrics), regression,
                         list(earlier or []), chart_data(data, findings))


def pushed(report: QualityReport) -> dict[tuple[catalogue.Metric, tuple[str, ...]], float]:
    """The run's gauges for the Pushgateway."""
    out: dict[tuple[catalogue.Metric, tuple[str, ...]], float] = {(catalogue.QUALITY_SCORE, ()): report.score}
    out |= {(catalogue.QUALITY_VIOLATIONS, (s,)): float(n) for s, n in report.counts().items()}
    for blocking in (True, False):
        failed = sum(g.status == "fail" and g.blocking == blocking for g in report.gates)
        out[(catalogue.QUALITY_GATES_FAILED, (str(blocking).lower(),))] = float(failed)
    return out
