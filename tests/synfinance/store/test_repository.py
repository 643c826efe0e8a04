"""Repository queries on the loaded session dataset: results equal pyarrow's, pages walk without gaps or
repeats (also while rows are inserted), injection strings are only values, every query uses an index."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import asyncpg
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from synfinance.errors import ValidationError
from synfinance.output.dataset import read_dataset
from synfinance.store.connect import Database
from synfinance.store.load import load_part
from synfinance.store.repository import (
    Aggregates,
    Page,
    PopulationRepository,
    PredictionRepository,
    TransactionFilter,
    TransactionRepository,
)

pytestmark = pytest.mark.postgres

INJECTIONS = [
    "' OR '1'='1",
    "x'; DROP TABLE transactions; --",
    "CUST_0000001' --",
    "\" OR 1=1 --",
    "%' OR customer_id LIKE '%",
    "$1",
]


NOV_1 = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)


def _ids(rows: list[dict[str, Any]], key: str = "transaction_id") -> list[str]:
    return [r[key] for r in rows]


def _expected(txns: pa.Table, mask: pa.ChunkedArray | pa.Array) -> list[str]:
    picked = txns.filter(mask).sort_by([("timestamp", "ascending"), ("transaction_id", "ascending")])
    return picked["transaction_id"].to_pylist()


async def _walk(list_page: Any, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page: Page = await list_page(limit=limit, cursor=cursor)
        ids += _ids(page.items)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.fixture
async def conn(loaded_db: Database) -> Any:
    c = await loaded_db.connect()
    yield c
    await c.close()


async def test_get_by_id_returns_the_row(conn: asyncpg.Connection, txns: pa.Table) -> None:
    row = txns.slice(1234, 1).to_pylist()[0]
    got = await TransactionRepository(conn).get(row["transaction_id"])
    assert got == row
    assert await TransactionRepository(conn).get("TXN-none") is None


@pytest.mark.parametrize(
    ("filters", "mask"),
    [
        pytest.param({"customer_id": "CUST_0000042"}, lambda t: pc.equal(t["customer_id"], "CUST_0000042"),
                     id="customer"),
        pytest.param({"fraud_type": "card_testing"}, lambda t: pc.equal(t["fraud_type"], "card_testing"),
                     id="fraud-type"),
        pytest.param({"status": "declined", "start": NOV_1},
                     lambda t: pc.and_(pc.equal(t["status"], "declined"),
                                       pc.greater_equal(t["timestamp"], pa.scalar(NOV_1, t["timestamp"].type))),
                     id="status-since"),
    ],
)
async def test_filtered_walk_equals_pyarrow(conn: asyncpg.Connection, txns: pa.Table, filters: dict[str, Any],
                                           mask: Any) -> None:
    repo = TransactionRepository(conn)
    walked = await _walk(lambda **kw: repo.list(TransactionFilter(**filters), **kw), limit=37)
    expected = _expected(txns, mask(txns))
    assert expected  # the case has rows to find
    assert walked == expected


async def test_merchant_and_date_range(conn: asyncpg.Connection, txns: pa.Table) -> None:
    merchant = txns["merchant_id"][0].as_py()
    start, end = dt.datetime(2025, 10, 5, tzinfo=dt.UTC), dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    ts = txns["timestamp"]
    mask = pc.and_(pc.equal(txns["merchant_id"], merchant),
                   pc.and_(pc.greater_equal(ts, pa.scalar(start, ts.type)), pc.less(ts, pa.scalar(end, ts.type))))
    page = await TransactionRepository(conn).list(TransactionFilter(merchant_id=merchant, start=start, end=end),
                                                 limit=1000)
    assert _ids(page.items) == _expected(txns, mask)


@pytest.mark.parametrize("value", INJECTIONS)
async def test_injection_strings_are_only_values(conn: asyncpg.Connection, value: str) -> None:
    repo = TransactionRepository(conn)
    for field in ("customer_id", "merchant_id", "fraud_type", "status"):
        page = await repo.list(TransactionFilter(**{field: value}), limit=10)
        assert page.items == [], field
    assert await repo.get(value) is None
    population = PopulationRepository(conn)
    assert (await population.customers(city=value, segment=value)).items == []
    assert (await population.merchants(category=value, city=value)).items == []
    assert await population.customer(value) is None
    assert await population.merchant(value) is None
    assert await PredictionRepository(conn).for_transaction(value) == []
    assert await conn.fetchval("SELECT count(*) > 0 FROM transactions")  # still there


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"limit": 0}, "limit", id="limit-zero"),
        pytest.param({"limit": 5000}, "limit", id="limit-too-big"),
        pytest.param({"cursor": "not-a-cursor"}, "cursor", id="garbage-cursor"),
        pytest.param({"f": TransactionFilter(start=dt.datetime(2025, 10, 1))}, "from",  # noqa: DTZ001
                     id="naive-time"),
        pytest.param({"f": TransactionFilter(min_score=1.5)}, "min_score", id="score-above-one"),
        pytest.param({"f": TransactionFilter(start=dt.datetime(2025, 11, 1, tzinfo=dt.UTC),
                                             end=dt.datetime(2025, 10, 1, tzinfo=dt.UTC))}, "to", id="to-before-from"),
    ],
)
async def test_bad_arguments_name_the_field(conn: asyncpg.Connection, kwargs: dict[str, Any], field: str) -> None:
    args = {"f": TransactionFilter(), **kwargs}
    with pytest.raises(ValidationError) as error:
        await TransactionRepository(conn).list(**args)
    assert error.value.problems[0].field == field


async def test_a_cursor_of_another_listing_is_refused(conn: asyncpg.Connection) -> None:
    customers = await PopulationRepository(conn).customers(limit=2)
    assert customers.next_cursor is not None
    with pytest.raises(ValidationError, match="cursor"):
        await TransactionRepository(conn).list(TransactionFilter(), cursor=customers.next_cursor)


async def test_population_filters(conn: asyncpg.Connection, tables: dict[str, pa.Table]) -> None:
    customers = tables["customers"]
    city, segment = customers["city"][0].as_py(), customers["segment"][0].as_py()
    expected = sorted(customers.filter(pc.and_(pc.equal(customers["city"], city),
                                               pc.equal(customers["segment"], segment)))["customer_id"].to_pylist())
    population = PopulationRepository(conn)
    walked = await _walk_key(lambda **kw: population.customers(city=city, segment=segment, **kw), "customer_id")
    assert walked == expected
    merchants = tables["merchants"]
    category = merchants["category"][0].as_py()
    expected_m = sorted(merchants.filter(pc.equal(merchants["category"], category))["merchant_id"].to_pylist())
    assert await _walk_key(lambda **kw: population.merchants(category=category, **kw), "merchant_id") == expected_m
    assert (await population.customer(expected[0]))["customer_id"] == expected[0]  # type: ignore[index]


async def _walk_key(list_page: Any, key: str) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await list_page(limit=7, cursor=cursor)
        ids += _ids(page.items, key)
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def test_aggregates_equal_pyarrow(conn: asyncpg.Connection, txns: pa.Table) -> None:
    agg = Aggregates(conn)
    by_type = {r["fraud_type"]: r["transactions"] for r in await agg.fraud_by_type()}
    counts = pc.value_counts(txns["fraud_type"].drop_null()).to_pylist()
    assert by_type == {c["values"]: c["counts"] for c in counts}

    by_day = await agg.fraud_by_day()
    assert sum(r["transactions"] for r in by_day) == txns.num_rows
    assert sum(r["fraud"] for r in by_day) == pc.sum(txns["is_fraud"]).as_py()


class Explain:
    """An executor that EXPLAINs instead of running (seq scans disabled: a plan without one proves an index)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.plans: list[dict[str, Any]] = []

    async def _explain(self, query: str, *args: Any) -> None:
        async with self.conn.transaction():
            await self.conn.execute("SET LOCAL enable_seqscan = off")
            plan = await self.conn.fetchval(f"EXPLAIN (FORMAT JSON) {query}", *args)
        self.plans.append(json.loads(plan)[0]["Plan"])

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        await self._explain(query, *args)
        return []

    async def fetchrow(self, query: str, *args: Any) -> Any:
        await self._explain(query, *args)
        return None


