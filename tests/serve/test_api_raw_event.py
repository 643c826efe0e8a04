"""The raw event over HTTP: a payment switch's fields alone score exactly as the full form of the same transaction,
single and batch (JSON and Arrow); an unknown merchant or customer is scored, not refused; a body without a
location is refused naming the field."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
from api_app import API_PARAMS, KEYS, Api, app_settings
from api_rows import rows, transactions
from localhost import free_port, wait_for
from pg_schemas import execute, fetch

from serve.columnar import ARROW_STREAM, to_stream
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.reference import SWITCH_FIELDS
from synfinance.generation.context import customer_context
from synfinance.output.dataset import read_dataset
from synfinance.runner import write_dataset
from synfinance.schema import FEATURE_NAMES, paise_from_amounts

pytestmark = [pytest.mark.postgres, pytest.mark.ray]
LOCATION = ("city", "latitude", "longitude")
HEADERS = {"X-API-Key": KEYS["scorer"][0]}


@pytest.fixture(scope="module")
def later(api: Api, tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    """January after the session dataset's quarter: the same customers and merchants (same seed and sizes), later."""
    out = tmp_path_factory.mktemp("later") / "ds"
    params = replace(API_PARAMS, count=6_000, start=API_PARAMS.start + dt.timedelta(days=API_PARAMS.days), days=31)
    write_dataset(params, out)
    tables, warm = read_dataset(out, verify=False), read_dataset(api.data, verify=False)
    assert tables["customers"].equals(warm["customers"]) and tables["merchants"].equals(warm["merchants"])
    return tables["transactions"].sort_by([("timestamp", "ascending"), ("transaction_id", "ascending")])


@pytest.fixture(scope="module")
def twins(api: Api) -> Iterator[tuple[str, str]]:
    """Two apps warmed alike (no database): one is sent full forms, the other the same transactions raw."""
    from ray import serve

    from serve.builder import build_app

    for name in ("full", "raw"):
        loaded = app_settings(free_port(), api.models, {"server.warm_from": str(api.data)})
        serve.run(build_app(loaded.settings, loaded.version), name=name, route_prefix=f"/{name}")
    bases = (api.base + "/full", api.base + "/raw")
    for base in bases:
        wait_for(lambda b=base: requests.get(b + "/health/ready", timeout=10).status_code == 200, what=base)
    yield bases
    for name in ("full", "raw"):
        serve.delete(name)


def of_customers(table: pa.Table, picks: slice) -> pa.Table:
    chosen = pc.unique(table.column("customer_id"))[picks]
    return table.filter(pc.is_in(table.column("customer_id"), value_set=chosen))


def assert_same_scores(full: list[dict], raw: list[dict]) -> None:
    assert [s["decision"] for s in raw] == [s["decision"] for s in full]
    np.testing.assert_allclose([s["fraud_probability"] for s in raw], [s["fraud_probability"] for s in full],
                               rtol=0, atol=1e-9)
    for a, b in zip(full, raw, strict=True):
        x = np.array([np.nan if a["features"][n] is None else a["features"][n] for n in FEATURE_NAMES])
        y = np.array([np.nan if b["features"][n] is None else b["features"][n] for n in FEATURE_NAMES])
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-9)


def test_a_raw_event_scores_as_its_full_form(later: pa.Table, twins: tuple[str, str]) -> None:
    full_base, raw_base = twins
    mine = of_customers(later, slice(0, 3))
    assert mine.num_rows >= 20
    full = [requests.post(full_base + "/v1/score?features=true", json=r, headers=HEADERS, timeout=60).json()
            for r in rows(mine)]
    raw = [requests.post(raw_base + "/v1/score?features=true", json=r, headers=HEADERS, timeout=60).json()
           for r in rows(mine, (*SWITCH_FIELDS, *LOCATION))]
    assert all("fraud_probability" in s for s in full + raw), (full + raw)[:1]
    assert_same_scores(full, raw)
    assert any(s["features"]["distance_from_home_km"] for s in raw)  # derived from the customer's home


