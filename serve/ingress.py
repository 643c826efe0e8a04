"""The HTTP API: a FastAPI app served by the Ingress deployment, which holds the feature store (or calls its shards;
both score) and calls query.

Every /v1 route takes an `X-API-Key` with the route's scope (admin implies all) and is rate limited per
key; /health* and /metrics are open. Errors are mapped in serve/errors.py, bodies are defined in
serve/schemas.py, and the work is done by the deployments in serve/deployments.py.
(No `from __future__ import annotations` here: FastAPI must see real types through Serve's method wrappers.)
"""


import asyncio
import hashlib
import json
import pathlib
import time
from collections import Counter
from dataclasses import replace
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import structlog
from fastapi import Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from pydantic import ValidationError as PydanticError
from ray import serve
from starlette.types import ASGIApp, Receive, Scope, Send

from actors.handles import LIMIT_BANK, DeploymentActor, FeatureShards, HeldStore, QueryHandle, cluster_state
from actors.live import follow
from actors.metrics import cluster_page, instrument, retune
from serve import errors
from serve import health as checks
from serve.bodies import BATCH_BODY, batch_table, no_repeats, replayed, within_limit
from serve.columnar import ARROW_STREAM, scores_table, to_stream
from serve.deployments import FeatureStore, FeatureStoreSpec, LimitBank
from serve.edge import Edge, media_type
from serve.responses import elapsed_ms, feature_table, json_response, json_text, now_us, score_body
from serve.schemas import (
    MAX_BATCH,
    CacheClear,
    CacheWarm,
    ErrorBody,
    FeedbackBatch,
    FeedbackIn,
    FeedbackResult,
    Page,
    Records,
    Score,
    Scores,
    Stored,
    Text,
    Timestamp,
    TransactionIn,
)
from synfinance.errors import (
    Forbidden,
    ModelUnavailable,
    RateLimited,
    SynFinanceError,
    Unauthenticated,
    ValidationError,
)
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.online import shard_of, shard_of_one
from synfinance.model.scoring import Explain, Scored
from synfinance.observability import logs, metrics
from synfinance.schema import FEATURE_NAMES, SCHEMA_VERSION, STORED_TRANSACTION_SCHEMA
from synfinance.security import HEADER, Caller, KeyRing, RateLimiter
from synfinance.settings.models import MonitoringConfig, RateLimit, SecurityConfig, Settings
from synfinance.store.gateway import Gateway
from synfinance.store.idempotency import Idempotency, Replayed
from synfinance.store.repository import MAX_PAGE, TransactionFilter

log = logs.get_logger("synfinance.serve")
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
Held = tuple[int, int]  # (shard, token) of a batch whose state change can be taken back (FeatureStore.release)
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in (
        (401, "No API key, or an unknown one."), (403, "The key lacks the route's scope."),
        (422, "Invalid input; `details` names each field by its JSON path."), (429, "Over the key's rate limit."),
        (503, "A dependency is unavailable (model, database, open circuit); see Retry-After."))
}
api = FastAPI(
    title="SynFinance API", version=SCHEMA_VERSION, responses=ERRORS,
    description="Score Indian retail-banking transactions for fraud and query the stored data. "
                "Every /v1 route needs an `X-API-Key` header with the route's scope.")
