"""Every metric SynFinance records, defined once here; dashboards and alerts use exactly these names.

A metric is recorded through the backend that reaches Prometheus from the process it runs in:

- outside Ray (the CLI, the API's ingress, tests): prometheus_client, in a registry of SynFinance's own
  (plus the process collector), rendered by `render()` for a /metrics endpoint;
- inside Ray actors: Ray's metrics agent, which Prometheus scrapes per node (actors.metrics.RayBackend,
  installed by the actor with `use_backend`).

    metrics.ROWS_GENERATED.labels("worker-0").inc(5_000)
    metrics.IN_FLIGHT.labels().set(3)

Labels are bounded sets: route templates (`/v1/transactions/{transaction_id}`), never raw paths or ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["counter", "gauge", "histogram"]
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Instrument(Protocol):
    """One labelled series: what a backend hands back for a metric's label values."""

    def inc(self, amount: float = 1.0) -> None: ...

    def set(self, value: float) -> None: ...

    def observe(self, value: float) -> None: ...


class Backend(Protocol):
    def series(self, metric: Metric, values: tuple[str, ...]) -> Instrument: ...


@dataclass(eq=False)
class Metric:
    """One metric of the catalogue: its Prometheus name (counters without `_total`), type, help and labels."""

    name: str
    kind: Kind
    help: str
    label_names: tuple[str, ...] = ()
    buckets: tuple[float, ...] | None = None
    _series: dict[tuple[str, ...], Instrument] = field(default_factory=dict, repr=False)

    def labels(self, *values: str) -> Instrument:
        """The series for these label values (all of them, in label_names order; none for an unlabelled metric)."""
        series = self._series.get(values)
        if series is None:
            if len(values) != len(self.label_names):
                raise ValueError(f"{self.name}: labels {self.label_names}, got values {values}")
            series = self._series[values] = _current().series(self, values)
        return series


class PrometheusBackend:
    """prometheus_client in a registry of SynFinance's own: what a process outside Ray exports.

    Made on first use, so a Ray actor (which records through Ray's agent) never loads prometheus_client.
    """

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, ProcessCollector, disable_created_metrics

        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series double the output
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        self._metrics: dict[str, Any] = {}

    def _metric(self, m: Metric) -> Any:
        from prometheus_client import Counter, Gauge, Histogram

        if m.name not in self._metrics:
            if m.kind == "counter":
                made: Any = Counter(m.name, m.help, m.label_names, registry=self.registry)
            elif m.kind == "gauge":
                made = Gauge(m.name, m.help, m.label_names, registry=self.registry)
            else:
                made = Histogram(m.name, m.help, m.label_names, buckets=m.buckets or LATENCY_BUCKETS_S,
                                 registry=self.registry)
            self._metrics[m.name] = made
        return self._metrics[m.name]

    def series(self, metric: Metric, values: tuple[str, ...]) -> Instrument:
        made = self._metric(metric)
        return made.labels(*values) if values else made


_prometheus: PrometheusBackend | None = None
_installed: Backend | None = None  # a backend a process chose (a Ray actor: Ray's); else prometheus_client


def prometheus() -> PrometheusBackend:
    global _prometheus
    if _prometheus is None:
        _prometheus = PrometheusBackend()
    return _prometheus


def _current() -> Backend:
    return _installed if _installed is not None else prometheus()


def use_backend(backend: Backend) -> None:
    """Record every metric of this process through backend from now on (a Ray actor installs Ray's)."""
    global _installed
    _installed = backend
    for metric in CATALOGUE:
        metric._series.clear()


def render() -> tuple[bytes, str]:
    """This process's metrics in Prometheus text exposition format (the prometheus_client backend), and the
    content type to serve them with."""
    from prometheus_client import generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    return generate_latest(prometheus().registry), CONTENT_TYPE_LATEST


# -- the catalogue --------------------------------------------------------------------------------------------
HTTP_REQUESTS = Metric("synfinance_http_requests", "counter",
                       "HTTP requests answered, by route template, method and status code.",
                       ("route", "method", "status"))
HTTP_ERRORS = Metric("synfinance_http_errors", "counter",
                     "HTTP requests answered with a 4xx or 5xx, by route and error kind.", ("route", "kind"))
HTTP_LATENCY = Metric("synfinance_http_request_duration_seconds", "histogram",
                      "Time from request received to response sent, by route.", ("route",), LATENCY_BUCKETS_S)
SCORES = Metric("synfinance_scores", "counter", "Transactions scored, by decision and model version.",
                ("decision", "model_version"))
FRAUD_PROBABILITY = Metric("synfinance_fraud_probability", "histogram", "Fraud probabilities returned.",
                           buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99))
RATE_LIMITED = Metric("synfinance_rate_limited", "counter", "Requests refused with 429, by API key name.", ("key",))
BREAKER_OPEN = Metric("synfinance_breaker_open", "gauge", "1 while the circuit breaker in front of a dependency "
                      "is open.", ("dependency",))
ROWS_GENERATED = Metric("synfinance_pipeline_rows_generated", "counter", "Transactions generated by shard workers.",
                        ("worker",))
SHARD_SECONDS = Metric("synfinance_pipeline_shard_seconds", "histogram",
                       "Time to generate one shard (+ features).", ("worker",), (0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
WRITE_SECONDS = Metric("synfinance_pipeline_write_seconds", "histogram", "Time for a sink to write one shard.",
                       ("sink",), (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
IN_FLIGHT = Metric("synfinance_pipeline_in_flight", "gauge",
                   "Shards generated or being generated and not yet written.")
WORKER_RESTARTS = Metric("synfinance_pipeline_worker_restarts", "counter", "Shard workers lost and replaced.")
SHARD_RETRIES = Metric("synfinance_pipeline_shard_retries", "counter", "Shards redone after their worker died.")

CATALOGUE: tuple[Metric, ...] = tuple(v for v in globals().values() if isinstance(v, Metric))