@pytest.mark.parametrize("body", ["json", "arrow"])
def test_a_raw_batch_scores_as_its_full_form(later: pa.Table, twins: tuple[str, str], body: str) -> None:
    full_base, raw_base = twins
    mine = of_customers(later, slice(10, 20) if body == "json" else slice(20, 30))
    raw_columns = (*SWITCH_FIELDS, *LOCATION)
    if body == "json":
        answers = [requests.post(base + "/v1/score/batch?features=true", json={"transactions": rows(mine, columns)},
                                 headers=HEADERS, timeout=60) for base, columns in
                   ((full_base, INPUT_COLUMNS), (raw_base, raw_columns))]
    else:
        answers = [requests.post(base + "/v1/score/batch?features=true", data=to_stream(mine.select(list(columns))),
                                 headers={**HEADERS, "Content-Type": ARROW_STREAM}, timeout=60) for base, columns in
                   ((full_base, INPUT_COLUMNS), (raw_base, raw_columns))]
    assert [a.status_code for a in answers] == [200, 200], [a.text[:500] for a in answers]
    full, raw = (a.json()["scores"] for a in answers)
    assert_same_scores(full, raw)


def test_an_unknown_merchant_and_customer_are_scored_not_refused(api: Api, later: pa.Table) -> None:
    event = rows(later.slice(0, 1), (*SWITCH_FIELDS, "city"))[0]
    event |= {"merchant_id": "MER_NEVER_SEEN_001", "customer_id": "CUST_NEVER_SEEN", "transaction_id": "raw-unknown-1"}
    r = api.post("/v1/score?features=true", event, "scorer")
    assert r.status_code == 200, r.text
    features = r.json()["features"]
    assert features["merchant_reputation"] is None and features["distance_from_home_km"] is None  # missing, not 0
    assert 0 <= r.json()["fraud_probability"] <= 1


@pytest.mark.parametrize("dropped, field", [(LOCATION, "$"), (("city", "longitude"), "$")])
def test_a_raw_event_without_a_location_is_refused_naming_it(api: Api, later: pa.Table, dropped: tuple[str, ...],
                                                             field: str) -> None:
    event = {k: v for k, v in rows(later.slice(0, 1), (*SWITCH_FIELDS, *LOCATION))[0].items() if k not in dropped}
    r = api.post("/v1/score", event, "scorer")
    assert r.status_code == 422
    detail = r.json()["details"][0]
    assert "location" in detail["expected"] and ("city" in detail["expected"] or "longitude" in detail["expected"])
    table = later.slice(0, 2).select([c for c in (*SWITCH_FIELDS, *LOCATION) if c not in dropped])
    r = requests.post(api.base + "/v1/score/batch", data=to_stream(table), timeout=60,
                      headers={**HEADERS, "Content-Type": ARROW_STREAM})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "$.transactions[0].city"


def test_a_merchant_stored_while_the_api_runs_completes_raw_events_from_then_on(api: Api, later: pa.Table) -> None:
    """The shards follow the database's merchants (LISTEN/NOTIFY, synfinance.store.notify): a merchant the API
    has never seen scores with no reputation until it is stored, and with its stored one from then on."""
    event = rows(of_customers(later, slice(40, 41)).slice(0, 1), (*SWITCH_FIELDS, "city"))[0]
    event["merchant_id"] = "MER_STORED_LATER_1"
    sent = iter(range(1, 10_000))

    def reputation() -> float | None:
        k = next(sent)  # each request a minute after the last, under a new id: the customer's state only advances
        stamp = dt.datetime.fromisoformat(event["timestamp"]) + dt.timedelta(minutes=k)
        r = api.post("/v1/score?features=true", {**event, "transaction_id": f"raw-later-{k}",
                                                 "timestamp": stamp.isoformat()}, "scorer")
        assert r.status_code == 200, r.text
        return r.json()["features"]["merchant_reputation"]  # type: ignore[no-any-return]

    assert reputation() is None
    execute(api.db, "INSERT INTO merchants SELECT (jsonb_populate_record(NULL::merchants, to_jsonb(m) || "
                    "jsonb_build_object('merchant_id', $1::text, 'reputation', 0.125))).* FROM merchants m LIMIT 1",
            event["merchant_id"])
    try:
        wait_for(lambda: reputation() == 0.125, what="the stored merchant's reputation in a raw event's features")
    finally:
        execute(api.db, "DELETE FROM merchants WHERE merchant_id = $1", event["merchant_id"])
    wait_for(lambda: reputation() is None, what="the deleted merchant gone from the reference")


