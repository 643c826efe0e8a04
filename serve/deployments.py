"""The Serve deployments behind the ingress: feature-store shards, the scorer, the query layer.

Each is a thin holder of a synfinance object; the work is done by synfinance.features.online,
synfinance.model.scoring and synfinance.store.gateway. Replicas ask for no CPU by default (the app must
fit a 2-core laptop); serve/config.yaml reserves CPUs for production. The ingress calls them through
actors.handles.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import ray
from ray import serve

from actors.live import follow
from actors.metrics import instrument, retune
from synfinance.errors import ModelError, ModelUnavailable, SynFinanceError
from synfinance.features.inputs import INPUT_COLUMNS, INPUT_SCHEMA
from synfinance.features.online import OnlineShard
from synfinance.model import registry
from synfinance.model.fitting import PolicyRule, rechoose
from synfinance.model.scoring import Scored, score_columns
from synfinance.model.watch import ServedWatch
from synfinance.observability import metrics, tracing
from synfinance.observability.logs import get_logger
from synfinance.observability.tracing import traced
from synfinance.schema import FEATURE_NAMES
from synfinance.security import Buckets
from synfinance.settings.models import DatabaseConfig, MLConfig, MonitoringConfig, RateLimit, Settings
from synfinance.store.gateway import Gateway, stored_since

LIGHT: dict[str, Any] = {"num_cpus": 0}
log = get_logger("synfinance.serve")


@ray.remote(num_cpus=0)
class LimitBank:
    """Every API key's token bucket (synfinance.security.Buckets), shared by all ingress replicas: a
    deployment-scoped actor of the ingress, from which each replica leases a few tokens at a time."""

    def __init__(self) -> None:
        self.buckets = Buckets()

    @traced("limits.lease")
    async def lease(self, name: str, want: int, limit: RateLimit) -> tuple[int, float]:
        return await self.buckets.lease(name, want, limit)


@ray.remote(num_cpus=0)
class FeatureShard:
    """One shard of the online feature store (customers routed by a hash of their id).

    A deployment-scoped actor of the ingress (see serve/builder.py): Serve starts it with the app, every
    ingress replica shares it, and Serve removes it with the app. The ingress calls it as a plain actor
    (actors.handles.FeatureShards), a cheaper hop than a Serve handle (docs/benchmarks.md).
    """

    def __init__(self, index: int, shards: int, warm_from: Path | None, monitoring: MonitoringConfig,
                 live: tuple[str, str] | None = None, database: DatabaseConfig | None = None) -> None:
        instrument("feature-shard", monitoring)
        follow(live, lambda settings, _: retune("feature-shard", settings.monitoring), "feature-shard")
        self.shard = OnlineShard(index, shards)
        if warm_from is not None:
            self.shard.warm(warm_from)
            if database is not None and database.enabled:
                self.rebuild(database)
        self.size = metrics.STORE_CUSTOMERS.labels(str(index))
        self.hits, self.misses = metrics.STORE_LOOKUPS.labels("hit"), metrics.STORE_LOOKUPS.labels("miss")
        self._count(0, 0)

    def rebuild(self, database: DatabaseConfig) -> None:
        """After the warm-up: replay what was stored since (a shard Serve recreated after it died, or an API
        restarted, gets back the state its writes built). The database down: the warm-up alone, said in the log."""
        try:
            rows = asyncio.run(stored_since(database, self.shard.warmed_until, INPUT_COLUMNS))
        except SynFinanceError as exc:
            log.warning("feature_store.rebuild_skipped", shard=self.shard.index, reason=str(exc))
            return
        replayed = self.shard.replay(pa.Table.from_pylist(rows, schema=INPUT_SCHEMA))
        log.info("feature_store.rebuilt", shard=self.shard.index, stored_rows=len(rows), replayed=replayed)

    def _count(self, hits: int, misses: int) -> None:
        if hits:
            self.hits.inc(hits)
        if misses:
            self.misses.inc(misses)
        self.size.set(self.shard.customer_count())

    @traced("feature_store.one")
    def one(self, transaction: dict[str, Any]) -> np.ndarray:
        known = int(self.shard.knows(transaction["customer_id"]))
        x = self.shard.one(transaction)
        self._count(known, 1 - known)
        log.debug("feature_store.one", transaction_id=transaction.get("transaction_id"), known=bool(known))
        return x

    @traced("feature_store.many")
    def many(self, table: pa.Table, positions: np.ndarray) -> np.ndarray:
        known = self.shard.known(table.column("customer_id"))
        x = self.shard.many(table, positions)
        self._count(known, table.num_rows - known)
        log.debug("feature_store.many", rows=table.num_rows, known_rows=known)
        return x

    @traced("feature_store.stats")
    def stats(self) -> dict[str, int]:
        return self.shard.stats()


RELOAD_CHECK_S = 2.0  # how often the scorer looks for a newly deployed version or policy


@serve.deployment(ray_actor_options=LIGHT, max_ongoing_requests=256)
class Scorer:
    """The active model; concurrent single scores are batched (@serve.batch) into one predict call.

    Every RELOAD_CHECK_S it looks at the registry: a version deployed since, or a policy re-derived with
    `model deploy V --review-rate R`, is loaded and used from the next request on (no restart).
    """

    def __init__(self, ml: MLConfig, batch_max: int, batch_wait_ms: float, monitoring: MonitoringConfig,
                 live: tuple[str, str] | None = None) -> None:
        instrument("scorer", monitoring)
        self.watching = monitoring.metrics_enabled  # off: no drift bins either (the baseline of `bench api`)
        self.ml = ml
        self.rule: PolicyRule | None = None  # a decision rule set live, replacing the version's stored policy
        self.watch: ServedWatch | None = None
        self.model: registry.FraudModel | None = None
        self.test_metrics: dict[str, Any] = {}  # the model's test-week metrics, read once with the model
        self.reason = "not loaded yet"
        self.revision: tuple[Any, ...] | None = None
        self.checked_at = time.monotonic()
        self.load()
        self.one.set_max_batch_size(batch_max)  # type: ignore[attr-defined]
        self.one.set_batch_wait_timeout_s(batch_wait_ms / 1000)  # type: ignore[attr-defined]
        follow(live, self.apply_live, "scorer")

    def apply_live(self, settings: Settings, version: str) -> None:
        """Log level and sampling; a changed decision rule (ml.policy, review_rate, decline_precision,
        review_cost_inr) re-chooses the served version's policy from its stored validation scores, as
        `model deploy V --review-rate R` would, in memory (the registry is not written)."""
        retune("scorer", settings.monitoring)
        rule = PolicyRule.of(settings.ml)
        if rule != PolicyRule.of(self.ml):
            self.ml, self.rule = settings.ml, rule
            self.load()

    def load(self) -> None:
        """Load the active (or pinned) version; on failure keep serving the one loaded before, if any."""
        root = Path(self.ml.registry_path)
        self.revision = registry.revision(root, self.ml.active_version)
        try:
            model = registry.load(root, self.ml.active_version)
        except ModelError as exc:
            self.reason = str(exc)
            return
        metrics_path = Path(self.ml.registry_path) / model.version / "metrics.json"
        self.test_metrics = json.loads(metrics_path.read_text()).get("test", {}) if metrics_path.is_file() else {}
        if self.rule is not None:
            model.policy, chosen = rechoose(root, model.version, self.rule)
            self.test_metrics = chosen.get("test", self.test_metrics)
        self.watch = ServedWatch.of(model, root, self.test_metrics) if self.watching else None
        self.model = model

    def ready_model(self) -> registry.FraudModel:
        now = time.monotonic()
        if self.model is None or now - self.checked_at >= RELOAD_CHECK_S:
            self.checked_at = now
            if self.model is None or registry.revision(Path(self.ml.registry_path),
                                                       self.ml.active_version) != self.revision:
                self.load()  # a model or policy deployed since is picked up
        if self.model is None:
            raise ModelUnavailable(f"no model to score with: {self.reason}")
        return self.model

    def info(self) -> dict[str, Any]:
        try:
            model = self.ready_model()
        except ModelUnavailable as exc:
            return {"ready": False, "reason": str(exc)}
        return {"ready": True, "version": model.version, "policy": model.policy.to_json(),
                "created_at": model.metadata.get("created_at"), "metrics": self.test_metrics,
                "feature_names": list(FEATURE_NAMES), "registry": str(self.ml.registry_path)}

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.002)
    async def one(self, rows: list[tuple[np.ndarray, dict[str, str] | None]]) -> list[dict[str, Any]]:
        """Single scores, batched: one predict, and a span in each caller's trace covering it."""
        x = np.vstack([row for row, _ in rows])
        started = time.time_ns()
        scored = self.watched(x, score_columns(self.ready_model(), x))
        ended = time.time_ns()
        for _, carried in rows:
            tracing.record_span("model.predict", carried, started, ended, batch=len(rows))
        return scored.rows()

    @traced("scorer.many")
    def many(self, x: np.ndarray, explain: str) -> Scored:
        with tracing.span("model.predict", rows=len(x), explain=explain):
            scored = self.watched(x, score_columns(self.ready_model(), x, explain))
        log.debug("scorer.many", rows=len(x), model_version=scored.model_version)
        return scored

    def watched(self, x: np.ndarray, scored: Scored) -> Scored:
        if self.watch is not None and len(scored):
            self.watch.observe(x, scored)
        return scored


@serve.deployment(ray_actor_options=LIGHT, max_ongoing_requests=64)
class Query(Gateway):
    """The database behind the API (synfinance.store.gateway.Gateway) as a deployment: pool, breaker, repositories."""

    def __init__(self, config: DatabaseConfig, monitoring: MonitoringConfig,
                 live: tuple[str, str] | None = None) -> None:
        instrument("query", monitoring)  # the breaker gauge through Ray's agent, traces, logs
        super().__init__(config)
        follow(live, self.apply_live, "query")

    def apply_live(self, settings: Settings, version: str) -> None:
        """Log level and sampling; retry and breaker settings (the breaker keeps its state)."""
        retune("query", settings.monitoring)
        self.guard.reconfigure(settings.database)

    @traced("query.call")
    async def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A Gateway method by name (actors.handles.QueryHandle), in a database span."""
        with tracing.span(f"db.{name}", tracing.CLIENT, **{"db.system": "postgresql",
                                                                    "db.operation": name}):
            log.debug("db.call", operation=name)
            return await getattr(self, name)(*args, **kwargs)
