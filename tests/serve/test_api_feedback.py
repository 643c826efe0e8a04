"""Label feedback over HTTP: joined to the stored prediction, counted once, all or nothing; and `stream --sink api`
sending the generated truth back after a delay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests
from api_app import API_PARAMS, KEYS, Api, app_settings
from localhost import free_port, wait_for
from promtext import series
from test_api_queries import fetch, records

from synfinance.sinks import ApiSink
from synfinance.stream.pacer import source, stream

pytestmark = [pytest.mark.postgres, pytest.mark.ray]


@pytest.fixture(scope="module")
def cold(api: Api) -> Iterator[str]:
    """A second app on the same database with a cold feature store: a stream's customers (the generator's ids,
    which the session app's store also holds) must not move the session app's online state."""
    from ray import serve

    from serve.builder import build_app

    settings = api.settings.settings
    loaded = app_settings(free_port(), api.models, {
        "database.enabled": True, "database.url": settings.database.url,
        "database.schema_name": settings.database.schema_name, "server.feature_shards": 1})
    serve.run(build_app(loaded.settings, loaded.version), name="cold", route_prefix="/cold")
    base = api.base + "/cold"
    wait_for(lambda: requests.get(base + "/health/ready", timeout=10).status_code == 200, what="the cold app")
    yield base
    serve.delete("cold")
AFTER = API_PARAMS.start + dt.timedelta(days=2 * API_PARAMS.days)  # the warmed customers' histories go on
CELL = {(True, True): "tp", (True, False): "fp", (False, True): "fn", (False, False): "tn"}


def test_feedback_joins_the_stored_prediction_and_counts_each_transaction_once(api: Api) -> None:
    body = records(api, "fb-", 6)
    stored = api.post("/v1/transactions", {"transactions": body}, "writer").json()["scores"]
    truth = [i % 2 == 0 for i in range(6)]
    items = [{"transaction_id": r["transaction_id"], "is_fraud": f, "fraud_type": "card_testing" if f else None}
             for r, f in zip(body, truth, strict=True)]
    expected: dict[str, int] = {}
    for score, fraud in zip(stored, truth, strict=True):
        cell = CELL[(score["decision"] != "approve", fraud)]
        expected[cell] = expected.get(cell, 0) + 1

    r = api.post("/v1/feedback/batch", {"feedback": items}, "writer")
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 6, "counted": 6, "outcomes": expected}
    again = api.post("/v1/feedback", items[0], "writer").json()
    assert again == {"received": 1, "counted": 0, "outcomes": {}}  # a repeat is not counted twice
    kept = fetch(api, "SELECT outcome, fraud_type FROM feedback WHERE transaction_id = $1", body[0]["transaction_id"])
    assert [tuple(k) for k in kept] == [(CELL[(stored[0]["decision"] != "approve", True)], "card_testing")]

    def counted() -> float:
        return sum(series(api.get("/metrics", None).text, "synfinance_feedback_total", outcome=cell)
                   for cell in ("tp", "fp", "fn", "tn"))
    wait_for(lambda: counted() >= 6, 30, "the feedback counters")


def test_feedback_for_an_unscored_transaction_is_404_and_records_nothing(api: Api) -> None:
    known = records(api, "fbk-", 1)[0]
    api.post("/v1/transactions", {"transactions": [known]}, "writer")
    batch = {"feedback": [{"transaction_id": known["transaction_id"], "is_fraud": False},
                          {"transaction_id": "never-stored", "is_fraud": True}]}
    r = api.post("/v1/feedback/batch", batch, "writer")
    assert r.status_code == 404 and "never-stored" in r.json()["message"]
    assert fetch(api, "SELECT 1 FROM feedback WHERE transaction_id = $1", known["transaction_id"]) == []


@pytest.mark.parametrize(("item", "field"), [
    ({"transaction_id": "t", "is_fraud": False, "fraud_type": "card_testing"}, "$.fraud_type"),
    ({"transaction_id": "t", "is_fraud": True, "fraud_type": "not_a_type"}, "$.fraud_type"),
    ({"transaction_id": "t"}, "$.is_fraud"),
    ({"transaction_id": "t", "is_fraud": True, "extra": 1}, "$.extra"),
])
def test_bad_feedback_is_422_naming_the_field(api: Api, item: dict, field: str) -> None:
    r = api.post("/v1/feedback", item, "writer")
    assert r.status_code == 422 and [d["field"] for d in r.json()["details"]] == [field]


def test_feedback_needs_the_write_scope(api: Api) -> None:
    assert api.post("/v1/feedback", {"transaction_id": "t", "is_fraud": True}, "reader").status_code == 403


def test_stream_to_the_api_sends_the_truth_back_as_feedback(api: Api, cold: str) -> None:
    sink = ApiSink(cold, KEYS["writer"][0], feedback_delay_s=0.0)
    report = stream(400, 1.0, sink, seed=977, start=AFTER)
    sink.close([])
    assert report.rows > 0 and sink.sent == report.rows and sink.unsent == 0  # a slow POST may end it early
    _, table, _ = source(400, 977, None, 1.0, AFTER)  # the rows the stream emitted: the first report.rows
    table = table.slice(0, report.rows)
    ids = table.column("transaction_id").to_pylist()
    got = fetch(api, "SELECT count(*) AS n, count(*) FILTER (WHERE is_fraud) AS frauds FROM feedback "
                     "WHERE transaction_id = ANY($1)", ids)
    assert (got[0]["n"], got[0]["frauds"]) == (report.rows, sum(table.column("is_fraud").to_pylist()))


def test_feedback_not_yet_due_is_not_sent(api: Api, cold: str) -> None:
    sink = ApiSink(cold, KEYS["writer"][0], feedback_delay_s=3600.0)
    later = AFTER + dt.timedelta(days=100)  # after the previous stream's rows (92 days) too
    report = stream(100, 0.5, sink, seed=978, start=later)
    sink.close([])
    assert report.rows > 0 and (sink.sent, sink.unsent) == (0, report.rows)
    _, table, _ = source(50, 978, None, 0.5, later)
    assert fetch(api, "SELECT 1 FROM feedback WHERE transaction_id = ANY($1)",
                 table.column("transaction_id").to_pylist()) == []
