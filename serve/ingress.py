"""The HTTP API's routes: a FastAPI app served by the Ingress deployment. Each route checks the caller
(serve/access.py), reads its request, asks serve.scoring.Scoring and turns the answer into a response.

Every /v1 route takes an `X-API-Key` with the route's scope (admin implies all) and is rate limited per
key; /health* and /metrics are open. Errors are mapped in serve/errors.py, bodies are defined in
serve/schemas.py.
(No `from __future__ import annotations` here: FastAPI must see real types through Serve's method wrappers.)
"""


import asyncio
import hashlib
import pathlib
import time
from typing import Annotated, Any, Literal

import pyarrow as pa
import structlog
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from ray import serve

from actors.handles import LIMIT_BANK, DeploymentActor, FeatureShards, HeldStore, QueryHandle
from actors.live import follow
from actors.metrics import cluster_page, instrument, retune
from serve import errors, schemas
from serve import health as checks
from serve.access import Access, FastScore, access_of, require
from serve.bodies import BATCH_BODY, batch_table, no_repeats, within_limit
from serve.columnar import ARROW_STREAM, scores_table, to_stream
from serve.deployments import FeatureStoreSpec, LimitBank
from serve.edge import Edge, EdgeConfig, media_type
from serve.responses import elapsed_ms, json_response, now_us, score_body
from serve.schemas import ErrorBody, Text, Timestamp
from serve.scoring import Scoring
from synfinance.errors import ModelUnavailable
from synfinance.model.scoring import Explain
from synfinance.observability import metrics
from synfinance.schema import SCHEMA_VERSION, STORED_TRANSACTION_SCHEMA
from synfinance.security import HEADER, Caller, KeyRing, RateLimiter
from synfinance.settings.models import MonitoringConfig, SecurityConfig, Settings
from synfinance.store.gateway import Gateway
from synfinance.store.idempotency import Idempotency, Replayed
from synfinance.store.repository import MAX_PAGE, TransactionFilter

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
api = FastAPI(
    title="SynFinance API", version=SCHEMA_VERSION, responses=errors.RESPONSES,
    description="Score Indian retail-banking transactions for fraud and query the stored data. "
                "Every /v1 route needs an `X-API-Key` header with the route's scope.")
errors.install(api)
api.add_middleware(Edge)
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")]
Cursor = Annotated[Text | None, Query(description="next_cursor of the previous page.")]
From = Annotated[Timestamp | None, Query(alias="from", description="Inclusive start, ISO 8601 with a zone.")]
To = Annotated[Timestamp | None, Query(alias="to", description="Exclusive end, ISO 8601 with a zone.")]
Filter = Annotated[Text | None, Query()]
Scorer = Annotated[Caller, Depends(require("score"))]
Reader = Annotated[Caller, Depends(require("read"))]
Writer = Annotated[Caller, Depends(require("write"))]
Admin = Annotated[Caller, Depends(require("admin"))]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
    description="Makes a retry safe: the same request with the same key is answered once and stored once.")]


def _page(page: Any) -> Response:
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


def _replay(earlier: Replayed) -> Response:
    return Response(earlier.response, earlier.status, {"Idempotent-Replayed": "true"}, media_type="application/json")


# Serve pickles the class when it is decorated: everything it uses must be defined above it.

