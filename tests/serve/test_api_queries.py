"""Storing and querying over HTTP against the real database, and the breaker when PostgreSQL goes away."""

from __future__ import annotations

import asyncio

import pytest
from api_app import Api
from api_rows import YEAR, rows, transactions
from localhost import wait_for

from synfinance.generation.replay import replayed
from synfinance.schema import TRANSACTION_SCHEMA

pytestmark = [pytest.mark.postgres, pytest.mark.ray]


def records(api: Api, tag: str, n: int) -> list[dict]:
    table = replayed(transactions(api.data).slice(100, n), tag, shift=YEAR,
                    keys=("transaction_id", "customer_id", "merchant_id", "device_id"))
    return rows(table, tuple(TRANSACTION_SCHEMA.names))


def fetch(api: Api, sql: str, *args: object) -> list:
    async def run() -> list:
        conn = await api.db.connect()
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()
    return asyncio.run(run())


def test_store_scores_and_persists_then_reads_back(api: Api) -> None:
    body = records(api, "st-", 4)
    r = api.post("/v1/transactions", {"transactions": body}, "writer")
    assert r.status_code == 201, r.text
    assert r.json()["stored"] == 4 and len(r.json()["scores"]) == 4
    got = api.get(f"/v1/transactions/{body[2]['transaction_id']}", "reader")
    assert got.status_code == 200 and got.json()["amount_inr"] == float(body[2]["amount_inr"])
    assert got.json()["timestamp"] == body[2]["timestamp"]
    predictions = api.get(f"/v1/predictions?transaction_id={body[2]['transaction_id']}", "reader").json()["items"]
    assert [p["fraud_probability"] for p in predictions] == [r.json()["scores"][2]["fraud_probability"]]
    assert [p["decision"] for p in predictions] == [r.json()["scores"][2]["decision"]]
    assert len(fetch(api, "SELECT 1 FROM features WHERE transaction_id = $1", body[2]["transaction_id"])) == 1


def test_a_stored_id_is_409_and_nothing_is_written(api: Api) -> None:
    first, second = records(api, "dup-", 2)
    assert api.post("/v1/transactions?score=false", {"transactions": [first]}, "writer").status_code == 201
    r = api.post("/v1/transactions", {"transactions": [second, first]}, "writer")
    assert r.status_code == 409 and first["transaction_id"] in r.json()["message"]
    assert fetch(api, "SELECT 1 FROM transactions WHERE transaction_id = $1", second["transaction_id"]) == []


