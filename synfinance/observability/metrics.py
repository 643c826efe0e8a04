"""Every metric SynFinance records, defined once here; dashboards, recording rules and alerts use these names.

A metric is recorded through the backend that reaches Prometheus from the process it runs in:

- inside Ray (Serve replicas, pipeline actors, the pipeline driver): Ray's metrics agent, which Prometheus scrapes
  per node (actors.metrics.RayBackend, installed with `use_backend`); the agent exports them as `ray_<name>`,
  and monitoring/prometheus/prometheus.yml renames them back, so every series is `synfinance_*` in Prometheus;
- outside Ray (the CLI, tests): prometheus_client, in a registry of SynFinance's own (plus the process
  collector), served by `render()` on a /metrics endpoint or pushed to a Pushgateway (observability.push);
- nowhere, with `monitoring.metrics_enabled: false` (NullBackend).

    metrics.ROWS_GENERATED.labels("worker-0").inc(5_000)
    metrics.IN_FLIGHT.labels().set(3)

Labels are bounded sets: route templates (`/v1/transactions/{transaction_id}`), never raw paths or ids; a label
with enumerated values refuses any other. Counters are named without `_total` (Prometheus adds it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["counter", "gauge", "histogram"]
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RAY_PREFIX = "ray_"  # what Ray's metrics agent puts before an application metric's name


class Instrument(Protocol):
    """One labelled series: what a backend hands back for a metric's label values."""

    def inc(self, amount: float = 1.0) -> None: ...

    def set(self, value: float) -> None: ...

    def observe(self, value: float) -> None: ...


class Backend(Protocol):
    def series(self, metric: Metric, values: tuple[str, ...]) -> Instrument: ...


@dataclass(frozen=True)
class Label:
    """A label and its bound: the enumerated values it may take, or (values None) what bounds it."""

    name: str
    bound: str
    values: tuple[str, ...] | None = None


@dataclass(eq=False)
class Metric:
    """One metric of the catalogue: Prometheus name, type, unit, help and labels."""

    name: str
    kind: Kind
    unit: str
    help: str
    labels_: tuple[Label, ...] = ()
    buckets: tuple[float, ...] | None = None
    _series: dict[tuple[str, ...], Instrument] = field(default_factory=dict, repr=False)

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels_)

    @property
    def exported(self) -> tuple[str, ...]:
        """The series names Prometheus holds for this metric."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return tuple(f"{self.name}_{s}" for s in ("bucket", "sum", "count"))
        return (self.name,)

    def labels(self, *values: str) -> Instrument:
        """The series for these label values (all of them, in label order; none for an unlabelled metric)."""
        series = self._series.get(values)
        if series is None:
            self._check(values)
            series = self._series[values] = _current().series(self, values)
        return series

    def _check(self, values: tuple[str, ...]) -> None:
        if len(values) != len(self.labels_):
            raise ValueError(f"{self.name}: labels {self.label_names}, got values {values}")
        for label, value in zip(self.labels_, values, strict=True):
            if label.values is not None and value not in label.values:
                raise ValueError(f"{self.name}: label {label.name} is one of {label.values}, got {value!r}")


class NullSeries:
    def inc(self, amount: float = 1.0) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


class NullBackend:
    """Records nothing (monitoring.metrics_enabled: false)."""

    def series(self, metric: Metric, values: tuple[str, ...]) -> Instrument:
        return NullSeries()


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


def from_ray_agents(texts: Iterable[str]) -> bytes:
    """SynFinance's series out of Ray metrics agents' pages (one per node), renamed from ray_synfinance_* to
    synfinance_* and merged into one exposition: the whole cluster's values, whichever process asks."""
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families
    from prometheus_client.registry import CollectorRegistry

    families: dict[str, Any] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            if not family.name.startswith(RAY_PREFIX + "synfinance_"):
                continue
            name = family.name.removeprefix(RAY_PREFIX)
            samples = [s._replace(name=s.name.removeprefix(RAY_PREFIX),
                                  labels={k: v for k, v in s.labels.items() if not k.startswith("otel_")})
                       for s in family.samples]
            kept = families.get(name)
            if kept is None:
                family.name, family.samples = name, samples
                families[name] = family
            else:
                kept.samples.extend(samples)

    class Merged:
        def collect(self) -> Iterator[Any]:
            yield from families.values()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Merged())
    return generate_latest(registry)