@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
@serve.ingress(api)
class Ingress:
    def __init__(self, store: FeatureStoreSpec, query: Any, security: SecurityConfig,
                 max_request_bytes: int, config_version: str, monitoring: MonitoringConfig,
                 live: tuple[str, str] | None = None, disk_paths: tuple[pathlib.Path, ...] = (),
                 timeout_s: float | None = None) -> None:
        instrument("ingress", monitoring)  # metrics through Ray's agent, traces, JSON logs
        # the feature store and model: held here (no hop per score), or shard actors shared by every replica
        self.held = store.open() if store.embedded else None
        shards = HeldStore(self.held) if self.held is not None else FeatureShards(store.shards)
        self.query = QueryHandle(query)  # the database, through the Query deployment (which keeps the breaker)
        self.scoring = Scoring(shards, self.query, disk_paths)
        bank = DeploymentActor(LIMIT_BANK)  # every key's bucket, shared by the replicas, which lease tokens from it
        limits = RateLimiter(security, lambda *lease: bank.call(LimitBank.lease, *lease))
        api.state.access = Access(KeyRing(security), limits)
        api.state.edge = EdgeConfig(max_request_bytes, timeout_s, monitoring.access_log_ratio,
                                    {("POST", "/v1/score"): FastScore(self.score)})
        self.config_version = config_version
        follow(live, self.apply_live, "ingress")
        if security.cors_origins:  # outermost: a browser's preflight is answered before auth and body checks
            api.add_middleware(CORSMiddleware, allow_origins=list(security.cors_origins), allow_methods=["GET", "POST"],
                               allow_headers=[HEADER, "Content-Type", "X-Request-ID"],
                               expose_headers=["X-Request-ID", "Retry-After"])

    def apply_live(self, settings: Settings, version: str) -> None:
        """Keys (rotation), rate limits, access-log share, log level and sampling, from the next request on."""
        access = access_of(api)
        access.keys = KeyRing(settings.security)
        access.limits.reconfigure(settings.security)
        api.state.edge.access_log_ratio = settings.monitoring.access_log_ratio
        retune("ingress", settings.monitoring)
        if self.held is not None:
            self.held.apply_live(settings, version)
        self.config_version = version

    # -- scoring -----------------------------------------------------------------------------------------
    @api.post("/v1/score", response_model=schemas.Score, tags=["scoring"])
    async def score(self, transaction: schemas.TransactionIn, _: Scorer,  # type: ignore[valid-type]
                    features: bool = Query(False, description="Include the 69 features.")) -> Response:
        """Score one transaction and advance its customer's online state (computed where the state and the model
        are: in this replica, or in its customer's shard, one hop away)."""
        started = time.perf_counter()
        row = transaction.model_dump(exclude_unset=True)  # type: ignore[attr-defined]  # absent: derived
        structlog.contextvars.bind_contextvars(transaction_id=row["transaction_id"])  # travels with the trace
        result, x = await self.scoring.score_one(row, features)
        return json_response(score_body(row["transaction_id"], result, x, now_us(), elapsed_ms(started)))

    @api.post("/v1/score/batch", response_model=schemas.Scores, tags=["scoring"], openapi_extra=BATCH_BODY,
              responses={413: {"model": ErrorBody, "description": f"More than {schemas.MAX_BATCH:,} transactions."},
                         200: {"content": {ARROW_STREAM: {"schema": {"type": "string", "format": "binary"}}},
                               "description": "Scores in request order; as Arrow with Accept: " + ARROW_STREAM}})
    async def score_batch(self, request: Request, _: Scorer,
                          explain: Annotated[Explain, Query(description="Who gets top reasons: reviewed and "
                                                            "declined transactions, all (slower), or none.")]
                          = "flagged",
                          features: bool = Query(False, description="Include the 69 features.")) -> Response:
        """Score up to 10,000 transactions; each customer's are taken oldest first, results in request order.
        The body is JSON or, for bulk clients, an Arrow IPC stream of the same columns."""
        started = time.perf_counter()
        table, festival_given = await batch_table(request)
        x, scored = await self.scoring.score_batch(table, explain, festival_given, features)
        ids, elapsed, at = table.column("transaction_id"), elapsed_ms(started), now_us()
        if media_type(request.headers.get("content-type", "")) == ARROW_STREAM:
            metrics.BATCH_SIZE.labels("/v1/score/batch").observe(table.num_rows)
        if ARROW_STREAM in request.headers.get("accept", ""):
            return Response(to_stream(scores_table(ids, scored, at, elapsed, x)), media_type=ARROW_STREAM)
        scores = [score_body(i, r, None if x is None else x[k], at, elapsed) for k, (i, r) in
                  enumerate(zip(ids.to_pylist(), scored.rows(), strict=True))]
        return json_response({"scores": scores, "processing_time_ms": elapsed})

    # -- label feedback ----------------------------------------------------------------------------------
    @api.post("/v1/feedback", response_model=schemas.FeedbackResult, tags=["scoring"],
              responses={404: {"model": ErrorBody, "description": "The transaction has no stored prediction."}})
    async def feedback(self, outcome: schemas.FeedbackIn, _: Writer) -> Response:
        """What was learned later about a scored and stored transaction (chargeback, case outcome): joined to
        its prediction, it feeds the true/false positive counters per fraud type. A repeat is not counted."""
        return json_response(await self.scoring.feedback([outcome]))

    @api.post("/v1/feedback/batch", response_model=schemas.FeedbackResult, tags=["scoring"],
              responses={404: {"model": ErrorBody, "description": "A transaction has no stored prediction."}})
    async def feedback_batch(self, batch: schemas.FeedbackBatch, _: Writer) -> Response:
        """Up to 10,000 outcomes at once, all recorded or (one unknown transaction) none."""
        no_repeats([f.transaction_id for f in batch.feedback], "feedback")
        return json_response(await self.scoring.feedback(batch.feedback))

    # -- storing -----------------------------------------------------------------------------------------
    @api.post("/v1/transactions", response_model=schemas.Stored, status_code=201, tags=["transactions"],
              responses={409: {"model": ErrorBody, "description": "A transaction id is stored already."}})
    async def store(self, request: Request, records: schemas.Records, caller: Writer,
                    score: bool = Query(True, description="Score them and store the predictions too."),
                    idempotency_key: IdempotencyKey = None) -> Response:
        """Store transactions (and, unless ?score=false, their features and predictions) atomically: raw events or
        whole records, what is left out derived by the server (docs/api.md, "The raw event").

        With an `Idempotency-Key`, a retry of the same request (same key, body and query, same API key) gets the
        first answer again, marked `Idempotent-Replayed: true`, and nothing is written twice; the same key with a
        different request is refused (422). Without one, a repeat is refused as a conflict (409)."""
        started = time.perf_counter()
        rows = within_limit(records.transactions)
        metrics.BATCH_SIZE.labels("/v1/transactions").observe(len(rows))
        claim = None
        if idempotency_key is not None:
            digest = hashlib.sha256(f"score={score}\n".encode() + await request.body()).hexdigest()
            claim = Idempotency(caller.name, idempotency_key, digest, 201, "")
        table = pa.Table.from_pylist([r.model_dump() for r in rows], schema=STORED_TRANSACTION_SCHEMA)
        no_repeats(table.column("transaction_id").to_pylist())
        stored, body = await self.scoring.store(table, [r.model_fields_set for r in rows], claim, score, started)
        return _replay(stored) if isinstance(stored, Replayed) else Response(body, 201, media_type="application/json")

    # -- queries -----------------------------------------------------------------------------------------
    @api.get("/v1/transactions/{transaction_id}", tags=["transactions"],
             responses={404: {"model": ErrorBody, "description": "No such transaction."}})
    async def transaction(self, transaction_id: Annotated[Text, Path()], _: Reader) -> Response:
        return json_response(await self.query.call(Gateway.transaction, transaction_id))

    @api.get("/v1/transactions", response_model=schemas.Page, tags=["transactions"])
    async def transactions(self, _: Reader, customer_id: Filter = None, merchant_id: Filter = None,
                           start: From = None, end: To = None, fraud_type: Filter = None,
                           min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
                           status: Filter = None, limit: Limit = 100, cursor: Cursor = None) -> Response:
        """Transactions oldest first, filtered; follow next_cursor for the next page."""
        f = TransactionFilter(customer_id, merchant_id, start, end, fraud_type, status, min_score)
        return _page(await self.query.call(Gateway.transactions, f, limit, cursor))

    @api.get("/v1/customers", response_model=schemas.Page, tags=["population"])
    async def customers(self, _: Reader, city: Filter = None, segment: Filter = None, limit: Limit = 100,
                        cursor: Cursor = None) -> Response:
        return _page(await self.query.call(Gateway.customers, city, segment, limit, cursor))

    @api.get("/v1/customers/{customer_id}", tags=["population"],
             responses={404: {"model": ErrorBody, "description": "No such customer."}})
    async def customer(self, customer_id: Annotated[Text, Path()], _: Reader) -> Response:
        return json_response(await self.query.call(Gateway.customer, customer_id))

    @api.get("/v1/merchants", response_model=schemas.Page, tags=["population"])
    async def merchants(self, _: Reader, category: Filter = None, city: Filter = None, limit: Limit = 100,
                        cursor: Cursor = None) -> Response:
        return _page(await self.query.call(Gateway.merchants, category, city, limit, cursor))

    @api.get("/v1/merchants/{merchant_id}", tags=["population"],
             responses={404: {"model": ErrorBody, "description": "No such merchant."}})
    async def merchant(self, merchant_id: Annotated[Text, Path()], _: Reader) -> Response:
        return json_response(await self.query.call(Gateway.merchant, merchant_id))

    @api.get("/v1/predictions", response_model=schemas.Page, tags=["scoring"])
    async def predictions(self, _: Reader, transaction_id: Filter = None, start: From = None, end: To = None,
                          limit: Limit = 100, cursor: Cursor = None) -> Response:
        """Stored predictions: of one transaction, or scored in a time range (paginated)."""
        if transaction_id is not None:
            items = await self.query.call(Gateway.predictions_for, transaction_id)
            return json_response({"items": items, "next_cursor": None})
        return _page(await self.query.call(Gateway.predictions, start, end, limit, cursor))

    @api.get("/v1/stats/fraud", tags=["stats"])
    async def fraud_stats(self, _: Reader, by: Literal["day", "type"] = "day", start: From = None,
                          end: To = None) -> Response:
        """Fraud counts and rates per IST day, or per fraud type."""
        return json_response({"by": by, "rows": await self.query.call(Gateway.fraud_stats, by, start, end)})

    @api.get("/v1/model", tags=["scoring"])
    async def model(self, _: Reader) -> Response:
        """The champion (the active model: version, decision policy, test metrics, feature list) and the challenger
        scoring beside it in shadow, if any, with what it would have decided and how often it agreed."""
        info = await self.scoring.model_info()
        if not info["ready"]:
            raise ModelUnavailable(info["reason"])
        return json_response(info)

    # -- caches (admin) ----------------------------------------------------------------------------------
    @api.get("/v1/cache", tags=["admin"])
    async def cache(self, _: Admin) -> Response:
        """The online feature store per shard (customers, merchants, devices, bytes) and each shard's model cache."""
        return json_response(await self.scoring.cache())

    @api.post("/v1/cache/warm", tags=["admin"])
    async def cache_warm(self, body: schemas.CacheWarm, _: Admin) -> Response:
        """Replay a dataset's transactions (or, with no dataset, those the database stored since) into the online
        features, and load the model."""
        return json_response(await self.scoring.warm(body.dataset))

    @api.post("/v1/cache/clear", tags=["admin"])
    async def cache_clear(self, body: schemas.CacheClear, _: Admin) -> Response:
        """Empty the online features (every customer starts afresh) and/or drop the loaded model."""
        return json_response(await self.scoring.clear(body.features, body.model))

    # -- health and metrics (open) -----------------------------------------------------------------------
    @api.get("/health/live", tags=["health"])
    async def live(self) -> Response:
        """The ingress answers (no dependency is asked: a dead database never makes the service not-live)."""
        return json_response({"status": "ok"})

    @api.get("/health/startup", tags=["health"])
    async def startup(self) -> Response:
        """Every feature-store shard has warmed and answers (503 until then)."""
        body = await self.scoring.startup()
        return json_response(body, 200 if body["status"] == "ok" else 503)

    @api.get("/health/ready", tags=["health"])
    async def ready(self, route: Annotated[checks.Group, Query(description="Which routes: scoring (/v1/score*), "
                                                           "queries (GET /v1/...), writes (POST /v1/transactions, "
                                                           "/v1/feedback).")] = "scoring") -> Response:
        """Ready to serve a group of routes: 503 (saying which component is down) when a dependency it needs is
        down or slow; other groups are unaffected."""
        body = await self.scoring.ready(route)
        return json_response(body, 200 if body["status"] == "ok" else 503)

    @api.get("/health", tags=["health"])
    async def health(self) -> Response:
        """Each component's state (model, feature store, database with its breaker, Ray, disk), which routes are
        ready, and the configuration version in force."""
        return json_response({**await self.scoring.health(), "config_version": self.config_version})

    @api.get("/metrics", tags=["health"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}})
    async def prometheus(self) -> Response:
        """SynFinance's metrics of the whole cluster (every replica and actor), read from Ray's metrics agents;
        Prometheus itself scrapes the agents (monitoring/prometheus/prometheus.yml)."""
        return Response(await asyncio.to_thread(cluster_page), media_type=PROMETHEUS_TEXT)
