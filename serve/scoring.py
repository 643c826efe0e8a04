"""What the API's routes ask of the feature store, the model and the database, without HTTP: scatter a batch over
the feature-store shards and gather it back in request order, hold a batch's change to the customers' state
until its rows are stored (and take it back when they are not), store idempotently, record label feedback,
report the caches and each component's health.

`Scoring` is a plain class: the ingress (serve/ingress.py) turns requests into its calls and its answers into
responses; a test drives it in process with a held store and a held gateway (actors.handles.HeldStore, HeldQuery).

    scoring = Scoring(HeldStore(store), HeldQuery(gateway))
    x, scored = await scoring.score_batch(table, "flagged")
"""

from __future__ import annotations

import asyncio
import pathlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from actors.handles import HeldStore, Method, cluster_state
from serve import health as checks
from serve.deployments import FeatureStore
from serve.responses import elapsed_ms, feature_table, json_text, now_us, score_body
from serve.schemas import FeedbackIn
from synfinance.errors import ModelUnavailable, SynFinanceError, ValidationError
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.online import shard_of, shard_of_one
from synfinance.model.scoring import Explain, Scored
from synfinance.model.watch import spaced
from synfinance.observability import logs, metrics
from synfinance.schema import FEATURE_NAMES
from synfinance.store.gateway import Gateway
from synfinance.store.idempotency import Idempotency, Replayed

log = logs.get_logger("synfinance.serve")
Held = tuple[int, int]  # (shard, token) of a batch whose state change can be taken back (FeatureStore.release)
COMPONENTS = ("model", "feature_store", "database", "ray", "disk")
LAGS_PER_CALL = 64  # feedback lags observed per feedback request, evenly spaced over its rows


class Shards(Protocol):
    """The feature store as the ingress reaches it: held in process (HeldStore) or as shard actors (FeatureShards)."""

    def __len__(self) -> int: ...

    async def call(self, index: int, method: Method[Any], *args: Any) -> Any: ...

    async def score_one(self, index: int, transaction: dict[str, Any], features: bool) -> Any: ...


class Query(Protocol):
    """The database as the ingress reaches it: the Query deployment (QueryHandle) or a gateway held here (HeldQuery)."""

    async def call(self, method: Method[Any], *args: Any) -> Any: ...


def rows_at(table: pa.Table, positions: np.ndarray) -> pa.Table:
    """The rows at ascending `positions`: the table itself when they are all of it (one shard: no copy)."""
    return table if len(positions) == table.num_rows else table.take(pa.array(positions))