# -- the catalogue --------------------------------------------------------------------------------------------
ROUTE = Label("route", "the route template (/v1/transactions/{transaction_id}), never a raw path; 'unmatched'")
MODEL = Label("model_version", "a registry version (v0001...)")
WORKER = Label("worker", "a shard worker's name (worker-0 ... worker-N-1)")
DECISIONS = ("approve", "review", "decline")
OUTCOMES = ("tp", "fp", "fn", "tn")
JOBS = ("generate", "train", "stream", "quality", "guard", "promote", "rollback")
QUALITY_SEVERITIES = ("critical", "error", "warning", "info")
COMPONENTS = ("ingress", "query", "feature-shard", "shard-worker", "sink", "driver")

# API
HTTP_REQUESTS = Metric("synfinance_http_requests", "counter", "requests", "HTTP requests answered, by route template, "
                       "method and status code.", (ROUTE, Label("method", "GET, POST, ...", ("GET", "POST", "PUT",
                       "DELETE", "PATCH", "HEAD", "OPTIONS")), Label("status", "the HTTP status code")))
HTTP_ERRORS = Metric("synfinance_http_errors", "counter", "requests", "HTTP requests answered with a 4xx or 5xx, by "
                     "route and error kind.",
                     (ROUTE, Label("kind", "client (4xx) or server (5xx)", ("client", "server"))))
HTTP_IN_FLIGHT = Metric("synfinance_http_in_flight", "gauge", "requests", "Requests being answered now, per replica.")
HTTP_LATENCY = Metric("synfinance_http_request_duration_seconds", "histogram", "seconds",
                      "Time from request received to response sent, by route.", (ROUTE,), LATENCY_BUCKETS_S)
BATCH_SIZE = Metric("synfinance_http_batch_size", "histogram", "transactions", "Transactions per batch request, by "
                    "route.", (ROUTE,), (1, 10, 100, 1_000, 5_000, 10_000))
VALIDATION_FAILURES = Metric("synfinance_http_validation_failures", "counter", "fields", "Fields refused with 422, by "
                             "field (list indices dropped: transactions[].amount).", (Label("field", "a field "
                             "of the request schema, or 'body'"),))
RATE_LIMITED = Metric("synfinance_rate_limited", "counter", "requests", "Requests refused with 429, by API key name.",
                      (Label("key", "an API key's configured name (never the key)"),))
BREAKER_OPEN = Metric("synfinance_breaker_open", "gauge", "boolean", "1 while the circuit breaker in front of a "
                      "dependency is open.", (Label("dependency", "what the breaker guards", ("database",)),))
# business
SCORES = Metric("synfinance_scores", "counter", "transactions", "Transactions scored, by decision and model version.",
                (Label("decision", "the policy's decision", DECISIONS), MODEL))
SHADOW_SCORES = Metric("synfinance_shadow_scores", "counter", "transactions", "Transactions a challenger scored in "
                       "shadow, by the decision it would have made (the champion's decided) and its version.",
                       (Label("decision", "the challenger policy's decision", DECISIONS), MODEL))
SHADOW_AGREEMENT = Metric("synfinance_shadow_agreement", "counter", "transactions", "Shadow-scored transactions by "
                          "whether the challenger's decision equals the champion's.",
                          (Label("champion", "the deciding version"), Label("challenger", "the version in shadow"),
                           Label("agree", "the two decisions equal", ("yes", "no"))))