def _nodes(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"]] + [n for child in plan.get("Plans", []) for n in _nodes(child)]


WEEK = (dt.datetime(2025, 10, 6, tzinfo=dt.UTC), dt.datetime(2025, 10, 13, tzinfo=dt.UTC))
CURSOR = "after-first-page"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda r: TransactionRepository(r).get("TXN-x"), id="transaction-by-id"),
        pytest.param(lambda r: TransactionRepository(r).list(TransactionFilter()), id="all-transactions"),
        pytest.param(lambda r: TransactionRepository(r).list(TransactionFilter(customer_id="C")), id="by-customer"),
        pytest.param(lambda r: TransactionRepository(r).list(TransactionFilter(merchant_id="M", start=WEEK[0])),
                     id="by-merchant-since"),
        pytest.param(lambda r: TransactionRepository(r).list(TransactionFilter(start=WEEK[0], end=WEEK[1])),
                     id="by-date-range"),
        pytest.param(lambda r: TransactionRepository(r).list(TransactionFilter(fraud_type="card_testing")),
                     id="by-fraud-type"),
        pytest.param(lambda r: TransactionRepository(r).list(TransactionFilter(status="declined")), id="by-status"),
        pytest.param(lambda r: TransactionRepository(r).list(TransactionFilter(min_score=0.9)), id="by-score"),
        pytest.param(lambda r: PopulationRepository(r).customer("C"), id="customer-by-id"),
        pytest.param(lambda r: PopulationRepository(r).customers(city="Pune"), id="customers-by-city"),
        pytest.param(lambda r: PopulationRepository(r).merchant("M"), id="merchant-by-id"),
        pytest.param(lambda r: PopulationRepository(r).merchants(category="Grocery"), id="merchants-by-category"),
        pytest.param(lambda r: PredictionRepository(r).for_transaction("T"), id="predictions-by-transaction"),
        pytest.param(lambda r: PredictionRepository(r).between(*WEEK), id="predictions-by-time"),
        pytest.param(lambda r: Aggregates(r).fraud_by_day(*WEEK), id="fraud-by-day"),
        pytest.param(lambda r: Aggregates(r).fraud_by_type(*WEEK), id="fraud-by-type"),
    ],
)
async def test_every_query_uses_an_index(conn: asyncpg.Connection, query: Any) -> None:
    explain = Explain(conn)
    await query(explain)
    assert len(explain.plans) == 1
    nodes = _nodes(explain.plans[0])
    assert "Seq Scan" not in nodes, nodes
    assert any("Index" in n for n in nodes), nodes


