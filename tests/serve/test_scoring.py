"""serve.scoring.Scoring without HTTP or Ray: the feature store's shards held in this process, the database a real
PostgreSQL schema through a gateway held here (faults through chaos.faults.FaultyQuery)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from api_rows import YEAR, transactions
from pg_schemas import count_rows, fresh_schema, migrated

from actors.handles import HeldQuery, HeldStore, Method
from chaos.faults import FaultyQuery
from serve import schemas
from serve.deployments import FeatureStore
from serve.scoring import Scoring
from synfinance.errors import Conflict, StoreUnavailable, ValidationError
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.online import shard_of
from synfinance.generation.replay import replayed
from synfinance.schema import STORED_TRANSACTION_SCHEMA
from synfinance.settings.models import DatabaseConfig, MLConfig, MonitoringConfig
from synfinance.store.connect import Database
from synfinance.store.gateway import Gateway
from synfinance.store.idempotency import Idempotency, Replayed
from synfinance.store.load import load_dataset

pytestmark = [pytest.mark.postgres]


class LocalShards:
    """Feature-store shards in this process (the shard layout of serve.scoring.Shards, without actors)."""

    def __init__(self, stores: list[FeatureStore]) -> None:
        self.stores = stores

    def __len__(self) -> int:
        return len(self.stores)

    async def call(self, index: int, method: Method[Any], *args: Any) -> Any:
        return method(self.stores[index], *args)

    async def score_one(self, index: int, transaction: dict[str, Any], features: bool) -> Any:
        answer = self.stores[index].ones([(transaction, features, None)])[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def stores(data: Path, models: Path, count: int) -> list[FeatureStore]:
    ml, monitoring = MLConfig(registry_path=models), MonitoringConfig(metrics_enabled=False)
    return [FeatureStore(i, count, data, ml, monitoring) for i in range(count)]


@pytest.fixture(scope="module")
def later(api_data: tuple[Path, Path]) -> pa.Table:
    """A year on, the transactions of ten warmed customers at new merchants and devices, oldest first."""
    table = transactions(api_data[0])
    ids = sorted(set(table.column("customer_id").to_pylist()))[:10]
    mine = table.filter(pa.compute.is_in(table.column("customer_id"), pa.array(ids)))
    return replayed(mine, "orc-", shift=YEAR, keys=("transaction_id", "merchant_id", "device_id"))


@pytest.fixture
def two(api_data: tuple[Path, Path]) -> LocalShards:
    return LocalShards(stores(*api_data, 2))


@pytest.fixture
def gateway(pg_url: str, api_data: tuple[Path, Path]) -> Iterator[tuple[DatabaseConfig, Database]]:
    db = asyncio.run(migrated(fresh_schema(pg_url, "orc")))
    asyncio.run(load_dataset(db, api_data[0]))
    yield DatabaseConfig(enabled=True, url=pg_url, schema_name=db.schema), db
    asyncio.run(db.drop_schema())


@pytest.fixture
async def held_query(gateway: tuple[DatabaseConfig, Database]) -> AsyncIterator[HeldQuery]:
    held = Gateway(gateway[0])
    yield HeldQuery(held)
    await held.close()


def probabilities(scored: Any) -> np.ndarray:
    return np.array([r["fraud_probability"] for r in scored.rows()])


def inputs(table: pa.Table) -> pa.Table:
    return table.select(INPUT_COLUMNS)


async def test_a_batch_scattered_over_two_shards_comes_back_in_request_order(
        api_data: tuple[Path, Path], two: LocalShards, later: pa.Table) -> None:
    # setup: the rows shuffled, so each shard's rows are scattered through the request
    order = np.random.default_rng(3).permutation(later.num_rows)
    shuffled = inputs(later).take(pa.array(order))
    assert len(Scoring(two, HeldQuery(None)).parts(shuffled)) == 2
    # run: the same rows in time order and shuffled, each on shards that have not seen them
    x, scored = await Scoring(two, HeldQuery(None)).score_batch(inputs(later), "flagged", features=True)
    x_shuffled, scored_shuffled = await Scoring(LocalShards(stores(*api_data, 2)), HeldQuery(None)).score_batch(
        shuffled, "flagged", features=True)
    # check: row k of the shuffled answer is the answer for row k of the shuffled request
    np.testing.assert_allclose(x_shuffled, x[order], rtol=1e-9, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(probabilities(scored_shuffled), probabilities(scored)[order], rtol=1e-12)
    assert [r["decision"] for r in scored_shuffled.rows()] == [scored.rows()[k]["decision"] for k in order]


async def test_a_batch_one_shard_refuses_leaves_the_other_shards_state_as_it_was(
        api_data: tuple[Path, Path], two: LocalShards, later: pa.Table) -> None:
    # setup: a customer of each shard; shard 1's has scored its newest row, so its oldest is now out of order
    route = shard_of(later.column("customer_id"), 2)
    first = {s: later.column("customer_id")[int(np.flatnonzero(route == s)[0])].as_py() for s in (0, 1)}
    a, b = (later.filter(pa.compute.equal(later.column("customer_id"), first[s])) for s in (0, 1))
    scoring = Scoring(two, HeldQuery(None))
    await scoring.score_batch(inputs(b.slice(b.num_rows - 1)), "none")
    # run
    with pytest.raises(ValidationError):
        await scoring.score_batch(inputs(pa.concat_tables([a.slice(0, 1), b.slice(0, 1)])), "none")
    # check: shard 0 took a's row back, so a's next row scores as on a store that never saw it
    x_after, _ = await scoring.score_batch(inputs(a.slice(1, 1)), "none", features=True)
    x_fresh, _ = await Scoring(LocalShards(stores(*api_data, 2)), HeldQuery(None)).score_batch(
        inputs(a.slice(1, 1)), "none", features=True)
    np.testing.assert_allclose(x_after, x_fresh, rtol=1e-9, atol=1e-9, equal_nan=True)


def records(table: pa.Table, n: int) -> tuple[pa.Table, list[set[str]]]:
    """n raw events as POST /v1/transactions makes them (its body model), with the fields each one gave."""
    rows = schemas.Records.model_validate({"transactions": inputs(table.slice(0, n)).to_pylist()}).transactions
    return (pa.Table.from_pylist([r.model_dump() for r in rows], schema=STORED_TRANSACTION_SCHEMA),
            [r.model_fields_set for r in rows])


async def test_stored_rows_advance_the_state_and_a_repeat_is_a_conflict_that_moves_nothing(
        two: LocalShards, later: pa.Table, held_query: HeldQuery, gateway: tuple[DatabaseConfig, Database]) -> None:
    scoring = Scoring(two, held_query)
    table, given = records(later, 20)
    before = [s.stats()["customers"] for s in two.stores], await count_rows(gateway[1], "transactions")
    stored, body = await scoring.store(table, given, None, True, time.perf_counter())
    assert stored == 20 and '"stored": 20' in body
    assert await count_rows(gateway[1], "transactions") == before[1] + 20
    assert await count_rows(gateway[1], "predictions") == 20
    state = [s.stats() for s in two.stores]
    with pytest.raises(Conflict):
        await scoring.store(table, given, None, True, time.perf_counter())
    assert [s.stats() for s in two.stores] == state


async def test_a_write_the_database_refuses_takes_its_scores_state_change_back(
        api_data: tuple[Path, Path], two: LocalShards, later: pa.Table, held_query: HeldQuery) -> None:
    scoring = Scoring(two, FaultyQuery(held_query, failing=frozenset({"store"})))
    table, given = records(later, 20)
    with pytest.raises(StoreUnavailable):
        await scoring.store(table, given, None, True, time.perf_counter())
    # the next rows score as on stores that never saw the refused ones
    nxt = inputs(later.slice(20, 20))
    x_after, _ = await Scoring(two, held_query).score_batch(nxt, "none", features=True)
    x_fresh, _ = await Scoring(LocalShards(stores(*api_data, 2)), held_query).score_batch(nxt, "none", features=True)
    np.testing.assert_allclose(x_after, x_fresh, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert not scoring.settling


async def test_a_retry_with_the_same_key_gets_the_first_answer_and_stores_nothing_twice(
        two: LocalShards, later: pa.Table, held_query: HeldQuery, gateway: tuple[DatabaseConfig, Database]) -> None:
    scoring = Scoring(two, held_query)
    table, given = records(later, 5)
    claim = Idempotency("writer", "key-1", "0" * 64, 201, "")
    first, body = await scoring.store(table, given, claim, True, time.perf_counter())
    stored = await count_rows(gateway[1], "transactions")
    again, body_again = await scoring.store(table, given, claim, True, time.perf_counter())
    assert first == 5 and isinstance(again, Replayed) and json.loads(body_again) == json.loads(body)
    assert await count_rows(gateway[1], "transactions") == stored


async def test_a_write_whose_caller_stops_waiting_still_settles_and_is_stored(
        two: LocalShards, later: pa.Table, held_query: HeldQuery, gateway: tuple[DatabaseConfig, Database]) -> None:
    scoring = Scoring(two, FaultyQuery(held_query, slow=frozenset({"store"}), delay_s=0.2))
    table, given = records(later, 5)
    before = await count_rows(gateway[1], "transactions")
    request = asyncio.create_task(scoring.store(table, given, None, True, time.perf_counter()))
    while not scoring.settling:  # the write has started
        await asyncio.sleep(0)
    request.cancel()  # the request's deadline
    with pytest.raises(asyncio.CancelledError):
        await request
    await asyncio.gather(*scoring.settling)
    assert await count_rows(gateway[1], "transactions") == before + 5


async def test_feedback_counts_outcomes_of_stored_predictions(
        two: LocalShards, later: pa.Table, held_query: HeldQuery) -> None:
    scoring = Scoring(two, held_query)
    table, given = records(later, 3)
    await scoring.store(table, given, None, True, time.perf_counter())
    ids = table.column("transaction_id").to_pylist()
    answer = await scoring.feedback([schemas.FeedbackIn(transaction_id=i, is_fraud=f, fraud_type=t) for i, f, t in
                                     zip(ids, [True, False, False], ["card_testing", None, None], strict=True)])
    assert answer["received"] == 3 and answer["counted"] == 3 and sum(answer["outcomes"].values()) == 3


async def test_health_names_each_component_and_the_groups_it_makes_ready(
        api_data: tuple[Path, Path], two: LocalShards, held_query: HeldQuery) -> None:
    ok = await Scoring(two, held_query).ready("writes")
    down = await Scoring(two, FaultyQuery(held_query, failing=frozenset({"status"}))).ready("writes")
    assert ok["status"] == "ok" and ok["down"] == []
    assert down["status"] == "unavailable" and down["down"] == ["database"] and "injected" in down["reason"]
    assert (await Scoring(two, held_query).startup())["status"] == "ok"
    assert (await Scoring(two, held_query).feature_store_state())["held_in"] == "shards"
    held = Scoring(HeldStore(stores(*api_data, 1)[0]), held_query)
    assert (await held.feature_store_state())["held_in"] == "ingress"
