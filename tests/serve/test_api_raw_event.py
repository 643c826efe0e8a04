"""The raw event over HTTP: a payment switch's fields alone score exactly as the full form of the same transaction,
single and batch (JSON and Arrow); an unknown merchant or customer is scored, not refused; a body without a
location is refused naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
from api_rows import rows
from conftest import API_PARAMS, KEYS, Api, app_settings
from localhost import free_port, wait_for
from pg_schemas import execute

from serve.columnar import ARROW_STREAM, to_stream
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.reference import SWITCH_FIELDS
from synfinance.output.dataset import read_dataset
from synfinance.runner import write_dataset
from synfinance.schema import FEATURE_NAMES

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