MODEL_ROLLBACKS = Metric("synfinance_model_rollback_time", "gauge", "unix seconds", "When a champion was last rolled "
                         "back, from the version rolled back to the one deciding again, by the guard (`model guard`) "
                         "or by hand (`model rollback`).",
                         (Label("from_version", "the champion rolled back"),
                          Label("to_version", "the champion restored"), Label("by", "who", ("guard", "hand"))))
FRAUD_PROBABILITY = Metric("synfinance_fraud_probability", "histogram", "probability", "Fraud probabilities returned "
                           "(at most 64 a second per process, evenly spaced over a batch; synfinance_scores counts "
                           "all).",
                           buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99))
ANOMALY_SCORE = Metric("synfinance_anomaly_score", "histogram", "score", "Anomaly scores returned (0 ordinary, 1 "
                       "most unusual; at most 64 a second per process, as synfinance_fraud_probability).",
                       buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))
FEEDBACK = Metric("synfinance_feedback", "counter", "transactions", "Label feedback joined to the stored prediction: "
                  "tp/fp/fn/tn (a review or decline is a positive), by true fraud type ('none' when legitimate) and "
                  "model version.", (Label("outcome", "the confusion cell", OUTCOMES),
                                     Label("fraud_type", "a fraud type of synfinance.world.catalogue, or none"), MODEL))
FEEDBACK_LAG = Metric("synfinance_feedback_lag_seconds", "histogram", "seconds", "From a stored prediction to its "
                      "label feedback: how long the fraud team waits to know.",
                      buckets=(1, 10, 60, 300, 900, 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400))
MODEL_PROMOTIONS = Metric("synfinance_model_promotion_time", "gauge", "unix seconds", "When `model promote` last made "
                          "a version the champion, over the one it replaced.",
                          (Label("version", "the new champion"), Label("previous", "the champion it replaced")))
# pipeline and generation
ROWS_GENERATED = Metric("synfinance_pipeline_rows_generated", "counter", "transactions",
                        "Transactions generated by shard workers.", (WORKER,))