STORED_CONTEXT = ("local_date", "local_hour", "day_of_week", "festival", "currency", "category", "subcategory", "mcc",
                  "is_online", "merchant_name", "merchant_type", "merchant_reputation", "city", "state", "region",
                  "merchant_city", "latitude", "longitude", "customer_segment", "customer_age_group",
                  "customer_income_bracket", "distance_from_home_km")


def stored_rows(api: Api, ids: list[str]) -> dict[str, dict]:
    return {r["transaction_id"]: r for r in fetch(api.db, "SELECT * FROM transactions WHERE transaction_id = ANY($1)",
                                                  ids)}


def features(base: str, event: dict) -> np.ndarray:
    """The features an app scores `event` with (its customer's state advances)."""
    r = requests.post(base + "/v1/score?features=true", json=event, headers=HEADERS, timeout=60)
    assert r.status_code == 200, r.text
    return np.array([np.nan if v is None else v for v in (r.json()["features"][n] for n in FEATURE_NAMES)])


HANDED_OUT: set[str] = set()  # customers a test of this module was given: their state moved in the apps


def fresh_customers(api: Api, later: pa.Table, count: int, least: int = 1) -> pa.Table:
    """Later's transactions of customers no other test scores or stores (none handed out before in this module,
    nothing stored at or after later's start), each with at least `least` of them."""
    used = set(of_customers(later, slice(0, 60)).column("customer_id").to_pylist()) | HANDED_OUT
    many = Counter(later.column("customer_id").to_pylist())
    candidates = [c for c in sorted(many, reverse=True) if c not in used and many[c] >= least]
    start = later.column("timestamp")[0].as_py()

    taken = {r["customer_id"] for r in fetch(api.db, "SELECT DISTINCT customer_id FROM transactions WHERE "
                                             "customer_id = ANY($1) AND timestamp >= $2", candidates[:50], start)}
    chosen = [c for c in candidates[:50] if c not in taken][:count]
    assert len(chosen) == count, taken
    HANDED_OUT.update(chosen)
    mine = later.filter(pc.is_in(later.column("customer_id"), value_set=pa.array(chosen)))
    ids = pc.binary_join_element_wise("stored-", mine.column("transaction_id"), "")  # later's ids repeat the session's
    return mine.set_column(mine.schema.get_field_index("transaction_id"), "transaction_id", ids)


def expected_behaviour(api: Api, mine: pa.Table) -> dict[str, tuple]:
    """The generator's behavioural context (synfinance.generation.context) over the customers' stored history and
    these later rows: what the stored raw events must carry."""
    before = transactions(api.data)
    before = before.filter(pc.is_in(before.column("customer_id"), value_set=pc.unique(mine.column("customer_id"))))
    union = pa.concat_tables([before, mine.cast(before.schema)]).sort_by(
        [("timestamp", "ascending"), ("transaction_id", "ascending")])
    ctx = customer_context(pc.dictionary_encode(union.column("customer_id")).combine_chunks().indices.to_numpy(),
                           union.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy(),
                           union.column("local_date").combine_chunks().cast(pa.int32()).to_numpy(),
                           pc.dictionary_encode(union.column("merchant_id")).combine_chunks().indices.to_numpy(),
                           paise_from_amounts(union.column("amount_inr")))
    return {t: (None if np.isnan(g) else g, bool(f), int(c), Decimal(int(p)) / 100) for t, g, f, c, p in
            zip(union.column("transaction_id").to_pylist(), ctx.time_since_last_s, ctx.first_with_merchant,
                ctx.daily_count, ctx.daily_paise, strict=True)}


