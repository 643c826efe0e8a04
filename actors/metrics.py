"""The metrics backend of Ray actors: synfinance's catalogue recorded through Ray's metrics agent.

Each node's agent exports what its processes record, and Prometheus scrapes the agents (Ray's service
discovery file lists them), so every actor's values reach Prometheus, not one process's. An actor calls
`install()` when it starts; after that, synfinance.observability.metrics records through Ray.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import ray
from ray.util import metrics as ray_metrics

from synfinance.observability import metrics
from synfinance.settings.models import MonitoringConfig


class RaySeries:
    """One metric's series for fixed tag values."""

    def __init__(self, metric: Any, tags: dict[str, str]) -> None:
        self.metric, self.tags = metric, tags

    def inc(self, amount: float = 1.0) -> None:
        self.metric.inc(amount, tags=self.tags)

    def set(self, value: float) -> None:
        self.metric.set(value, tags=self.tags)

    def observe(self, value: float) -> None:
        self.metric.observe(value, tags=self.tags)


class RayBackend:
    def __init__(self) -> None:
        self._metrics: dict[str, Any] = {}

    def _metric(self, m: metrics.Metric) -> Any:
        if m.name not in self._metrics:
            if m.kind == "counter":
                made: Any = ray_metrics.Counter(m.name, m.help, tag_keys=m.label_names)
            elif m.kind == "gauge":
                made = ray_metrics.Gauge(m.name, m.help, tag_keys=m.label_names)
            else:
                made = ray_metrics.Histogram(m.name, m.help, boundaries=list(m.buckets or metrics.LATENCY_BUCKETS_S),
                                             tag_keys=m.label_names)
            self._metrics[m.name] = made
        return self._metrics[m.name]

    def series(self, metric: metrics.Metric, values: tuple[str, ...]) -> RaySeries:
        return RaySeries(self._metric(metric), dict(zip(metric.label_names, values, strict=True)))


def install(monitoring: MonitoringConfig | None = None) -> None:
    """Record this process's metrics through Ray's metrics agent (nowhere when monitoring.metrics_enabled is off)."""
    enabled = monitoring is None or monitoring.metrics_enabled
    metrics.use_backend(RayBackend() if enabled else metrics.NullBackend())


def agent_urls() -> list[str]:
    """The /metrics page of every live node's Ray metrics agent."""
    return [f"http://{n['NodeManagerAddress']}:{n['MetricsExportPort']}/metrics" for n in ray.nodes()  # type: ignore[no-untyped-call]
            if n.get("Alive") and n.get("MetricsExportPort")]


def cluster_page(timeout_s: float = 5.0) -> bytes:
    """SynFinance's series of the whole cluster, read from every node's agent (blocking; run it in a thread)."""
    pages = []
    for url in agent_urls():
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (Ray's own agent)
            pages.append(response.read().decode())
    return metrics.from_ray_agents(pages)