async def test_pages_neither_skip_nor_repeat_while_rows_arrive(db: Database, dataset_dir: Path) -> None:
    # setup: a shard's worth of rows, and a second batch that another connection inserts during the walk
    txns = read_dataset(dataset_dir)["transactions"]
    present, arriving = txns.slice(0, 6_000), txns.slice(6_000, 3_000)
    conn = await db.connect()
    await load_part(conn, present)
    walked: list[str] = []
    pages = asyncio.Event()
    finished = False

    async def insert() -> None:
        writer = await db.connect()
        try:
            for start in range(0, arriving.num_rows, 500):
                await pages.wait()  # after each page the walker fetched
                pages.clear()
                if finished:
                    return
                await load_part(writer, arriving.slice(start, 500))  # timestamps all over the range
        finally:
            await writer.close()

    async def walk() -> None:
        nonlocal finished
        repo = TransactionRepository(conn)
        cursor = None
        while True:
            page = await repo.list(TransactionFilter(), limit=100, cursor=cursor)
            walked.extend(_ids(page.items))
            pages.set()
            await asyncio.sleep(0)  # let the writer start its batch while the next page is read
            if page.next_cursor is None:
                finished = True
                pages.set()
                return
            cursor = page.next_cursor

    try:
        # run: the two at once
        await asyncio.gather(walk(), insert())
    finally:
        await conn.close()
    # check: every row present at the start exactly once; anything else is one of the arrivals
    assert len(walked) == len(set(walked))
    assert set(present["transaction_id"].to_pylist()) <= set(walked)
    assert set(walked) - set(present["transaction_id"].to_pylist()) <= set(arriving["transaction_id"].to_pylist())


async def test_the_reference_rows_complete_raw_events_as_the_datasets_do(conn: asyncpg.Connection,
                                                                         tables: dict[str, pa.Table]) -> None:
    from synfinance.features.inputs import INPUT_COLUMNS
    from synfinance.features.reference import SWITCH_FIELDS, Reference

    customers, merchants = await PopulationRepository(conn).reference()
    assert len(customers) == tables["customers"].num_rows and len(merchants) == tables["merchants"].num_rows
    stored = Reference.of_rows(customers, merchants)
    raw = tables["transactions"].slice(0, 2_000).select([*SWITCH_FIELDS, "latitude", "longitude", "city"])
    expected = Reference.of(tables["customers"], tables["merchants"]).complete(raw)
    assert stored.complete(raw).select(list(INPUT_COLUMNS)).equals(expected)