def test_raw_events_are_stored_with_the_generated_context_and_the_customers_history(api: Api,
                                                                                    later: pa.Table) -> None:
    """POST /v1/transactions with a switch's fields and a location: each stored row carries the generated dataset's
    context columns (merchant, customer, calendar, place) and the generator's behavioural columns over what is
    stored before it - the session's history and the rows of an earlier request and of its own."""
    mine = fresh_customers(api, later, 5)
    assert mine.num_rows >= 20
    half = mine.num_rows // 2
    scores = []
    for part in (mine.slice(0, half), mine.slice(half)):
        r = api.post("/v1/transactions", {"transactions": rows(part, (*SWITCH_FIELDS, *LOCATION))}, "writer")
        assert r.status_code == 201, r.text
        scores += r.json()["scores"]
    assert all(0 <= s["fraud_probability"] <= 1 for s in scores) and len(scores) == mine.num_rows
    stored = stored_rows(api, mine.column("transaction_id").to_pylist())
    behaviour = expected_behaviour(api, mine)
    for row in mine.to_pylist():
        got = stored[row["transaction_id"]]
        for name in STORED_CONTEXT:
            if isinstance(row[name], float):
                assert got[name] == pytest.approx(row[name], abs=1e-9), name
            else:
                assert got[name] == row[name], (name, got[name], row[name])
        gap, first, count, amount = behaviour[row["transaction_id"]]
        assert (got["time_since_last_txn_s"], got["is_first_txn_with_merchant"], got["daily_txn_count"],
                got["daily_txn_amount_inr"]) == (pytest.approx(gap, abs=1e-6) if gap is not None else None, first,
                                                 count, amount), row["transaction_id"]
        assert (got["is_fraud"], got["is_anomaly"], got["card_type"], got["os"]) == (False, False, None, None)
    # the stored history mattered: later's own first rows of these customers have no gap, the stored ones do
    assert any(row["time_since_last_txn_s"] is None and stored[row["transaction_id"]]["time_since_last_txn_s"]
               for row in mine.to_pylist())


def test_a_raw_event_of_an_unknown_merchant_and_customer_is_stored_and_scored(api: Api, later: pa.Table) -> None:
    event = rows(later.slice(0, 1), (*SWITCH_FIELDS, "city"))[0]
    event |= {"merchant_id": "MER_NEVER_STORED", "customer_id": "CUST_NEVER_STORED", "transaction_id": "raw-store-1"}
    r = api.post("/v1/transactions", {"transactions": [event]}, "writer")
    assert r.status_code == 201, r.text
    assert 0 <= r.json()["scores"][0]["fraud_probability"] <= 1
    got = stored_rows(api, ["raw-store-1"])["raw-store-1"]
    unknown = ("category", "subcategory", "mcc", "merchant_name", "merchant_type", "merchant_reputation",
               "merchant_city", "customer_segment", "customer_age_group", "customer_income_bracket",
               "distance_from_home_km", "time_since_last_txn_s")
    assert {n: got[n] for n in unknown} == dict.fromkeys(unknown)
    assert (got["city"], got["daily_txn_count"], got["is_first_txn_with_merchant"]) == (event["city"], 1, True)
    assert got["state"] and got["latitude"] is not None  # the city's centre


def test_a_write_the_database_refuses_is_taken_back_out_of_the_features(api: Api, later: pa.Table,
                                                                        twins: tuple[str, str]) -> None:
    """POST /v1/transactions scores its rows (the customer's state advances) before the database stores them; when
    the store refuses them (here: the day's spend overflows daily_txn_amount_inr), the state is put back, so the
    customer's next score is what it would have been without them - the same as a twin app's that never saw them."""
    twin = twins[0]
    mine = fresh_customers(api, later, 1).slice(0, 2)
    control, probe = (rows(mine.slice(i, 1))[0] | {"merchant_id": f"MER_UNDO_{i}", "device_id": None}
                      for i in range(2))
    # the customer's state is the same in both apps
    np.testing.assert_allclose(features(api.base, control), features(twin, control), rtol=0, atol=1e-9)
    between = dt.datetime.fromisoformat(probe["timestamp"]) - dt.timedelta(seconds=2)
    refused = [rows(mine.slice(1, 1), (*SWITCH_FIELDS, "city"))[0] | {
        "transaction_id": f"undo-{k}", "merchant_id": "MER_UNDO_W", "amount_inr": "600000000000.00",
        "timestamp": (between + dt.timedelta(seconds=k)).isoformat()} for k in range(2)]
    r = api.post("/v1/transactions", {"transactions": refused}, "writer")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "$.transactions[1].amount_inr", r.text
    np.testing.assert_allclose(features(api.base, probe), features(twin, probe), rtol=0, atol=1e-9)


