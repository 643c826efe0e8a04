"""POST /v1/score and /v1/score/batch over real HTTP: results, online = offline features, limits, no model."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import requests
from api_app import KEYS, Api, app_settings
from api_rows import YEAR, rows, transactions
from click.testing import CliRunner
from localhost import free_port, wait_for

from serve.columnar import ARROW_STREAM, to_stream
from synfinance.cli import main as cli
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.online import OnlineShard, shard_of
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.generation.replay import replayed
from synfinance.model import registry
from synfinance.model.data import feature_matrix
from synfinance.schema import FEATURE_NAMES, PREDICTION_SCHEMA
from synfinance.world.catalogue import FRAUD_NAMES

pytestmark = [pytest.mark.postgres, pytest.mark.ray]


def fresh_rows(api: Api, tag: str, n: int, offset: int = 0) -> list[dict]:
    """n observable rows under new customer, merchant, device and transaction ids (no other test's state)."""
    table = transactions(api.data).slice(offset, n)
    return rows(replayed(table, tag, keys=("transaction_id", "customer_id", "merchant_id", "device_id")))


def test_score_returns_probability_decision_reasons_and_model(api: Api) -> None:
    row = fresh_rows(api, "one-", 1)[0]
    r = api.post("/v1/score", row, "scorer")
    assert r.status_code == 200, r.text
    body = r.json()
    model = registry.load(api.models)
    assert body["transaction_id"] == row["transaction_id"]
    assert body["model_version"] == model.version
    assert 0 <= body["fraud_probability"] <= 1
    assert body["decision"] == model.policy.decide(np.array([body["fraud_probability"]]))[0]
    # reasons where a decision needs them: a flagged transaction has three, an approved one none
    assert len(body["reasons"]) == (0 if body["decision"] == "approve" else 3)
    assert all(reason["feature"] in FEATURE_NAMES for reason in body["reasons"])
    assert 0 <= body["anomaly_score"] <= 1 and body["processing_time_ms"] > 0
    assert set(PREDICTION_SCHEMA.names) <= set(body)  # the one predictions schema, plus timing
    assert "features" not in body or body["features"] is None
    assert r.headers["x-request-id"]


def test_scores_are_the_models_on_the_offline_features_and_state_advances(api: Api) -> None:
    # setup: the first five transactions of one customer, under new ids, in time order
    table = transactions(api.data)
    first = table.filter(pa.compute.equal(table.column("customer_id"), table.column("customer_id")[0])).slice(0, 5)
    mine = rows(replayed(first, "adv-", keys=("transaction_id", "customer_id", "merchant_id", "device_id")))
    # run
    answers = [api.post("/v1/score?features=true", r, "scorer").json() for r in mine]
    # check: the customer's history deepens by one per request (the online state advanced each time)
    depth = np.expm1([a["features"]["history_depth"] for a in answers])  # history_depth = log1p(earlier rows)
    np.testing.assert_allclose(depth, [0, 1, 2, 3, 4], atol=1e-12)
    model = registry.load(api.models)
    x = np.array([[np.nan if a["features"][n] is None else a["features"][n] for n in FEATURE_NAMES]
                  for a in answers])
    np.testing.assert_allclose([a["fraud_probability"] for a in answers], model.predict(x), rtol=1e-12)


def offline_features(api: Api, table: pa.Table) -> np.ndarray:
    """What the dataset path computes: each shard warmed from the same dataset, then a batch extract."""
    shards = 2
    out = np.empty((table.num_rows, len(FEATURE_NAMES)))
    route = shard_of(table.column("customer_id"), shards)
    for s in range(shards):
        positions = np.flatnonzero(route == s)
        shard = OnlineShard(s, shards)
        shard.warm(api.data)
        features = shard.extractor.extract(table.take(pa.array(positions)).select(INPUT_COLUMNS))
        out[positions] = feature_matrix(features)
    return out


def parity_rows(api: Api, customers: slice, tag: str) -> pa.Table:
    """A year later, the transactions of some warmed customers, at new merchants and devices."""
    table = transactions(api.data)
    ids = sorted(set(table.column("customer_id").to_pylist()))[customers]
    mine = table.filter(pa.compute.is_in(table.column("customer_id"), pa.array(ids)))
    return replayed(mine, tag, shift=YEAR, keys=("transaction_id", "merchant_id", "device_id"))


def as_matrix(scores: list[dict]) -> np.ndarray:
    return np.array([[np.nan if s["features"][n] is None else s["features"][n] for n in FEATURE_NAMES]
                     for s in scores])


@pytest.fixture(scope="module")
def sharded(api: Api) -> Iterator[str]:
    """The same app with its feature store in two shard actors (server.feature_store: shards) beside the session
    app, which holds its store in the ingress: its base URL."""
    from ray import serve

    from serve.builder import build_app

    loaded = app_settings(free_port(), api.models, {"server.feature_store": "shards", "server.feature_shards": 2,
                                                    "server.warm_from": str(api.data)})
    serve.run(build_app(loaded.settings, loaded.version), name="sharded", route_prefix="/sharded")
    wait_for(lambda: requests.get(api.base + "/sharded/health/ready", timeout=10).status_code == 200,
             what="the sharded app")
    yield api.base + "/sharded"
    serve.delete("sharded")


@pytest.fixture(params=["ingress", "shards"])
def layout(request: pytest.FixtureRequest, api: Api) -> str:
    """The base URL of the app with the feature store in the ingress (the session app), or in shard actors."""
    return api.base if request.param == "ingress" else request.getfixturevalue("sharded")


def post(base: str, path: str, body: object, who: str = "scorer") -> requests.Response:
    return requests.post(base + path, json=body, headers={"X-API-Key": KEYS[who][0]}, timeout=120)


def test_health_says_where_the_feature_store_is(api: Api, layout: str) -> None:
    store = requests.get(layout + "/health", timeout=60).json()["feature_store"]
    expected = ("ingress", 1) if layout == api.base else ("shards", 2)
    assert (store["held_in"], store["shards"]) == expected and store["customers"] >= 600


def test_online_features_one_by_one_equal_offline_batch_features(api: Api, layout: str) -> None:
    table = parity_rows(api, slice(0, 3), "par1-")
    online = as_matrix([post(layout, "/v1/score?features=true", r).json() for r in rows(table)])
    np.testing.assert_allclose(online, offline_features(api, table), rtol=1e-9, atol=1e-9, equal_nan=True)


def test_batch_scores_equal_offline_and_keep_request_order(api: Api, layout: str) -> None:
    table = parity_rows(api, slice(3, 9), "par2-")
    body = rows(table)[::-1]  # newest first: the API must still take each customer's oldest first
    r = post(layout, "/v1/score/batch?features=true&explain=all", {"transactions": body})
    assert r.status_code == 200, r.text
    scores = r.json()["scores"]
    assert [s["transaction_id"] for s in scores] == [b["transaction_id"] for b in body]
    assert all(len(s["reasons"]) == 3 for s in scores)
    offline = offline_features(api, table)[::-1]
    np.testing.assert_allclose(as_matrix(scores), offline, rtol=1e-9, atol=1e-9, equal_nan=True)
    model = registry.load(api.models)
    np.testing.assert_allclose([s["fraud_probability"] for s in scores], model.predict(offline), rtol=1e-12)


def test_a_batch_one_shard_refuses_moves_no_other_shards_state(api: Api, sharded: str) -> None:
    """A batch over both shards of the shard layout is all or nothing: one row older than its customer's last is
    refused (422) on its shard, and the other shard's rows are taken back, so that customer's next score has the
    features of a history without them (offline, 1e-9)."""
    table = parity_rows(api, slice(20, 30), "atom-")
    route = shard_of(table.column("customer_id"), 2)
    customer = {s: table.column("customer_id")[int(np.flatnonzero(route == s)[0])].as_py() for s in (0, 1)}
    a, b = (rows(table.filter(pa.compute.equal(table.column("customer_id"), customer[s]))) for s in (0, 1))
    assert len(a) >= 2 and len(b) >= 2
    assert post(sharded, "/v1/score", b[-1]).status_code == 200  # b's newest: its oldest is now out of order
    r = post(sharded, "/v1/score/batch", {"transactions": [a[0], b[0]]})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "$.transactions[1].timestamp", r.text
    r = post(sharded, "/v1/score?features=true", a[1])
    assert r.status_code == 200, r.text
    without_a0 = table.filter(pa.compute.equal(table.column("transaction_id"), a[1]["transaction_id"]))
    np.testing.assert_allclose(as_matrix([r.json()]), offline_features(api, without_a0), rtol=1e-9, atol=1e-9,
                               equal_nan=True)


def test_a_transaction_older_than_the_customers_last_is_refused_by_path(api: Api) -> None:
    table = parity_rows(api, slice(9, 10), "old-")
    first, second = rows(table)[-1], rows(table)[0]  # newest, then an older one
    assert api.post("/v1/score", first, "scorer").status_code == 200
    r = api.post("/v1/score/batch", {"transactions": [second]}, "scorer")
    assert r.status_code == 422, r.text
    detail = r.json()["details"][0]
    assert detail["field"] == "$.transactions[0].timestamp"
    # what was sent, and the customer's last time it must not precede (both in UTC)
    assert dt.datetime.fromisoformat(detail["got"]) == dt.datetime.fromisoformat(second["timestamp"])
    assert dt.datetime.fromisoformat(first["timestamp"]).astimezone(dt.UTC).isoformat() in detail["expected"]


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"amount_inr": -5}, "$.amount_inr", id="negative-amount"),
    pytest.param({"amount_inr": "12.345"}, "$.amount_inr", id="sub-paise"),
    pytest.param({"category": "Casino"}, "$.category", id="unknown-category"),
    pytest.param({"timestamp": "2026-01-01T10:00:00"}, "$.timestamp", id="no-time-zone"),
    pytest.param({"latitude": 123.0}, "$.latitude", id="latitude-out-of-range"),
    pytest.param({"is_fraud": True}, "$.is_fraud", id="label-field-not-accepted"),
    pytest.param({"customer_id": "a\u0000b"}, "$.customer_id", id="nul-in-text"),
])
def test_bad_fields_are_named_by_json_path(api: Api, change: dict, field: str) -> None:
    row = {**fresh_rows(api, "bad-", 1)[0], **change}
    r = api.post("/v1/score", row, "scorer")
    assert r.status_code == 422, r.text
    assert field in [d["field"] for d in r.json()["details"]]