def cache_report(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """Per shard and in total: online-feature entries and bytes, and the model each shard has loaded."""
    features = [s["features"] for s in shards]
    return {"shards": shards,
            "features": {k: sum(f[k] for f in features)
                         for k in ("customers", "merchants", "devices", "state_bytes", "warmed_rows")},
            "model": {"versions": sorted({str(s["model"]["version"]) for s in shards}),
                      "bytes": sum(s["model"]["bytes"] for s in shards)}}


def _settled_late(write: asyncio.Task[Any]) -> None:
    """How a write its request stopped waiting for (the deadline) ended: the state counts its rows only if stored."""
    error = None if write.cancelled() else write.exception()
    outcome = "cancelled" if write.cancelled() else "failed" if error is not None else "stored"
    log.warning("transactions.settled_late", outcome=outcome, error=None if error is None else repr(error)[:300])


class Scoring:
    """The feature store's shards, the model they hold and the database, orchestrated for one ingress replica."""

    def __init__(self, shards: Shards, query: Query, disk_paths: Sequence[pathlib.Path] = ()) -> None:
        self.shards, self.query = shards, query
        self.disk_paths = list(disk_paths)  # where the app writes: reported by health
        self.held_in = "ingress" if isinstance(shards, HeldStore) else "shards"  # server.feature_store
        self.model_version: str | None = None
        self.settling: set[asyncio.Task[Any]] = set()  # writes being stored (some past their request's deadline)

    # -- the model --------------------------------------------------------------------------------------------
    async def model_info(self) -> dict[str, Any]:
        """The served model as a shard sees it (every shard loads the same registry's active version)."""
        return await self.shards.call(0, FeatureStore.model)  # type: ignore[no-any-return]

    async def model_ready(self) -> None:
        """ModelUnavailable (with the reason) before any state is touched when there is no model to score with."""
        if self.model_version is None:
            info = await self.model_info()
            if not info["ready"]:
                raise ModelUnavailable(info["reason"])
            self.model_version = info["version"]

    # -- scoring ----------------------------------------------------------------------------------------------
    async def score_one(self, row: dict[str, Any], features: bool) -> tuple[dict[str, Any], np.ndarray | None]:
        """One transaction's prediction fields (and features), computed where its customer's state is; the state
        advances."""
        index = shard_of_one(row["customer_id"], len(self.shards))
        return await self.shards.score_one(index, row, features)  # type: ignore[no-any-return]

    async def score_batch(self, table: pa.Table, explain: Explain, festival_given: np.ndarray | bool = True,
                          features: bool = False) -> tuple[np.ndarray | None, Scored]:
        """Scores of every row in request order (and their features when asked); nothing is held."""
        await self.model_ready()
        x, scored, _ = await self.scored(table, explain, festival_given, features)
        return x, scored

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

    # -- storing ----------------------------------------------------------------------------------------------
    async def store(self, table: pa.Table, given: list[set[str]], claim: Idempotency | None, score: bool,
                    started: float) -> tuple[Any, str]:
        """Store records (scored first unless `score` is false): (what the store returned, the answer's body). With
        a claim, an earlier answer to the same request comes back as Replayed and nothing is written. The write is
        not cut short when its caller stops waiting (a deadline): it settles the state on its own."""
        if claim is not None and (earlier := await self.query.call(Gateway.replayed, claim)) is not None:
            return earlier, earlier.response
        if score:
            await self.model_ready()
            await self.query.call(Gateway.absent, table.column("transaction_id").to_pylist())
        if table.num_rows:
            table = await self.completed(table, np.array(["festival" in g for g in given], bool))
        write = asyncio.create_task(self._score_and_store(table, given, claim, score, started))
        self.settling.add(write)
        write.add_done_callback(self.settling.discard)
        try:
            return await asyncio.shield(write)
        except asyncio.CancelledError:
            write.add_done_callback(_settled_late)
            raise

    async def _score_and_store(self, table: pa.Table, given: list[set[str]], claim: Idempotency | None, score: bool,
                               started: float) -> tuple[Any, str]:
        """Score the rows (their customers' state advances, held), store them, then keep the state's change or,
        when they were not stored, take it back."""
        ids = table.column("transaction_id")
        x, scored, held = await self.scored(table.select(INPUT_COLUMNS), "flagged", hold=True) \
            if score and table.num_rows else (None, None, [])
        at = now_us()
        scores = None if scored is None else [score_body(i, r, None, at, elapsed_ms(started)) for i, r in
                                              zip(ids.to_pylist(), scored.rows(), strict=True)]
        body = json_text({"stored": table.num_rows, "scores": scores})  # the answer, kept with the rows under a key
        try:
            stored = await self.query.call(Gateway.store, table, None if x is None else feature_table(ids, x),
                                           None if scored is None else scored.table(ids, at),
                                           None if claim is None else replace(claim, response=body),
                                           np.array(["time_since_last_txn_s" not in g for g in given], bool))
        except SynFinanceError:  # not stored: the features' state must not count the rows
            await self.release(held, undo=True)
            raise
        # a concurrent request with the same key was stored first: these rows were not stored
        await self.release(held, undo=isinstance(stored, Replayed))
        return stored, stored.response if isinstance(stored, Replayed) else body

    async def feedback(self, items: Sequence[FeedbackIn]) -> dict[str, Any]:
        """Outcomes joined to their stored predictions, counted per outcome, fraud type and model version."""
        counted = await self.query.call(Gateway.feedback, [f.transaction_id for f in items],
                                        [f.is_fraud for f in items], [f.fraud_type for f in items])
        for labels, count in Counter((r["outcome"], r["fraud_type"], r["model_version"]) for r in counted).items():
            metrics.FEEDBACK.labels(*labels).inc(count)
        lags, lag = np.array([row["lag_s"] for row in counted], dtype=np.float64), metrics.FEEDBACK_LAG.labels()
        for seconds in lags[spaced(len(lags), LAGS_PER_CALL)]:  # a sample: Ray's metrics agent replays every value
            lag.observe(max(float(seconds), 0.0))
        outcomes = Counter(r["outcome"] for r in counted)
        return {"received": len(items), "counted": len(counted), "outcomes": dict(outcomes)}

    # -- caches -----------------------------------------------------------------------------------------------
    async def each_shard(self, method: Method[Any], *args: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self.shards.call(i, method, *args) for i in range(len(self.shards)))))

    async def cache(self) -> dict[str, Any]:
        return cache_report(await self.each_shard(FeatureStore.cache))

    async def warm(self, dataset: str | None) -> dict[str, Any]:
        """Replay a dataset's transactions (or, with none, those the database stored since) into the online
        features, and load the model."""
        if dataset is not None and not (pathlib.Path(dataset) / "manifest.json").is_file():
            raise ValidationError.single("dataset", dataset, "a dataset directory (with manifest.json) on the "
                                                             "API's machine")
        shards = await self.each_shard(FeatureStore.warm, dataset)
        self.model_version = None
        return {"replayed_rows": sum(s["replayed_rows"] for s in shards), **cache_report(shards)}

    async def clear(self, features: bool, model: bool) -> dict[str, Any]:
        shards = await self.each_shard(FeatureStore.clear, features, model)
        self.model_version = None
        return cache_report(shards)

    # -- health -----------------------------------------------------------------------------------------------
    async def feature_store_state(self) -> dict[str, Any]:
        return checks.feature_store_state(await self.each_shard(FeatureStore.stats), self.held_in, len(self.settling))

    async def startup(self) -> dict[str, Any]:
        """Every feature-store shard has warmed and answers: /health/startup."""
        shards = await checks.timed(self.feature_store_state())
        return {"status": shards["status"], "feature_shards": shards.get("detail", [])}

    async def ready(self, route: checks.Group) -> dict[str, Any]:
        """Whether a group of routes can be served, and which component is down when not: /health/ready."""
        components = await self.components(checks.NEEDS[route])
        ok = checks.readiness(components)[route]
        down = {n: c for n, c in components.items() if c.get("status") not in ("ok", "disabled")}
        return {"status": "ok" if ok else "unavailable", "route": route,
                "model": components.get("model", {}).get("version"),
                "reason": "; ".join(f"{n}: {c.get('reason') or c['status']}" for n, c in down.items()) or None,
                "down": sorted(down)}

    async def health(self) -> dict[str, Any]:
        """Each component's state, which groups of routes are ready and the overall status: /health."""
        components = await self.components()
        ready = checks.readiness(components)
        return {"status": checks.overall(ready, components), "ready": ready, **components}

    async def components(self, names: tuple[str, ...] = COMPONENTS) -> dict[str, dict[str, Any]]:
        """Each named component's state, each check bounded in time (serve.health.timed)."""
        by_name: dict[str, Any] = {
            "model": self.model_info, "feature_store": self.feature_store_state,
            "database": lambda: self.query.call(Gateway.status),
            "ray": lambda: asyncio.to_thread(cluster_state),
            "disk": lambda: asyncio.to_thread(checks.disk_state, self.disk_paths)}
        found = await asyncio.gather(*(checks.timed(by_name[n]()) for n in names))
        states = dict(zip(names, found, strict=True))
        if "model" in states:
            states["model"] = checks.model_state(states["model"])
        return states