DEADLINE_S = 2.5  # the hurried app's server.timeout_s
LATENCY_MS = 300  # per chunk each way through the proxy: a lookup (1-2 round trips) fits the deadline, a store
# (8 or more: begin, lookups, behaviour, three COPYs, commit) does not


@pytest.fixture(scope="module")
def hurried(api: Api) -> Iterator[str]:
    """The session app's twin on the same database, through the same proxy, answering within DEADLINE_S."""
    from ray import serve

    from serve.builder import build_app

    db = api.settings.settings.database
    loaded = app_settings(free_port(), api.models, {
        "server.warm_from": str(api.data), "server.timeout_s": DEADLINE_S, "database.enabled": True,
        "database.url": db.url.get_secret_value(), "database.schema_name": db.schema_name,
        "database.retry.attempts": 1, "database.connect_timeout_s": 2, "database.statement_timeout_s": 30})
    serve.run(build_app(loaded.settings, loaded.version), name="hurried", route_prefix="/hurried")
    base = api.base + "/hurried"
    wait_for(lambda: requests.get(base + "/health/ready?route=writes", timeout=10).status_code == 200, what=base)
    yield base
    serve.delete("hurried")


def written_late(api: Api, base: str, events: list[dict]) -> None:
    """POST the events to `base` with every database round trip slowed: the deadline passes while they are being
    stored (503 deadline_exceeded); the proxy is left slow."""
    api.proxy.slow(LATENCY_MS)
    r = requests.post(base + "/v1/transactions", json={"transactions": events},
                      headers={"X-API-Key": KEYS["writer"][0]}, timeout=60)
    assert r.status_code == 503 and "server.timeout_s" in r.text, r.text


def settled(api: Api, base: str) -> bool:
    health = requests.get(base + "/health", headers=api.headers(), timeout=30).json()
    return health["feature_store"]["writes_settling"] == 0


@pytest.mark.parametrize("outcome", ["stored", "failed"])
def test_a_write_past_its_deadline_settles_the_features_by_what_was_stored(api: Api, later: pa.Table,
                                                                           twins: tuple[str, str], hurried: str,
                                                                           outcome: str) -> None:
    """A request whose deadline passes while its rows are being stored gets 503, and the write runs on: rows stored
    late count in their customers' state (the next score is a twin's that scored them too); rows that then fail to
    store do not (the twin never saw them). Cancelled with the request, a write would leave the state counting
    rows never stored."""
    twin = twins[0]
    mine = fresh_customers(api, later, 1, least=4).slice(0, 4)
    # merchants of their own and no device: no other test's rows in their windows (in either app)
    control, probe = (rows(mine.slice(i, 1))[0] | {"merchant_id": f"MER_LATE_{outcome}_{i}", "device_id": None}
                      for i in (0, 3))
    events = [rows(mine.slice(i, 1), (*SWITCH_FIELDS, "city"))[0] | {"merchant_id": f"MER_LATE_{outcome}_W",
                                                                    "device_id": None} for i in (1, 2)]
    np.testing.assert_allclose(features(hurried, control), features(twin, control), rtol=0, atol=1e-9)
    try:
        written_late(api, hurried, events)
        if outcome == "failed":
            api.proxy.cut()  # the write in flight fails
            wait_for(lambda: settled(api, hurried), timeout_s=60, what="the late write to fail")
        api.proxy.restore()
        wait_for(lambda: settled(api, hurried), timeout_s=60, what="the late write to settle")
    finally:
        api.proxy.restore()
    ids = [e["transaction_id"] for e in events]
    assert sorted(stored_rows(api, ids)) == (sorted(ids) if outcome == "stored" else [])
    if outcome == "stored":
        for event in events:  # the twin scores what was stored
            features(twin, event)
    np.testing.assert_allclose(features(hurried, probe), features(twin, probe), rtol=0, atol=1e-9)