SHARD_SECONDS = Metric("synfinance_pipeline_shard_seconds", "histogram", "seconds",
                       "Time to generate one shard (+ features).", (WORKER,), (0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
FEATURE_SECONDS = Metric("synfinance_pipeline_feature_seconds", "histogram", "seconds",
                         "Time to extract one shard's features.", buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
WRITE_SECONDS = Metric("synfinance_pipeline_write_seconds", "histogram", "seconds", "Time for a sink to write one "
                       "shard.", (Label("sink", "the sink kind", ("dataset", "jsonl", "http", "postgres")),),
                       (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
IN_FLIGHT = Metric("synfinance_pipeline_in_flight", "gauge", "shards",
                   "Shards generated or being generated and not yet written.")
GENERATION_RATE = Metric("synfinance_pipeline_rows_per_second", "gauge", "transactions per second",
                         "Rows written per second of the running pipeline job so far.")
WORKER_RESTARTS = Metric("synfinance_pipeline_worker_restarts", "counter", "restarts",
                         "Shard workers lost and replaced.")
SHARD_RETRIES = Metric("synfinance_pipeline_shard_retries", "counter", "shards",
                       "Shards redone after their worker died.")
# model and data
SCORE_PSI = Metric("synfinance_score_psi", "gauge", "PSI", "Population stability index of the served fraud "
                   "probabilities against the model's training scores (> 0.2: drifted).", (MODEL,))
FEATURE_PSI = Metric("synfinance_feature_psi", "gauge", "PSI", "Population stability index of each served feature "
                     "against the training set.", (MODEL, Label("feature", "a feature of synfinance.schema")))
VALUES_CHECKED = Metric("synfinance_data_values", "counter", "values", "Values of generated rows checked, by field.",
                        (Label("field", "a column of the transaction schema"),))
VALUES_MISSING = Metric("synfinance_data_missing_values", "counter", "values", "Null values of generated rows, by "
                        "field (over synfinance_data_values: the missing rate).",
                        (Label("field", "a column of the transaction schema"),))
OUTLIERS = Metric("synfinance_data_outliers", "counter", "values", "Values with a robust z-score above 6 within "
                  "their shard, by field.", (Label("field", "a numeric column", ("amount_inr",)),))
STORE_LOOKUPS = Metric("synfinance_feature_store_lookups", "counter", "lookups", "Online feature-store lookups: a "
                       "hit finds the customer's history, a miss starts a new customer.",
                       (Label("result", "hit or miss", ("hit", "miss")),))
STORE_CUSTOMERS = Metric("synfinance_feature_store_customers", "gauge", "customers",
                         "Customers held by a feature-store shard.", (Label("shard", "the shard's index"),))
MODEL_LOADED = Metric("synfinance_model_loaded", "gauge", "boolean", "1 for the model version a scorer serves.",
                      (MODEL,))
MODEL_TEST_METRIC = Metric("synfinance_model_test_metric", "gauge", "ratio", "The served model's metrics on its "
                           "test weeks (registry metrics.json).", (MODEL, Label("metric", "which one",
                           ("precision", "recall", "pr_auc", "roc_auc", "review_rate"))))
# system: SynFinance's own processes inside Ray (outside Ray, prometheus_client's process collector)
COMPONENT = Label("component", "which SynFinance process", COMPONENTS)
PROCESS_MEMORY = Metric("synfinance_process_resident_memory_bytes", "gauge", "bytes",
                        "Resident memory of a SynFinance process inside Ray.", (COMPONENT,))
PROCESS_CPU = Metric("synfinance_process_cpu_seconds", "counter", "seconds",
                     "CPU time used by a SynFinance process inside Ray.", (COMPONENT,))
# live configuration
CONFIG_RELOADS = Metric("synfinance_config_reloads", "counter", "reloads", "Configuration changes seen by a "
                        "process: applied in place, refused as invalid (the old configuration kept), failed to apply "
                        "(the old kept), or redeployed (a change that needs new replicas).",
                        (COMPONENT, Label("outcome", "what became of it",
                                          ("applied", "refused", "failed", "redeployed"))))
# batch jobs (pushed to the Pushgateway)
JOB_DURATION = Metric("synfinance_job_duration_seconds", "gauge", "seconds", "How long the last run of a batch job "
                      "took.", (Label("job", "the command", JOBS),))
JOB_ROWS = Metric("synfinance_job_rows", "gauge", "rows", "Rows the last run of a batch job produced.",
                  (Label("job", "the command", JOBS),))
JOB_LAST_SUCCESS = Metric("synfinance_job_last_success_timestamp_seconds", "gauge", "unix seconds",
                          "When a batch job last succeeded.", (Label("job", "the command", JOBS),))
# data quality (pushed by `synfinance quality run`)
QUALITY_SCORE = Metric("synfinance_quality_score", "gauge", "score", "The last quality run's score, 0-100 "
                       "(docs/quality.md).")
QUALITY_VIOLATIONS = Metric("synfinance_quality_violations", "gauge", "violations", "Violations the last quality "
                            "run found, by severity.", (Label("severity", "how bad", QUALITY_SEVERITIES),))
QUALITY_GATES_FAILED = Metric("synfinance_quality_gates_failed", "gauge", "gates", "Gates the last quality run "
                              "failed; blocking ones fail the run.", (Label("blocking", "does it block",
                                                                            ("true", "false")),))

CATALOGUE: tuple[Metric, ...] = tuple(v for v in globals().values() if isinstance(v, Metric))


def samples_of(text: str, prefix: str = "synfinance_") -> list[dict[str, Any]]:
    """The samples of an exposition page whose names start with `prefix`: [{name, labels, value}, ...]."""
    from prometheus_client.parser import text_string_to_metric_families

    return [{"name": s.name, "labels": dict(s.labels), "value": float(s.value)}
            for family in text_string_to_metric_families(text) for s in family.samples if s.name.startswith(prefix)]