def test_an_idempotency_key_makes_a_retry_get_the_first_answer_and_store_once(api: Api) -> None:
    body = {"transactions": records(api, "idem-", 3)}
    key = {"Idempotency-Key": "order-7f3a-1"}
    first = api.post("/v1/transactions", body, "writer", headers=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = api.post("/v1/transactions", body, "writer", headers=key)  # a client's retry after a lost answer
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # the same scores and timings, not a second scoring
    ids = [r["transaction_id"] for r in body["transactions"]]
    assert len(fetch(api, "SELECT 1 FROM transactions WHERE transaction_id = ANY($1)", ids)) == 3
    assert len(fetch(api, "SELECT 1 FROM predictions WHERE transaction_id = ANY($1)", ids)) == 3
    # the same key with another request is refused, naming the header; another API key's same key is its own
    other = api.post("/v1/transactions", {"transactions": records(api, "idem2-", 1)}, "writer", headers=key)
    assert other.status_code == 422 and other.json()["details"][0]["field"] == "header.Idempotency-Key", other.text
    assert api.post("/v1/transactions?score=false", body, "writer", headers=key).status_code == 422  # query too
    mine = api.post("/v1/transactions", {"transactions": records(api, "idem3-", 1)}, "admin", headers=key)
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine.headers


def test_a_malformed_idempotency_key_is_422_naming_the_header(api: Api) -> None:
    body = {"transactions": records(api, "idbad-", 1)}
    r = api.post("/v1/transactions", body, "writer", headers={"Idempotency-Key": "x" * 256})
    assert r.status_code == 422 and r.json()["details"][0]["field"].lower() == "header.idempotency-key", r.text


def test_repeated_id_within_one_request_is_422(api: Api) -> None:
    one = records(api, "rep-", 1)[0]
    r = api.post("/v1/transactions", {"transactions": [one, one]}, "writer")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "$.transactions[1].transaction_id"


def test_unknown_ids_are_404(api: Api) -> None:
    for path in ("/v1/transactions/nope", "/v1/customers/nope", "/v1/merchants/nope"):
        r = api.get(path, "reader")
        assert r.status_code == 404 and "nope" in r.json()["message"], path
    assert api.get("/v1/no-such-route", "reader").status_code == 404


def test_pagination_walks_every_row_once_in_order(api: Api) -> None:
    customer = transactions(api.data).column("customer_id")[0].as_py()
    expected = [r["transaction_id"] for r in fetch(
        api, "SELECT transaction_id FROM transactions WHERE customer_id = $1 ORDER BY timestamp, transaction_id",
        customer)]
    seen, cursor = [], None
    while True:
        query = f"/v1/transactions?customer_id={customer}&limit=7" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, "reader").json()
        seen += [item["transaction_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and len(expected) > 7


def test_bad_query_values_are_422_naming_the_parameter(api: Api) -> None:
    cases = {"/v1/transactions?limit=0": "query.limit", "/v1/transactions?from=yesterday": "query.from",
             "/v1/transactions?cursor=garbage": "$.cursor", "/v1/stats/fraud?by=week": "query.by",
             "/v1/transactions?min_score=2": "query.min_score"}
    for path, field in cases.items():
        r = api.get(path, "reader")
        assert r.status_code == 422, path
        assert field in [d["field"] for d in r.json()["details"]], (path, r.json())


def test_population_stats_and_model_routes(api: Api) -> None:
    customers = api.get("/v1/customers?limit=5", "reader").json()["items"]
    assert len(customers) == 5
    one = api.get(f"/v1/customers/{customers[0]['customer_id']}", "reader").json()
    assert one == customers[0]
    merchants = api.get("/v1/merchants?limit=3", "reader").json()
    assert len(merchants["items"]) == 3 and merchants["next_cursor"]
    by_day = api.get("/v1/stats/fraud?by=day", "reader").json()["rows"]
    truth = fetch(api, "SELECT count(*) FILTER (WHERE is_fraud) AS f FROM transactions")
    assert sum(r["fraud"] for r in by_day) == truth[0]["f"]
    by_type = api.get("/v1/stats/fraud?by=type", "reader").json()["rows"]
    assert {r["fraud_type"] for r in by_type} and all(r["transactions"] > 0 for r in by_type)
    model = api.get("/v1/model", "reader").json()
    assert model["version"] == "v0001" and len(model["feature_names"]) == 69 and "pr_auc" in model["metrics"]


def test_breaker_opens_when_the_database_goes_and_closes_when_it_returns(api: Api) -> None:
    tid = transactions(api.data).column("transaction_id")[0].as_py()
    score_row = rows(replayed(transactions(api.data).slice(0, 1), "brk-", keys=(
        "transaction_id", "customer_id", "merchant_id", "device_id")))[0]
    api.proxy.cut()
    try:
        # run: the first calls fail after their retries; then the breaker answers at once
        codes = [api.get(f"/v1/transactions/{tid}", "reader") for _ in range(4)]
        assert all(c.status_code == 503 for c in codes)
        assert codes[-1].json()["error"] == "circuit_open" and int(codes[-1].headers["Retry-After"]) >= 1
        health = api.get("/health", None).json()
        assert health["database"]["status"] == "unavailable" and health["status"] == "degraded"
        assert health["ready"] == {"scoring": True, "queries": False, "writes": False}
        # not ready for the routes that need the database, saying why; ready to score, and live
        queries = api.get("/health/ready?route=queries", None)
        assert queries.status_code == 503 and queries.json()["down"] == ["database"]
        assert api.get("/health/ready", None).status_code == 200
        assert api.get("/health/live", None).status_code == 200
        assert api.post("/v1/score", score_row, "scorer").status_code == 200  # scoring needs no database
    finally:
        api.proxy.restore()
    wait_for(lambda: api.get(f"/v1/transactions/{tid}", "reader").status_code == 200, 30, "the breaker to close")
    database = api.get("/health", None).json()["database"]
    assert (database["status"], database["breaker"]) == ("ok", "closed")
    assert api.get("/health/ready?route=writes", None).status_code == 200