errors.install(api)
api.add_middleware(Edge)
KEY = APIKeyHeader(name=HEADER, auto_error=False, description="API key with the route's scope.")
Key = Annotated[str | None, Security(KEY)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")]
Cursor = Annotated[Text | None, Query(description="next_cursor of the previous page.")]
From = Annotated[Timestamp | None, Query(alias="from", description="Inclusive start, ISO 8601 with a zone.")]
To = Annotated[Timestamp | None, Query(alias="to", description="Exclusive end, ISO 8601 with a zone.")]
Filter = Annotated[Text | None, Query()]


def require(scope: str) -> Any:
    """A dependency: the caller's key has `scope` and is within its rate limit. Runs before the body is read,
    so a request without the right key is refused (401/403/429) whatever its body."""

    async def check(request: Request, key: Key) -> Caller:
        keys, limits = request.app.state.keys, request.app.state.limits
        try:
            caller: Caller = keys.authenticate(key)
        except Unauthenticated as exc:
            log.warning(logs.AUTH_FAILED, reason=str(exc), path=request.url.path)
            raise
        structlog.contextvars.bind_contextvars(key_name=caller.name)  # the key's name, never the key
        try:
            keys.authorize(caller, scope)
        except Forbidden:
            log.warning(logs.SCOPE_REFUSED, scope=scope, path=request.url.path)
            raise
        await admit(limits, caller, request.url.path)
        return caller

    return check


async def admit(limits: RateLimiter, caller: Caller, path: str) -> None:
    """Take one of the caller's rate-limit tokens, or RateLimited (counted and logged)."""
    try:
        await limits.check(caller.name)
    except RateLimited:
        metrics.RATE_LIMITED.labels(caller.name).inc()
        log.warning(logs.RATE_LIMITED, path=path)
        raise


Scoring = Annotated[Caller, Depends(require("score"))]
Reading = Annotated[Caller, Depends(require("read"))]
Writing = Annotated[Caller, Depends(require("write"))]
Administering = Annotated[Caller, Depends(require("admin"))]


class FastScore:
    """POST /v1/score without FastAPI's routing and dependency solving (serve.edge.Edge hands it the request when
    there is no query string): the same key check, body model, rate limit, route method and answer, at about half
    the ingress's CPU per request outside the scoring itself. Whatever is not the plain case (a missing or wrong
    key, a body that does not parse or validate) goes to the app as usual with the body replayed, before any
    token is taken, so every such refusal is the app's own."""

    def __init__(self, score: Any) -> None:
        self.score = score  # Ingress.score, bound

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        keys, limits = scope["app"].state.keys, scope["app"].state.limits  # the app Serve serves (a copy of api)
        request = Request(scope, receive)
        try:
            raw = await request.body()
        except SynFinanceError as exc:  # too large while streaming in
            await errors.for_error(request, exc)(scope, receive, send)
            return
        try:
            caller = keys.authenticate(request.headers.get(HEADER))
            keys.authorize(caller, "score")
            transaction = TransactionIn.model_validate(json.loads(raw))
        except (Unauthenticated, Forbidden, ValueError, PydanticError):  # ValueError: JSONDecodeError
            await app(scope, replayed(raw, receive), send)
            return
        structlog.contextvars.bind_contextvars(key_name=caller.name)
        try:
            await admit(limits, caller, scope["path"])
            response = await self.score(transaction, caller, False)
        except Exception as exc:  # as the app's exception handlers answer it (serve/errors.py)
            response = errors.for_error(request, exc)
        await response(scope, receive, send)


def cache_report(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Per shard and in total: online-feature entries and bytes, and the model each shard has loaded."""
    features = [s["features"] for s in shards]
    return {"shards": shards,
            "features": {k: sum(f[k] for f in features)
                         for k in ("customers", "merchants", "devices", "state_bytes", "warmed_rows")},
            "model": {"versions": sorted({str(s["model"]["version"]) for s in shards}),
                      "bytes": sum(s["model"]["bytes"] for s in shards)}}


def _page(page: Any) -> Response:
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


def _replay(earlier: Replayed) -> Response:
    return Response(earlier.response, earlier.status, {"Idempotent-Replayed": "true"}, media_type="application/json")


def rows_at(table: pa.Table, positions: np.ndarray) -> pa.Table:
    """The rows at ascending `positions`: the table itself when they are all of it (one shard: no copy)."""
    return table if len(positions) == table.num_rows else table.take(pa.array(positions))


def _settled_late(write: asyncio.Task[Any]) -> None:
    """How a write its request stopped waiting for (the deadline) ended: the state counts its rows only if stored."""
    error = None if write.cancelled() else write.exception()
    outcome = "cancelled" if write.cancelled() else "failed" if error is not None else "stored"
    log.warning("transactions.settled_late", outcome=outcome, error=None if error is None else repr(error)[:300])


IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
    description="Makes a retry safe: the same request with the same key is answered once and stored once.")]

# Serve pickles the class when it is decorated: everything it uses must be defined above it.

@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=256)
@serve.ingress(api)
class Ingress:
    def __init__(self, store: FeatureStoreSpec, query: Any, security: SecurityConfig,
                 max_request_bytes: int, config_version: str, monitoring: MonitoringConfig,
                 live: tuple[str, str] | None = None, disk_paths: tuple[pathlib.Path, ...] = (),
                 timeout_s: float | None = None) -> None:
        # metrics through Ray's metrics agent (every replica's counts reach Prometheus), traces, JSON logs
        instrument("ingress", monitoring)
        api.state.access_log_ratio = monitoring.access_log_ratio  # read by Edge after every request
        # the feature store and model: held here (no hop per score), or shard actors shared by every replica
        self.held = store.open() if store.embedded else None
        self.shards: HeldStore | FeatureShards = (HeldStore(self.held) if self.held is not None
                                                      else FeatureShards(store.shards))
        self.query = QueryHandle(query)
        self.bank = DeploymentActor(LIMIT_BANK)  # every key's bucket, shared by the replicas
        # read by `require`: the keys, and limits that hold across replicas (tokens leased from the bank)
        api.state.keys, api.state.limits = KeyRing(security), RateLimiter(security, self.lease)
        self.config_version = config_version
        self.disk_paths = list(disk_paths)  # where the app writes: reported by /health
        follow(live, self.apply_live, "ingress")
        self.model_version: str | None = None
        self.settling: set[asyncio.Task[Any]] = set()  # writes being stored (some past their request's deadline)
        api.state.fast_routes = {("POST", "/v1/score"): FastScore(self.score)}  # read by Edge
        api.state.max_request_bytes = max_request_bytes  # read by Edge on every request
        api.state.timeout_s = timeout_s  # read by Edge: the request's deadline
        if security.cors_origins:  # outermost: a browser's preflight is answered before auth and body checks
            api.add_middleware(CORSMiddleware, allow_origins=list(security.cors_origins), allow_methods=["GET", "POST"],
                               allow_headers=[HEADER, "Content-Type", "X-Request-ID"],
                               expose_headers=["X-Request-ID", "Retry-After"])

    async def lease(self, name: str, want: int, limit: RateLimit) -> tuple[int, float]:
        return await self.bank.call(LimitBank.lease, name, want, limit)  # type: ignore[no-any-return]

    def apply_live(self, settings: Settings, version: str) -> None:
        """Keys (rotation), rate limits, access-log share, log level and sampling, from the next request on."""
        api.state.keys = KeyRing(settings.security)
        api.state.limits.reconfigure(settings.security)
        api.state.access_log_ratio = settings.monitoring.access_log_ratio
        retune("ingress", settings.monitoring)
        if self.held is not None:
            self.held.apply_live(settings, version)
        self.config_version = version

    async def model_ready(self) -> None:
        """Refuse (503, with the reason) before touching any state when there is no model to score with."""
        if self.model_version is None:
            info = await self.model_info()
            if not info["ready"]:
                raise ModelUnavailable(info["reason"])
            self.model_version = info["version"]

    async def model_info(self) -> dict[str, Any]:
        """The served model as a shard sees it (every shard loads the same registry's active version)."""
        return await self.shards.call(0, FeatureStore.model)  # type: ignore[no-any-return]

    async def shard_stats(self) -> list[dict[str, int]]:
        return await self.each_shard(FeatureStore.stats)

    async def db(self, method: Any, *args: Any) -> Any:
        """A Gateway method through the Query deployment (which keeps the breaker gauge)."""
        return await self.query.call(method, *args)

    # -- scoring -----------------------------------------------------------------------------------------
    @api.post("/v1/score", response_model=Score, tags=["scoring"])
    async def score(self, transaction: TransactionIn, _: Scoring,  # type: ignore[valid-type]
                    features: bool = Query(False, description="Include the 69 features.")) -> Response:
        """Score one transaction and advance its customer's online state (computed where the state and the model
        are: in this replica, or in its customer's shard, one hop away)."""
        started = time.perf_counter()
        row = transaction.model_dump(exclude_unset=True)  # type: ignore[attr-defined]  # absent: derived
        structlog.contextvars.bind_contextvars(transaction_id=row["transaction_id"])  # travels with the trace
        result, x = await self.shards.score_one(shard_of_one(row["customer_id"], len(self.shards)), row, features)
        return json_response(score_body(row["transaction_id"], result, x, now_us(), elapsed_ms(started)))

    @api.post("/v1/score/batch", response_model=Scores, tags=["scoring"], openapi_extra=BATCH_BODY,
              responses={413: {"model": ErrorBody, "description": f"More than {MAX_BATCH:,} transactions."},
                         200: {"content": {ARROW_STREAM: {"schema": {"type": "string", "format": "binary"}}},
                               "description": "Scores in request order; as Arrow with Accept: " + ARROW_STREAM}})
    async def score_batch(self, request: Request, _: Scoring,
                          explain: Annotated[Explain, Query(description="Who gets top reasons: reviewed and "
                                                            "declined transactions, all (slower), or none.")]
                          = "flagged",
                          features: bool = Query(False, description="Include the 69 features.")) -> Response:
        """Score up to 10,000 transactions; each customer's are taken oldest first, results in request order.
        The body is JSON or, for bulk clients, an Arrow IPC stream of the same columns."""
        started = time.perf_counter()
        table, festival_given = await batch_table(request)
        await self.model_ready()
        x, scored, _held = await self.scored(table, explain, festival_given, features)  # nothing held
        ids, elapsed, at = table.column("transaction_id"), elapsed_ms(started), now_us()
        if media_type(request.headers.get("content-type", "")) == ARROW_STREAM:
            metrics.BATCH_SIZE.labels("/v1/score/batch").observe(table.num_rows)
        if ARROW_STREAM in request.headers.get("accept", ""):
            body = to_stream(scores_table(ids, scored, at, elapsed, x))
            return Response(body, media_type=ARROW_STREAM)
        scores = [score_body(i, r, None if x is None else x[k], at, elapsed) for k, (i, r) in
                  enumerate(zip(ids.to_pylist(), scored.rows(), strict=True))]
        return json_response({"scores": scores, "processing_time_ms": elapsed})

    async def scored(self, table: pa.Table, explain: Explain, festival_given: np.ndarray | bool = True,
                     features: bool = True, hold: bool = False) -> tuple[np.ndarray | None, Scored, list[Held]]:
        """Scores of every row, and (features) their features, each shard computing and scoring its customers'
        rows concurrently; with `hold`, what `release` needs to take the state change back. A batch over several
        shards is all or nothing: when one shard refuses its part, the others' parts are taken back."""
        parts = self.parts(table)
        given = np.broadcast_to(np.asarray(festival_given, bool), (table.num_rows,))
        holding = hold or len(parts) > 1
        found = await asyncio.gather(*(self.shards.call(s, FeatureStore.many, rows_at(table, p), p, explain,
                                                        given[p], features, holding) for s, p in parts),
                                     return_exceptions=True)
        done = [(s, p, f) for (s, p), f in zip(parts, found, strict=True) if not isinstance(f, BaseException)]
        held = [(s, f[2]) for s, _, f in done if f[2] is not None]
        if failed := [f for f in found if isinstance(f, BaseException)]:
            await self.release(held, undo=True)
            raise failed[0]
        if not hold:
            await self.release(held, undo=False)
            held = []
        x = np.empty((table.num_rows, len(FEATURE_NAMES))) if features else None
        if x is not None:
            for _, positions, (values, _, _) in done:
                x[positions] = values
        return x, Scored.placed(table.num_rows, [(p, f[1]) for _, p, f in done]), held

    def parts(self, table: pa.Table) -> list[tuple[int, np.ndarray]]:
        """Each shard that holds customers of the rows, with those rows' positions."""
        shard = shard_of(table.column("customer_id"), len(self.shards))
        return [(s, p) for s in range(len(self.shards)) if len(p := np.flatnonzero(shard == s))]

    async def release(self, held: list[Held], undo: bool) -> None:
        """Let the shards forget held batches, or (undo) take back their change to the state."""
        await asyncio.gather(*(self.shards.call(s, FeatureStore.release, token, undo) for s, token in held))

    async def completed(self, table: pa.Table, festival_given: np.ndarray) -> pa.Table:
        """Records completed by the reference of each customer's shard (FeatureStore.record), in request order."""
        parts = self.parts(table)
        done = await asyncio.gather(*(self.shards.call(s, FeatureStore.record, rows_at(table, p),
                                                       festival_given[p]) for s, p in parts))
        back = np.empty(table.num_rows, np.int64)
        back[np.concatenate([p for _, p in parts])] = np.arange(table.num_rows)
        return pa.concat_tables(done).take(pa.array(back))

    # -- label feedback ----------------------------------------------------------------------------------
    @api.post("/v1/feedback", response_model=FeedbackResult, tags=["scoring"],
              responses={404: {"model": ErrorBody, "description": "The transaction has no stored prediction."}})
    async def feedback(self, outcome: FeedbackIn, _: Writing) -> Response:
        """What was learned later about a scored and stored transaction (chargeback, case outcome): joined to
        its prediction, it feeds the true/false positive counters per fraud type. A repeat is not counted."""
        return await self.record_feedback([outcome])

    @api.post("/v1/feedback/batch", response_model=FeedbackResult, tags=["scoring"],
              responses={404: {"model": ErrorBody, "description": "A transaction has no stored prediction."}})
    async def feedback_batch(self, batch: FeedbackBatch, _: Writing) -> Response:
        """Up to 10,000 outcomes at once, all recorded or (one unknown transaction) none."""
        no_repeats([f.transaction_id for f in batch.feedback], "feedback")
        return await self.record_feedback(batch.feedback)

    async def record_feedback(self, items: list[FeedbackIn]) -> Response:
        counted = await self.db(Gateway.feedback, [f.transaction_id for f in items], [f.is_fraud for f in items],
                                [f.fraud_type for f in items])
        cells = Counter((r["outcome"], r["fraud_type"], r["model_version"]) for r in counted)
        for labels, count in cells.items():
            metrics.FEEDBACK.labels(*labels).inc(count)
        outcomes = Counter(r["outcome"] for r in counted)
        return json_response({"received": len(items), "counted": len(counted), "outcomes": dict(outcomes)})

    # -- storing -----------------------------------------------------------------------------------------
    @api.post("/v1/transactions", response_model=Stored, status_code=201, tags=["transactions"],
              responses={409: {"model": ErrorBody, "description": "A transaction id is stored already."}})
    async def store(self, request: Request, records: Records, caller: Writing,
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
            if (earlier := await self.db(Gateway.replayed, claim)) is not None:
                return _replay(earlier)
        given = [r.model_fields_set for r in rows]
        table = pa.Table.from_pylist([r.model_dump() for r in rows], schema=STORED_TRANSACTION_SCHEMA)
        ids = table.column("transaction_id")
        no_repeats(ids.to_pylist())
        if score:
            await self.model_ready()
            await self.db(Gateway.absent, ids.to_pylist())
        if rows:
            table = await self.completed(table, np.array(["festival" in g for g in given], bool))
        write = asyncio.create_task(self.score_and_store(table, given, claim, score, started))
        self.settling.add(write)
        write.add_done_callback(self.settling.discard)
        try:  # a deadline does not cut a write short: it runs on and settles the state (stored rows count, others not)
            stored, body = await asyncio.shield(write)
        except asyncio.CancelledError:
            write.add_done_callback(_settled_late)
            raise
        if isinstance(stored, Replayed):
            return _replay(stored)
        return Response(body, 201, media_type="application/json")

    async def score_and_store(self, table: pa.Table, given: list[set[str]], claim: Idempotency | None, score: bool,
                              started: float) -> tuple[Any, str]:
        """Score the rows (their customers' state advances, held), store them, then keep the state's change or,
        when they were not stored, take it back: (what the store returned, the answer)."""
        ids = table.column("transaction_id")
        x, scored, held = await self.scored(table.select(INPUT_COLUMNS), "flagged", hold=True) \
            if score and table.num_rows else (None, None, [])
        at = now_us()
        scores = None if scored is None else [score_body(i, r, None, at, elapsed_ms(started)) for i, r in
                                              zip(ids.to_pylist(), scored.rows(), strict=True)]
        body = json_text({"stored": table.num_rows, "scores": scores})  # the answer, kept with the rows under a key
        try:
            stored = await self.db(Gateway.store, table, None if x is None else feature_table(ids, x),
                                   None if scored is None else scored.table(ids, at),
                                   None if claim is None else replace(claim, response=body),
                                   np.array(["time_since_last_txn_s" not in g for g in given], bool))
        except SynFinanceError:  # not stored: the features' state must not count the rows
            await self.release(held, undo=True)
            raise
        # a concurrent request with the same key was stored first: these rows were not stored
        await self.release(held, undo=isinstance(stored, Replayed))
        return stored, body

    # -- queries -----------------------------------------------------------------------------------------
    @api.get("/v1/transactions/{transaction_id}", tags=["transactions"],
             responses={404: {"model": ErrorBody, "description": "No such transaction."}})
    async def transaction(self, transaction_id: Annotated[Text, Path()], _: Reading) -> Response:
        return json_response(await self.db(Gateway.transaction, transaction_id))

    @api.get("/v1/transactions", response_model=Page, tags=["transactions"])
    async def transactions(self, _: Reading, customer_id: Filter = None, merchant_id: Filter = None,
                           start: From = None, end: To = None, fraud_type: Filter = None,
                           min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
                           status: Filter = None, limit: Limit = 100, cursor: Cursor = None) -> Response:
        """Transactions oldest first, filtered; follow next_cursor for the next page."""
        f = TransactionFilter(customer_id, merchant_id, start, end, fraud_type, status, min_score)
        return _page(await self.db(Gateway.transactions, f, limit, cursor))

    @api.get("/v1/customers", response_model=Page, tags=["population"])
    async def customers(self, _: Reading, city: Filter = None, segment: Filter = None, limit: Limit = 100,
                        cursor: Cursor = None) -> Response:
        return _page(await self.db(Gateway.customers, city, segment, limit, cursor))

    @api.get("/v1/customers/{customer_id}", tags=["population"],
             responses={404: {"model": ErrorBody, "description": "No such customer."}})
    async def customer(self, customer_id: Annotated[Text, Path()], _: Reading) -> Response:
        return json_response(await self.db(Gateway.customer, customer_id))

    @api.get("/v1/merchants", response_model=Page, tags=["population"])
    async def merchants(self, _: Reading, category: Filter = None, city: Filter = None, limit: Limit = 100,
                        cursor: Cursor = None) -> Response:
        return _page(await self.db(Gateway.merchants, category, city, limit, cursor))

    @api.get("/v1/merchants/{merchant_id}", tags=["population"],
             responses={404: {"model": ErrorBody, "description": "No such merchant."}})
    async def merchant(self, merchant_id: Annotated[Text, Path()], _: Reading) -> Response:
        return json_response(await self.db(Gateway.merchant, merchant_id))

    @api.get("/v1/predictions", response_model=Page, tags=["scoring"])
    async def predictions(self, _: Reading, transaction_id: Filter = None, start: From = None, end: To = None,
                          limit: Limit = 100, cursor: Cursor = None) -> Response:
        """Stored predictions: of one transaction, or scored in a time range (paginated)."""
        if transaction_id is not None:
            return json_response({"items": await self.db(Gateway.predictions_for, transaction_id), "next_cursor": None})
        return _page(await self.db(Gateway.predictions, start, end, limit, cursor))

    @api.get("/v1/stats/fraud", tags=["stats"])
    async def fraud_stats(self, _: Reading, by: Literal["day", "type"] = "day", start: From = None,
                          end: To = None) -> Response:
        """Fraud counts and rates per IST day, or per fraud type."""
        return json_response({"by": by, "rows": await self.db(Gateway.fraud_stats, by, start, end)})

    @api.get("/v1/model", tags=["scoring"])
    async def model(self, _: Reading) -> Response:
        """The active model: version, decision policy, test metrics and feature list."""
        info = await self.model_info()
        if not info["ready"]:
            raise ModelUnavailable(info["reason"])
        return json_response(info)

    # -- caches (admin) ----------------------------------------------------------------------------------
    async def each_shard(self, method: Any, *args: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self.shards.call(i, method, *args) for i in range(len(self.shards)))))

    @api.get("/v1/cache", tags=["admin"])
    async def cache(self, _: Administering) -> Response:
        """The online feature store per shard (customers, merchants, devices, bytes) and each shard's model cache."""
        return json_response(cache_report(await self.each_shard(FeatureStore.cache)))

    @api.post("/v1/cache/warm", tags=["admin"])
    async def cache_warm(self, body: CacheWarm, _: Administering) -> Response:
        """Replay a dataset's transactions (or, with no dataset, those the database stored since) into the online
        features, and load the model."""
        if body.dataset is not None and not (pathlib.Path(body.dataset) / "manifest.json").is_file():
            raise ValidationError.single("dataset", body.dataset, "a dataset directory (with manifest.json) on the "
                                                                  "API's machine")
        shards = await self.each_shard(FeatureStore.warm, body.dataset)
        self.model_version = None
        return json_response({"replayed_rows": sum(s["replayed_rows"] for s in shards), **cache_report(shards)})

    @api.post("/v1/cache/clear", tags=["admin"])
    async def cache_clear(self, body: CacheClear, _: Administering) -> Response:
        """Empty the online features (every customer starts afresh) and/or drop the loaded model."""
        shards = await self.each_shard(FeatureStore.clear, body.features, body.model)
        self.model_version = None
        return json_response(cache_report(shards))

    # -- health and metrics (open) -----------------------------------------------------------------------
    @api.get("/health/live", tags=["health"])
    async def live(self) -> Response:
        """The ingress answers (no dependency is asked: a dead database never makes the service not-live)."""
        return json_response({"status": "ok"})

    @api.get("/health/startup", tags=["health"])
    async def startup(self) -> Response:
        """Every feature-store shard has warmed and answers (503 until then)."""
        shards = await checks.timed(self.shard_stats_state())
        return json_response({"status": shards["status"], "feature_shards": shards.get("detail", [])},
                             200 if shards["status"] == "ok" else 503)

    @api.get("/health/ready", tags=["health"])
    async def ready(self, route: Annotated[checks.Group, Query(description="Which routes: scoring (/v1/score*), "
                                                           "queries (GET /v1/...), writes (POST /v1/transactions, "
                                                           "/v1/feedback).")] = "scoring") -> Response:
        """Ready to serve a group of routes: 503 (saying which component is down) when a dependency it needs is
        down or slow; other groups are unaffected."""
        components = await self.components(checks.NEEDS[route])
        ok = checks.readiness(components)[route]
        down = {n: c for n, c in components.items() if c.get("status") not in ("ok", "disabled")}
        model = components.get("model", {})
        return json_response({"status": "ok" if ok else "unavailable", "route": route, "model": model.get("version"),
                              "reason": "; ".join(f"{n}: {c.get('reason') or c['status']}" for n, c in down.items())
                              or None, "down": sorted(down)}, 200 if ok else 503)

    @api.get("/health", tags=["health"])
    async def health(self) -> Response:
        """Each component's state (model, feature store, database with its breaker, Ray, disk), which routes are
        ready, and the configuration version in force."""
        components = await self.components(("model", "feature_store", "database", "ray", "disk"))
        ready = checks.readiness(components)
        return json_response({"status": checks.overall(ready, components), "ready": ready,
                              "config_version": self.config_version, **components})

    async def shard_stats_state(self) -> dict[str, Any]:
        return checks.feature_store_state(await self.shard_stats(), "ingress" if self.held is not None else "shards",
                                          len(self.settling))

    async def components(self, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        by_name: dict[str, Any] = {
            "model": self.model_info, "feature_store": self.shard_stats_state,
            "database": lambda: self.query.call(Gateway.status),
            "ray": lambda: asyncio.to_thread(cluster_state),
            "disk": lambda: asyncio.to_thread(checks.disk_state, self.disk_paths)}
        found = await asyncio.gather(*(checks.timed(by_name[n]()) for n in names))
        states = dict(zip(names, found, strict=True))
        if "model" in states:
            states["model"] = checks.model_state(states["model"])
        return states

    @api.get("/metrics", tags=["health"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}})
    async def prometheus(self) -> Response:
        """SynFinance's metrics of the whole cluster (every replica and actor), read from Ray's metrics agents;
        Prometheus itself scrapes the agents (monitoring/prometheus/prometheus.yml)."""
        return Response(await asyncio.to_thread(cluster_page), media_type=PROMETHEUS_TEXT)
