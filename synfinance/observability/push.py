"""Batch jobs' metrics to a Prometheus Pushgateway: a short `generate` or `model train` may end before any scrape.

    push_job("http://127.0.0.1:9091", "generate", rows=1_000_000, seconds=41.2)

Pushed under the grouping key job=<job> (Prometheus scrapes the gateway with honor_labels, so the series carry
job="generate"); each push replaces that job's previous one. A gateway that does not answer is reported,
never fatal: the job's own output is what matters.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from synfinance.errors import StoreUnavailable
from synfinance.observability import metrics


def push_job(url: str, job: str, rows: int, seconds: float,
             labelled: Mapping[tuple[metrics.Metric, tuple[str, ...]], float] | None = None) -> None:
    """Push the last run's duration, rows and success time, and a job's own gauges (labelled: {(metric, label
    values): value}, e.g. the quality score); StoreUnavailable when the gateway does not answer."""
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    if job not in metrics.JOBS:
        raise ValueError(f"job is one of {metrics.JOBS}, got {job!r}")
    registry = CollectorRegistry()
    for metric, value in ((metrics.JOB_DURATION, seconds), (metrics.JOB_ROWS, rows),
                          (metrics.JOB_LAST_SUCCESS, time.time())):
        Gauge(metric.name, metric.help, registry=registry).set(value)
    gauges: dict[str, Gauge] = {}
    for (metric, values), value in (labelled or {}).items():
        if metric.kind != "gauge":
            raise ValueError(f"{metric.name} is a {metric.kind}; only gauges are pushed")
        if metric.name not in gauges:
            gauges[metric.name] = Gauge(metric.name, metric.help, metric.label_names, registry=registry)
        gauge = gauges[metric.name]
        (gauge.labels(*values) if values else gauge).set(value)
    try:
        push_to_gateway(url.removesuffix("/"), job=job, registry=registry, timeout=5)
    except OSError as exc:
        raise StoreUnavailable(f"Pushgateway {url}: {exc}") from exc