def test_missing_field_in_a_batch_names_its_row(api: Api) -> None:
    body = fresh_rows(api, "miss-", 3)
    del body[1]["amount_inr"]
    r = api.post("/v1/score/batch", {"transactions": body}, "scorer")
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["details"]] == ["$.transactions[1].amount_inr"]


def test_batch_over_the_limit_is_413_naming_it(api: Api) -> None:
    one = fresh_rows(api, "big-", 1)[0]
    r = api.post("/v1/score/batch", {"transactions": [one] * 10_001}, "scorer")
    assert r.status_code == 413
    assert "10,000" in r.json()["message"]


def test_body_over_the_byte_limit_is_413_before_it_is_read(api: Api) -> None:
    limit = api.settings.settings.server.max_request_bytes
    r = requests.post(api.base + "/v1/score", data=b" " * (limit + 1), timeout=60,
                      headers={**api.headers("scorer"), "Content-Type": "application/json"})
    assert r.status_code == 413 and f"{limit:,}" in r.json()["message"]


def test_non_json_body_is_415(api: Api) -> None:
    r = requests.post(api.base + "/v1/score", data="amount=5", timeout=60,
                      headers={**api.headers("scorer"), "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415


def test_without_a_model_score_is_503_with_the_reason_and_not_ready(api: Api, no_model_api: str) -> None:
    row = fresh_rows(api, "nomodel-", 1)[0]
    r = requests.post(no_model_api + "/v1/score", json=row, headers=api.headers("scorer"), timeout=60)
    assert r.status_code == 503 and r.json()["error"] == "model_unavailable"
    assert "no active model" in r.json()["message"]
    ready = requests.get(no_model_api + "/health/ready", timeout=60)
    assert ready.status_code == 503 and "no active model" in ready.json()["reason"]
    assert api.get("/health/ready", None).status_code == 200  # the other app is unaffected


def post_arrow(api: Api, path: str, table: pa.Table, accept: str = ARROW_STREAM) -> requests.Response:
    headers = {**api.headers("scorer"), "Content-Type": ARROW_STREAM, "Accept": accept}
    return requests.post(api.base + path, data=to_stream(table.select(list(INPUT_COLUMNS))), headers=headers,
                         timeout=120)


def test_arrow_batch_scores_equal_offline_and_keep_request_order(api: Api) -> None:
    table = parity_rows(api, slice(10, 16), "arrow1-")
    reverse = table.take(pa.array(np.arange(table.num_rows)[::-1]))  # newest first
    r = post_arrow(api, "/v1/score/batch?features=true&explain=all", reverse)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == ARROW_STREAM
    scores = pa.ipc.open_stream(r.content).read_all()
    assert scores.column("transaction_id").to_pylist() == reverse.column("transaction_id").to_pylist()
    assert all(len(reasons) == 3 for reasons in scores.column("reasons").to_pylist())
    online = np.column_stack([scores.column(f"features.{n}").to_numpy(zero_copy_only=False) for n in FEATURE_NAMES])
    offline = offline_features(api, table)[::-1]
    np.testing.assert_allclose(online, offline, rtol=1e-9, atol=1e-9, equal_nan=True)
    model = registry.load(api.models)
    np.testing.assert_allclose(scores.column("fraud_probability").to_numpy(), model.predict(offline), rtol=1e-12)
    assert set(scores.column("model_version").to_pylist()) == {model.version}
    assert scores.schema.names[:len(PREDICTION_SCHEMA)] == PREDICTION_SCHEMA.names


def test_arrow_body_answers_json_unless_arrow_is_accepted(api: Api) -> None:
    table = parity_rows(api, slice(16, 18), "arrow2-")
    r = post_arrow(api, "/v1/score/batch", table, accept="application/json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert [s["transaction_id"] for s in r.json()["scores"]] == table.column("transaction_id").to_pylist()


def test_bad_arrow_values_are_named_by_row(api: Api) -> None:
    table = parity_rows(api, slice(18, 19), "arrow3-").slice(0, 3)
    categories = table.column("category").to_pylist()
    categories[1] = "Casino"
    bad = table.set_column(table.schema.get_field_index("category"), "category", pa.array(categories))
    r = post_arrow(api, "/v1/score/batch", bad)
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["details"]] == ["$.transactions[1].category"]
    garbage = requests.post(api.base + "/v1/score/batch", data=b"not arrow", timeout=60,
                            headers={**api.headers("scorer"), "Content-Type": ARROW_STREAM})
    assert garbage.status_code == 422 and garbage.json()["details"][0]["field"] == "$"


def test_arrow_is_taken_only_where_a_route_says_so(api: Api) -> None:
    table = parity_rows(api, slice(19, 20), "arrow4-").slice(0, 1)
    r = post_arrow(api, "/v1/score", table)
    assert r.status_code == 415 and "application/json" in r.json()["message"]


def test_api_score_prints_a_readable_spread_of_next_transactions(api: Api) -> None:
    # the customers keep their ids: their next transactions come after the history the shards were warmed with
    result = CliRunner().invoke(cli, ["api", "score", "--data", str(api.data), "--url", api.base, "--count", "5"],
                                env={"API_KEY": KEYS["scorer"][0], "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines) and "…" not in result.output  # nothing cut at 80 columns
    scored = [line for line in lines if any(d in line for d in (" approve ", " review ", " decline "))]
    assert len(scored) == 5
    assert {line.split()[-1] for line in scored} <= {*FRAUD_NAMES, "anomaly", "legitimate"}, lines  # none folded
    hours = {line.split()[1][:2] for line in scored}  # "Wed 14:05"
    assert len(hours) >= 3  # spread over the day, not all just after midnight
    assert any(kind in result.output for kind in FRAUD_NAMES)  # some frauds among them


def test_params_read_back_from_a_manifest_and_the_next_period_follows() -> None:
    params = GenerationParams(count=5_000, seed=3, days=30, fraud_types=("card_cloning",),
                              fraud_weights=(("card_cloning", 2.0),), anomaly_weights=(("amount_spike", 1.0),))
    assert GenerationParams.from_json(json.loads(json.dumps(params.to_json()))) == params
    assert params.next_period().start == params.start + dt.timedelta(days=30)
    assert GenerationPlan(params.next_period()).customers.ids.equals(GenerationPlan(params).customers.ids)


def prediction_columns(table: pa.Table) -> dict[str, list]:
    return {name: table.column(name).to_pylist() for name in ("transaction_id", "decision", "reasons")}


def test_one_scoring_path_for_model_predict_the_pipeline_and_the_api(api: Api, tmp_path: Path) -> None:
    """The same transaction gets the same probability, decision and reasons wherever it is scored."""
    from actors.pipeline import run_pipeline
    from synfinance.features.extractor import FeatureExtractor
    from synfinance.model.batch import predict_dataset
    from synfinance.model.scoring import ScoreStage, predictions_table
    from synfinance.output.dataset import read_dataset
    from synfinance.sinks import DatasetSink

    # setup: a dataset scored by the pipeline's score stage (two Ray workers) with the API's model
    model = registry.load(api.models)
    stage = ScoreStage(api.models, model.version)
    params = GenerationParams(count=8_000, seed=77, customers=200, merchants=2_000, shard_size=50)
    run_pipeline(params, DatasetSink(tmp_path / "ds", "parquet", stage.manifest()), workers=2, features=True,
                 score=stage)
    dataset = read_dataset(tmp_path / "ds")
    piped = dataset["predictions"]
    assert piped.num_rows == params.count and {"approve", "review"} <= set(piped.column("decision").to_pylist())

    # model predict on the dataset's stored features: the same, to the bit
    predicted = pa.concat_tables(predict_dataset(model, tmp_path / "ds"))
    assert prediction_columns(predicted) == prediction_columns(piped)
    assert predicted.column("fraud_probability").equals(piped.column("fraud_probability"))

    # /v1/score, one by one, of two customers with frauds (under new ids: no state anywhere), against the offline
    # scorer on the same rows' batch features
    txns = dataset["transactions"].sort_by([("timestamp", "ascending")])
    frauds = txns.filter(txns.column("is_fraud")).column("customer_id").unique()[:2]
    mine = replayed(txns.filter(pa.compute.is_in(txns.column("customer_id"), frauds)), "path-",
                    keys=("transaction_id", "customer_id", "merchant_id", "device_id"))
    offline = predictions_table(model, mine, FeatureExtractor().extract(mine.select(INPUT_COLUMNS)))
    online = [api.post("/v1/score", r, "scorer").json() for r in rows(mine)]
    assert all("fraud_probability" in s for s in online), online[:1]
    np.testing.assert_allclose([s["fraud_probability"] for s in online],
                               offline.column("fraud_probability").to_numpy(), rtol=1e-9, atol=1e-9)
    assert [s["decision"] for s in online] == offline.column("decision").to_pylist()
    assert "approve" in {s["decision"] for s in online} and {"review", "decline"} & {s["decision"] for s in online}
    for answer, expected in zip(online, offline.column("reasons").to_pylist(), strict=True):
        assert [r["feature"] for r in answer["reasons"]] == [r["feature"] for r in expected]
        np.testing.assert_allclose([r["contribution"] for r in answer["reasons"]],
                                   [r["contribution"] for r in expected], rtol=1e-9, atol=1e-9)


def test_a_rechosen_policy_reaches_the_running_api_without_a_restart(api: Api) -> None:
    from localhost import wait_for

    from synfinance.model.fitting import PolicyRule, repolicy

    version = registry.active_version(api.models)
    assert version is not None
    before = registry.load(api.models).policy

    def served_review_at() -> float:
        return float(api.get("/v1/model", "reader").json()["policy"]["review_at"])

    try:
        # run: halve the review budget of the active version (no retraining, no restart)
        halved = repolicy(api.models, version, PolicyRule(review_rate=before.review_rate / 2)).metrics["policy"]
        assert halved["review_at"] > before.review_at
        # check: the scorer uses it within seconds, and decides by it
        wait_for(lambda: served_review_at() == halved["review_at"], timeout_s=30, what="the new policy")
        row = fresh_rows(api, "repol-", 1)[0]
        answer = api.post("/v1/score", row, "scorer").json()
        policy = registry.load(api.models).policy
        assert answer["decision"] == policy.decide(np.array([answer["fraud_probability"]]))[0]
    finally:
        repolicy(api.models, version, PolicyRule(review_rate=before.review_rate))
        wait_for(lambda: served_review_at() == before.review_at, timeout_s=30, what="the policy restored")


def _answer(r: requests.Response) -> tuple[int, dict, dict]:
    """Status, body without the request id, and the headers a client acts on."""
    body = {k: v for k, v in r.json().items() if k != "request_id"}
    return r.status_code, body, {h: r.headers.get(h) for h in ("content-type", "www-authenticate", "retry-after")}


@pytest.mark.parametrize(("who", "make"), [
    pytest.param(None, lambda row: json.dumps(row), id="no-key"),
    pytest.param("reader", lambda row: json.dumps(row), id="wrong-scope"),
    pytest.param("scorer", lambda row: json.dumps({**row, "amount_inr": -5}), id="bad-field"),
    pytest.param("scorer", lambda row: json.dumps({k: v for k, v in row.items() if k != "amount_inr"}),
                 id="missing-field"),
    pytest.param("scorer", lambda row: json.dumps(row)[:-3], id="broken-json"),
    pytest.param("scorer", lambda row: "", id="empty-body"),
    pytest.param("scorer", lambda row: "[" * 100_000, id="nested-deeper-than-the-parser"),
    pytest.param("scorer", lambda row: json.dumps([row]), id="array-body"),
    pytest.param("scorer", lambda row: json.dumps({**row, "is_fraud": True}), id="unknown-field"),
])
def test_the_fast_score_path_refuses_exactly_as_the_app_does(api: Api, who: str | None, make) -> None:
    """POST /v1/score without a query string takes serve.access.FastScore; with one, FastAPI's routing. Every
    refusal is the same answer either way."""
    body = make(fresh_rows(api, "fast-", 1)[0])
    headers = {**(api.headers(who) if who else {}), "Content-Type": "application/json"}
    fast = requests.post(api.base + "/v1/score", data=body, headers=headers, timeout=60)
    routed = requests.post(api.base + "/v1/score?features=false", data=body, headers=headers, timeout=60)
    assert fast.status_code >= 400, fast.text
    assert _answer(fast) == _answer(routed)


def test_the_fast_score_path_answers_as_the_app_does(api: Api) -> None:
    """Two customers' first transactions, one through each path: the same model, fields and decision rule."""
    one, two = fresh_rows(api, "fast-ok-a-", 1)[0], fresh_rows(api, "fast-ok-b-", 1)[0]
    fast = api.post("/v1/score", one, "scorer")
    routed = api.post("/v1/score?features=false", two, "scorer")
    assert fast.status_code == routed.status_code == 200
    a, b = fast.json(), routed.json()
    assert set(a) == set(b) and a["transaction_id"] == one["transaction_id"]
    offline = registry.load(api.models)
    assert (a["fraud_probability"], a["decision"], a["model_version"]) == \
           (b["fraud_probability"], b["decision"], offline.version)  # same row under other ids: same score
    assert fast.headers["content-type"] == routed.headers["content-type"]


def test_the_fast_score_path_keeps_the_rate_limit(api: Api) -> None:
    """Fast-path scores take the limited key's tokens (burst 2, 0.5/s): within a few calls one is 429, and the next
    is 429 with Retry-After on either path."""
    rows_, row = fresh_rows(api, "fast-lim-", 6), fresh_rows(api, "fast-lim-next-", 1)[0]  # read before: no pause
    codes = [api.post("/v1/score", r, "limited").status_code for r in rows_]  # a token comes back every 2 s
    assert 429 in codes and set(codes) <= {200, 429}, codes
    fast, routed = api.post("/v1/score", row, "limited"), api.post("/v1/score?features=false", row, "limited")
    assert _answer(fast)[0] == _answer(routed)[0] == 429
    assert _answer(fast)[1]["error"] == _answer(routed)[1]["error"] == "rate_limited"
    assert int(fast.headers["retry-after"]) >= 1 and int(routed.headers["retry-after"]) >= 1
