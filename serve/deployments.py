"""What the ingress holds or calls: the feature store (which scores too; held by the ingress or as shard actors),
the rate-limit bank, the query layer.

Each is a thin holder of a synfinance object; the work is done by synfinance.features.online,
synfinance.model.served and synfinance.store.gateway. Replicas ask for no CPU by default (the app must
fit a 2-core laptop); serve/config.yaml reserves CPUs for production. The ingress calls them through
actors.handles.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import ray
from ray import serve

from actors.live import follow
from actors.metrics import instrument, retune
from synfinance.errors import SynFinanceError, ValidationError
from synfinance.features.inputs import INPUT_COLUMNS, INPUT_SCHEMA
from synfinance.features.online import OnlineShard
from synfinance.features.reference import Reference
from synfinance.features.undo import Undo
from synfinance.model.scoring import Scored
from synfinance.model.served import ServedModel
from synfinance.observability import metrics, tracing
from synfinance.observability.logs import get_logger
from synfinance.observability.tracing import traced
from synfinance.security import Buckets
from synfinance.settings.models import DatabaseConfig, MLConfig, MonitoringConfig, RateLimit, Settings
from synfinance.store.gateway import Gateway, stored_since
from synfinance.store.notify import ReferenceFeed

LIGHT: dict[str, Any] = {"num_cpus": 0}
HELD_UNDOS = 256  # undos a store keeps for writes still being stored
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


@dataclass(frozen=True)
class FeatureStoreSpec:
    """What the ingress is given to reach the feature store: `shards` FeatureShard actors, or (embedded) the
    arguments of the one FeatureStore it holds itself."""

    shards: int
    warm_from: Path | None
    ml: MLConfig
    monitoring: MonitoringConfig
    database: DatabaseConfig | None
    embedded: bool

    def shard_args(self, index: int, live: tuple[str, str]) -> tuple[Any, ...]:
        """FeatureShard's arguments for shard `index` (live: the hub its follower long-polls)."""
        return index, self.shards, self.warm_from, self.ml, self.monitoring, live, self.database

    def open(self) -> FeatureStore:
        """The feature store of every customer, in this process: built in a thread of its own, as the ingress calls
        this on its event loop and the store's replay from the database runs one of its own."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synfinance-store") as pool:
            return pool.submit(FeatureStore, 0, 1, self.warm_from, self.ml, self.monitoring, self.database).result()


class FeatureStore:
    """One shard of the online feature store (customers routed by a hash of their id), and the model: a single
    score is computed where its customer's state is, in one vectorised pass with the others that came with it.

    Held in the ingress replica itself (server.feature_store: ingress, one replica holding every customer: no hop
    per score) or as FeatureShard actors that every ingress replica calls (server.feature_store: shards).
    """

    def __init__(self, index: int, shards: int, warm_from: Path | None, ml: MLConfig, monitoring: MonitoringConfig,
                 database: DatabaseConfig | None = None) -> None:
        self.served = ServedModel(ml, watching=monitoring.metrics_enabled)
        self.turn = threading.Lock()  # the customers' state changes one call at a time; scoring runs outside it
        self.shard = OnlineShard(index, shards)
        self.base = Reference.empty()  # what completes a raw event: this shard's customers, every merchant
        if warm_from is not None:
            self.shard.warm(warm_from)
            self.base = Reference.of_dataset(warm_from, self.shard.mine)
        self.reference = self.base
        self.database = database
        if database is not None and database.enabled:
            if warm_from is not None:
                self.rebuild(database)
            # the database's customers and merchants over the warm-up's, read again whenever they change
            self.feed = ReferenceFeed(database, self.refer)
            if not self.feed.start(wait_s=database.connect_timeout_s + database.statement_timeout_s):
                log.warning("feature_store.reference_pending", shard=index,
                            reason="the database did not answer; the reference follows when it does")
        self.undos: dict[int, Undo] = {}  # held batches' undos by token (POST /v1/transactions)
        self.tokens = 0
        self.size = metrics.STORE_CUSTOMERS.labels(str(index))
        self.hits, self.misses = metrics.STORE_LOOKUPS.labels("hit"), metrics.STORE_LOOKUPS.labels("miss")
        self._count(0, 0)

    def apply_live(self, settings: Settings, version: str) -> None:
        """A changed decision rule re-chooses the served policy (ServedModel.reconfigure)."""
        self.served.reconfigure(settings.ml)

    def rebuild(self, database: DatabaseConfig, strict: bool = False) -> None:
        """After the warm-up: replay what was stored since (a shard Serve recreated after it died, or an API
        restarted, gets back the state its writes built). The database down: the warm-up alone, said in the log
        (strict: the error is raised)."""
        try:
            rows = asyncio.run(stored_since(database, self.shard.warmed_until, INPUT_COLUMNS))
        except SynFinanceError as exc:
            if strict:
                raise
            log.warning("feature_store.rebuild_skipped", shard=self.shard.index, reason=str(exc))
            return
        # raw events were stored with their unknowns as nulls: completed again, as when they were scored
        table = self.reference.complete(pa.Table.from_pylist(rows, schema=INPUT_SCHEMA))
        with self.turn:
            replayed = self.shard.replay(table)
        log.info("feature_store.rebuilt", shard=self.shard.index, stored_rows=len(rows), replayed=replayed)

    def refer(self, customers: list[dict[str, Any]], merchants: list[dict[str, Any]]) -> None:
        """The database's customers (this shard's) and merchants over the warm-up dataset's: at start, and after
        every change to them (synfinance.store.notify.ReferenceFeed, from its thread)."""
        self.reference = Reference.of_rows(customers, merchants, self.shard.mine).over(self.base)
        log.info("feature_store.reference", shard=self.shard.index, **self.reference.sizes())

    def _count(self, hits: int, misses: int) -> None:
        if hits:
            self.hits.inc(hits)
        if misses:
            self.misses.inc(misses)
        self.size.set(self.shard.customer_count())

    def ones(self, requests: list[tuple[dict[str, Any], bool, dict[str, str] | None]]) -> list[Any]:
        """Score single transactions sent together (actors.handles.FeatureShards coalesces the calls that arrive
        while one is in flight), in order, their features and predictions each in one vectorised pass: per request
        (its prediction fields, its 69 features when asked) or the error that refused it alone (an out-of-order
        time). Each request keeps its own trace: a feature_store.one span under its caller's, with features.extract
        and model.predict under it (shared work, recorded in each). No model: ModelUnavailable for all, before any
        customer's state moves."""
        self.served.ready()
        events, known, carriers = [], [], []
        for transaction, _, carried in requests:
            with tracing.activated(carried), tracing.span("feature_store.one", tracing.SERVER):
                known.append(self.shard.knows(transaction["customer_id"]))
                events.append(self.reference.complete_one(transaction))
                carriers.append(tracing.carrier())
                log.debug("feature_store.one", transaction_id=transaction.get("transaction_id"), known=known[-1])
        started = time.time_ns()
        with self.turn:
            answers: list[Any] = self.shard.ones(events)
            done = [i for i, x in enumerate(answers) if not isinstance(x, ValidationError)]
            hits = sum(known[i] for i in done)
            self._count(hits, len(done) - hits)
        if done:
            extracted = time.time_ns()
            scored = self.served.score(np.vstack([answers[i] for i in done]))
            ended = time.time_ns()
            for i, result in zip(done, scored.rows(), strict=True):
                tracing.record_span("features.extract", carriers[i], started, extracted, rows=len(done))
                tracing.record_span("model.predict", carriers[i], extracted, ended, rows=len(done))
                answers[i] = (result, answers[i] if requests[i][1] else None)
        return answers

    @traced("feature_store.many")
    def many(self, table: pa.Table, positions: np.ndarray, explain: str | None,
             festival_given: np.ndarray | bool = True, features: bool = True, hold: bool = False
             ) -> tuple[np.ndarray | None, Scored | None, int | None]:
        """Features of a batch (returned when `features`: a 1,000-row batch's are 0.5 MB to send back), and
        (explain not None) their scores; positions are the rows' places in the request, festival_given where a
        null festival means none (else the calendar's is derived). With `hold`, a token for `release`, which can
        take the batch's change to the state back (its rows were not stored)."""
        if explain is not None:
            self.served.ready()
        completed = self.reference.complete(table, festival_given)
        token = None
        with self.turn:
            undo = Undo.before(self.shard.extractor, completed) if hold else None
            known = self.shard.known(table.column("customer_id"))
            x = self.shard.many(completed, positions)
            self._count(known, table.num_rows - known)
            if undo is not None:
                undo.seal()
                token = self._hold(undo)
        log.debug("feature_store.many", rows=table.num_rows, known_rows=known)
        if explain is None:
            return x, None, token
        with tracing.span("model.predict", rows=len(x), explain=explain):
            return x if features else None, self.served.score(x, explain), token

    def _hold(self, undo: Undo) -> int:
        """Keep an undo until released; the oldest of more than HELD_UNDOS is dropped (its caller is gone)."""
        self.tokens += 1
        self.undos[self.tokens] = undo
        while len(self.undos) > HELD_UNDOS:
            self.undos.pop(next(iter(self.undos)))
        return self.tokens

    @traced("feature_store.release")
    def release(self, token: int, undo: bool) -> tuple[int, int]:
        """Forget a held batch's undo, or (undo) put back the state rows it changed that nothing changed since:
        (rows restored, rows kept)."""
        with self.turn:  # the undos change under it too (_hold, from another thread when held in the ingress)
            held = self.undos.pop(token, None)
            if held is None or not undo:
                return 0, 0
            restored, kept = held.apply()
        log.info("feature_store.undone", shard=self.shard.index, restored_rows=restored, kept_rows=kept)
        return restored, kept

    @traced("feature_store.record")
    def record(self, table: pa.Table, festival_given: np.ndarray | bool = True) -> pa.Table:
        """Records to store (POST /v1/transactions) completed from this shard's reference: the input columns as
        scoring completes them and the stored context (Reference.complete_record); no state moves."""
        return self.reference.complete_record(table, festival_given)

    @traced("feature_store.model")
    def model(self) -> dict[str, Any]:
        """The served model's version, policy and test metrics, or {ready: False, reason}."""
        return self.served.info()

    @traced("feature_store.stats")
    def stats(self) -> dict[str, int]:
        with self.turn:
            return self.shard.stats()

    # -- the caches of `synfinance cache stats|warm|clear` (GET /v1/cache, POST /v1/cache/warm|clear) ---------------
    @traced("feature_store.cache")
    def cache(self) -> dict[str, Any]:
        """This shard's online features (entries, bytes) and its model cache (the loaded version and its size)."""
        return {"features": self.stats(), "model": self.served.cached()}

    @traced("feature_store.cache_clear")
    def clear(self, features: bool, model: bool) -> dict[str, Any]:
        """Forget the customers', merchants' and devices' state (each starts afresh: a miss), and/or drop the loaded
        model (read again from the registry by the next score)."""
        if features:
            with self.turn:
                self.shard = OnlineShard(self.shard.index, self.shard.shards)
                self._count(0, 0)
        if model:
            self.served.forget()
        return self.cache()

    @traced("feature_store.cache_warm")
    def warm(self, dataset: str | None) -> dict[str, Any]:
        """Replay a dataset directory's transactions of this shard's customers (their features then count them),
        or with no dataset the transactions the database stored after what is held; load the model too."""
        before = self.shard.warmed_rows
        if dataset is not None:
            with self.turn:
                self.shard.warm(Path(dataset))
            self.base = Reference.of_dataset(Path(dataset), self.shard.mine).over(self.base)
            self.reference = self.reference.over(self.base)
        elif self.database is not None and self.database.enabled:
            self.rebuild(self.database, strict=True)
        else:
            raise ValidationError.single("dataset", None, "a dataset directory when the database is off")
        self.served.load()
        self._count(0, 0)
        return {**self.cache(), "replayed_rows": self.shard.warmed_rows - before}


@ray.remote(num_cpus=0)
class FeatureShard(FeatureStore):
    """A FeatureStore as a deployment-scoped actor of the ingress (server.feature_store: shards; see
    serve/builder.py): Serve starts it with the app, every ingress replica shares it and calls it as a plain actor
    (actors.handles.FeatureShards), and Serve removes it with the app."""

    def __init__(self, index: int, shards: int, warm_from: Path | None, ml: MLConfig, monitoring: MonitoringConfig,
                 live: tuple[str, str] | None = None, database: DatabaseConfig | None = None) -> None:
        instrument("feature-shard", monitoring)
        super().__init__(index, shards, warm_from, ml, monitoring, database)
        follow(live, self.apply_live, "feature-shard")

    def apply_live(self, settings: Settings, version: str) -> None:
        """Log level and sampling too (this process's own)."""
        retune("feature-shard", settings.monitoring)
        super().apply_live(settings, version)


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
