"""The metrics backend of Ray actors: synfinance's catalogue recorded through Ray's metrics agent.

Each node's agent exports what its processes record, and Prometheus scrapes the agents (Ray's service
discovery file lists them), so every actor's values reach Prometheus, not one process's. An actor calls
`install(component)` when it starts; after that, synfinance.observability.metrics records through Ray.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from typing import Any

import ray
from ray.util import metrics as ray_metrics

from synfinance.observability import logs, metrics, tracing
from synfinance.observability.memory import rss_bytes
from synfinance.settings.models import MonitoringConfig

GAUGE_REFRESH_S = 1.0  # well inside the agent's gauge TTL (twice the report interval, at least 2 s)


class RaySeries:
    """One metric's series for fixed tag values."""

    def __init__(self, metric: Any, tags: dict[str, str]) -> None:
        self.metric, self.tags = metric, tags
        self.last: float | None = None

    def inc(self, amount: float = 1.0) -> None:
        if amount:  # Ray refuses a zero increment (prometheus_client takes it); nothing to record either way
            self.metric.inc(amount, tags=self.tags)

    def set(self, value: float) -> None:
        self.last = float(value)
        self.metric.set(self.last, tags=self.tags)

    def observe(self, value: float) -> None:
        self.metric.observe(value, tags=self.tags)


class RayBackend:
    """Ray's agent drops a gauge series not set again within twice the report interval (Ray 2.60: the TTL of
    ray-project/ray#64633, while the worker does not re-export an unchanged gauge), so a gauge set once — the
    model loaded, a breaker open with no traffic — would vanish: a daemon thread sets every gauge series again
    every GAUGE_REFRESH_S."""

    def __init__(self) -> None:
        self._metrics: dict[str, Any] = {}
        self._gauges: list[RaySeries] = []
        self._lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self.component: str | None = None

    def _refresh(self) -> None:
        cpu_before = time.process_time()
        while True:
            time.sleep(GAUGE_REFRESH_S)
            if self.component is not None:  # this process's own CPU and memory, like a process collector
                cpu_now = time.process_time()
                metrics.PROCESS_CPU.labels(self.component).inc(cpu_now - cpu_before)
                metrics.PROCESS_MEMORY.labels(self.component).set(rss_bytes())
                cpu_before = cpu_now
            with self._lock:
                gauges = list(self._gauges)
            for series in gauges:
                if series.last is not None:
                    series.metric.set(series.last, tags=series.tags)

    def watch_process(self, component: str) -> None:
        """Record this process's CPU and memory as `component` from now on."""
        self.component = component
        self._ensure_refresher()

    def _ensure_refresher(self) -> None:
        with self._lock:
            if self._refresher is None:
                self._refresher = threading.Thread(target=self._refresh, name="gauge-refresh", daemon=True)
                self._refresher.start()

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
        made = RaySeries(self._metric(metric), dict(zip(metric.label_names, values, strict=True)))
        if metric.kind == "gauge":
            with self._lock:
                self._gauges.append(made)
            self._ensure_refresher()
        return made


def install(component: str, monitoring: MonitoringConfig | None = None) -> None:
    """Record this process's metrics, and its CPU and memory as `component`, through Ray's metrics agent
    (nowhere when monitoring.metrics_enabled is off)."""
    global _installed
    if monitoring is not None and not monitoring.metrics_enabled:
        metrics.use_backend(metrics.NullBackend())
        _installed = None
        return
    if _installed is not None and _installed.component == component:
        metrics.use_backend(_installed)  # again in the same process (a driver running a second job)
        return
    _installed = RayBackend()
    metrics.use_backend(_installed)
    _installed.watch_process(component)


_installed: RayBackend | None = None


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


def instrument(component: str, monitoring: MonitoringConfig | None = None) -> None:
    """Everything a SynFinance process inside Ray records: metrics through Ray's agent, traces to the configured
    exporter, JSON logs with the request or run context, each as `component`."""
    monitoring = monitoring or MonitoringConfig()
    install(component, monitoring)
    tracing.setup(monitoring.tracing, component)
    logs.configure(monitoring.log_level, monitoring.log_format, component)


def retune(component: str, monitoring: MonitoringConfig) -> None:
    """Apply the monitoring settings that can change in a running process: log level, trace sampling."""
    logs.configure(monitoring.log_level, monitoring.log_format, component)
    tracing.set_sampling_ratio(monitoring.tracing.sampling_ratio)
