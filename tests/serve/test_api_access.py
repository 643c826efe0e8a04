"""Keys, scopes, rate limits, health, metrics and logs of the API, over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from api_app import CORS_ORIGIN, KEYS, LIMITED_RATE, Api
from api_rows import rows, transactions
from localhost import wait_for
from promtext import series

from synfinance.generation.replay import replayed

pytestmark = [pytest.mark.postgres, pytest.mark.ray]


@pytest.mark.parametrize(("method", "path", "scope"), [
    pytest.param("post", "/v1/score", "score", id="score"),
    pytest.param("post", "/v1/score/batch", "score", id="score-batch"),
    pytest.param("post", "/v1/transactions", "write", id="store"),
    pytest.param("get", "/v1/transactions", "read", id="transactions"),
    pytest.param("get", "/v1/customers", "read", id="customers"),
    pytest.param("get", "/v1/merchants", "read", id="merchants"),
    pytest.param("get", "/v1/predictions", "read", id="predictions"),
    pytest.param("get", "/v1/stats/fraud", "read", id="stats"),
    pytest.param("get", "/v1/model", "read", id="model"),
    pytest.param("get", "/v1/cache", "admin", id="cache"),
])
def test_every_v1_route_needs_a_key_with_its_scope(api: Api, method: str, path: str, scope: str) -> None:
    def call(headers: dict[str, str]) -> requests.Response:
        return requests.request(method, api.base + path, json={} if method == "post" else None,
                                headers=headers, timeout=60)

    missing = call({})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("ApiKey")
    assert call({"X-API-Key": "not-a-key"}).status_code == 401
    wrong = next(name for name, (_, scopes) in KEYS.items() if scope not in scopes and "admin" not in scopes)
    denied = call(api.headers(wrong))
    assert denied.status_code == 403 and scope in denied.json()["message"]
    allowed = next(name for name, (_, scopes) in KEYS.items() if scopes == [scope])
    assert call(api.headers(allowed)).status_code not in (401, 403)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/cache/warm", {"dataset": "/no/such/dataset"}, "dataset"),
    ("/v1/cache/warm", {"dataset": ""}, "dataset"),
    ("/v1/cache/warm", {"dataset": None, "more": 1}, "more"),
    ("/v1/cache/clear", {"features": "yes please"}, "features"),
    ("/v1/cache/clear", {"model": [], "features": False}, "model"),
])
def test_the_cache_routes_refuse_a_bad_body_naming_the_field(api: Api, path: str, body: dict[str, object],
                                                             field: str) -> None:
    before = requests.get(api.base + "/v1/cache", headers=api.headers("admin"), timeout=60).json()
    refused = requests.post(api.base + path, json=body, headers=api.headers("admin"), timeout=60)
    assert refused.status_code == 422, refused.text
    assert [d["field"].rsplit(".", 1)[-1] for d in refused.json()["details"]] == [field]
    scopes = requests.post(api.base + path, json={}, headers=api.headers("writer"), timeout=60)
    assert scopes.status_code == 403 and "admin" in scopes.json()["message"]
    after = requests.get(api.base + "/v1/cache", headers=api.headers("admin"), timeout=60).json()
    assert after["features"]["customers"] == before["features"]["customers"]  # nothing was cleared or warmed


def test_health_and_metrics_need_no_key(api: Api) -> None:
    for path in ("/health/live", "/health/ready", "/health/startup", "/health", "/metrics"):
        assert api.get(path, None).status_code == 200, path


def test_over_the_rate_limit_is_429_with_retry_after(api: Api) -> None:
    burst = LIMITED_RATE["burst"]
    codes = [api.get("/v1/model", "limited").status_code for _ in range(burst + 1)]
    assert codes[:burst] == [200] * burst and codes[-1] == 429
    r = api.get("/v1/model", "limited")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert api.get("/v1/model", "reader").status_code == 200  # other keys keep their own budget


def test_health_reports_each_component(api: Api) -> None:
    body = api.get("/health", None).json()
    assert body["status"] == "ok" and body["model"]["status"] == "ok"
    assert {k: body["database"][k] for k in ("status", "breaker")} == {"status": "ok", "breaker": "closed"}
    assert body["database"]["round_trip_ms"] > 0
    assert body["ready"] == {"scoring": True, "queries": True, "writes": True}
    assert body["ray"]["nodes"] == 1 and body["ray"]["cpus"] == 2
    assert body["disk"]["status"] in ("ok", "low") and str(api.models) in body["disk"]["paths"]
    assert body["config_version"] == api.settings.version
    # the default layout: the one ingress replica holds every customer
    assert (body["feature_store"]["held_in"], body["feature_store"]["shards"]) == ("ingress", 1)
    assert body["feature_store"]["customers"] >= 600
    warmed = sum(s["warmed_rows"] for s in api.get("/health/startup", None).json()["feature_shards"])
    assert warmed == 60_000  # every transaction of the dataset replayed once


def test_metrics_are_the_clusters_prometheus_text_with_route_templates(api: Api) -> None:
    before = api.get("/metrics", None).text
    route = "/v1/transactions/{transaction_id}"
    was = series(before, "synfinance_http_requests_total", route=route, status="404")
    api.get("/v1/transactions/no-such-id", "reader")
    api.post("/v1/score", {"transaction_id": "x"}, "scorer")  # 422: fields missing
    one = rows(replayed(transactions(api.data).slice(0, 1), "met-",
                       keys=("transaction_id", "customer_id", "merchant_id", "device_id")))[0]
    decision = api.post("/v1/score", one, "scorer").json()["decision"]

    def page() -> str:
        r = api.get("/metrics", None)
        assert r.headers["content-type"].startswith("text/plain")
        return r.text

    # recorded through Ray's metrics agent: there within its report interval, whichever replica answers
    wait_for(lambda: series(page(), "synfinance_http_requests_total", route=route, status="404") == was + 1,
             30, "the 404 counted once")
    wait_for(lambda: series(page(), "synfinance_scores_total", decision=decision, model_version="v0001") >= 1,
             30, "the score counted")
    wait_for(lambda: series(page(), "synfinance_feature_store_lookups_total") >= 1, 30, "the lookup counted")
    text = page()
    assert series(text, "synfinance_http_request_duration_seconds_count", route=route) >= 1
    assert series(text, "synfinance_http_errors_total", kind="client", route=route) >= 1
    assert series(text, "synfinance_http_validation_failures_total", field="merchant_id") >= 1
    assert "no-such-id" not in text  # raw paths never become labels
    assert "ray_synfinance" not in text and "otel_scope" not in text  # renamed, Ray's exporter labels dropped


def test_keys_never_reach_the_logs(api: Api) -> None:
    for name in KEYS:
        api.get("/v1/transactions?limit=1", name)
    api.get("/v1/transactions?limit=1", None)
    import ray

    logs = Path(ray._private.worker._global_node.get_session_dir_path()) / "logs"  # noqa: SLF001
    secrets = [key for key, _ in KEYS.values()]
    leaked = [(p.name, s) for p in logs.rglob("*") if p.is_file() for s in secrets
              if s.encode() in p.read_bytes()]
    assert not leaked


def test_cors_lets_in_the_configured_origin_only(api: Api) -> None:
    def preflight(origin: str) -> requests.Response:
        return requests.options(api.base + "/v1/score", timeout=60, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key,content-type"})

    allowed = preflight(CORS_ORIGIN)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert "x-api-key" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = preflight("http://elsewhere.example")
    assert refused.status_code == 400 and "Access-Control-Allow-Origin" not in refused.headers
    answered = requests.get(api.base + "/v1/model", headers={**api.headers(), "Origin": CORS_ORIGIN}, timeout=60)
    assert answered.status_code == 200 and answered.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
