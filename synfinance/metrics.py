"""Every Prometheus metric SynFinance's processes export, defined once (dashboards and alerts use these names).

Metrics live in their own registry so a process exports exactly SynFinance's catalogue (plus the
process collector) whatever else is imported. `render()` gives the text exposition format.
Labels are bounded: routes are route templates (`/v1/transactions/{transaction_id}`), never raw paths.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series double the output; nothing reads them

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
CONTENT_TYPE = CONTENT_TYPE_LATEST

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "synfinance_http_requests", "HTTP requests answered, by route template, method and status code.",
    ("route", "method", "status"), registry=REGISTRY)
HTTP_ERRORS = Counter(
    "synfinance_http_errors", "HTTP requests answered with a 4xx or 5xx, by route and error kind.",
    ("route", "kind"), registry=REGISTRY)
HTTP_LATENCY = Histogram(
    "synfinance_http_request_duration_seconds", "Time from request received to response sent, by route.",
    ("route",), buckets=LATENCY_BUCKETS_S, registry=REGISTRY)
SCORES = Counter(
    "synfinance_scores", "Transactions scored, by decision and model version.",
    ("decision", "model_version"), registry=REGISTRY)
FRAUD_PROBABILITY = Histogram(
    "synfinance_fraud_probability", "Fraud probabilities returned.",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99), registry=REGISTRY)
RATE_LIMITED = Counter(
    "synfinance_rate_limited", "Requests refused with 429, by API key name.", ("key",), registry=REGISTRY)
BREAKER_OPEN = Gauge(
    "synfinance_breaker_open", "1 while the circuit breaker in front of a dependency is open.",
    ("dependency",), registry=REGISTRY)


def render() -> bytes:
    """The registry in Prometheus text exposition format."""
    return generate_latest(REGISTRY)
