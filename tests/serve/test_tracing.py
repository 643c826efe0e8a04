"""One request, one trace: /v1/score through two ingress replicas and the feature-store shard that scores it (or the
one ingress replica holding the store), a query route down to its database span, and a pipeline run with a span per
shard, each process exporting its own spans (the file exporter: JSON lines per process), joined here by trace id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from api_app import KEYS, Api, app_settings
from api_rows import YEAR, rows, transactions
from localhost import free_port, wait_for

from synfinance.generation import GenerationParams
from synfinance.generation.replay import replayed
from synfinance.observability.logs import LOG_FIELDS
from synfinance.settings.models import MonitoringConfig, TracingConfig
from synfinance.sinks import DatasetSink

pytestmark = [pytest.mark.postgres, pytest.mark.ray]
CALLER_TRACE, CALLER_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def spans(directory: Path, trace_id: str) -> list[dict[str, Any]]:
    return [record for path in directory.glob("spans-*.jsonl") for line in path.read_text().splitlines()
            if (record := json.loads(line))["trace_id"] == trace_id]


def connected(found: list[dict[str, Any]], root_parent: str | None) -> bool:
    """Every span's parent is a span of the same trace, but the root's, which is root_parent."""
    ids = {s["span_id"] for s in found}
    roots = [s for s in found if s["parent_id"] not in ids]
    return len(roots) == 1 and roots[0]["parent_id"] == root_parent


@pytest.fixture(scope="module", params=["shards", "ingress"])
def traced(api: Api, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[tuple[str, Path]]:
    """(base URL, spans directory) of an app whose store is in shard actors (two ingress replicas) or in the ingress."""
    from ray import serve

    from serve.builder import build_app

    where = tmp_path_factory.mktemp("spans")
    settings = api.settings.settings
    loaded = app_settings(free_port(), api.models, {
        "server.feature_store": request.param, "server.replicas": 2 if request.param == "shards" else 1,
        "server.warm_from": str(api.data), "database.enabled": True,
        "database.url": settings.database.url, "database.schema_name": settings.database.schema_name,
        "monitoring.tracing.exporter": "file", "monitoring.tracing.file_dir": str(where),
        "monitoring.log_level": "DEBUG", "monitoring.log_format": "json"})
    serve.run(build_app(loaded.settings, loaded.version), name="traced", route_prefix=f"/traced-{request.param}")
    base = api.base + f"/traced-{request.param}"
    wait_for(lambda: requests.get(base + "/health/ready", timeout=10).status_code == 200, what="the traced app")
    yield base, where
    serve.delete("traced")


def test_one_score_is_one_trace_across_the_ingress_and_the_shard_that_scores(api: Api, traced: tuple[str, Path]
                                                                             ) -> None:
    base, where = traced
    body = rows(replayed(transactions(api.data).slice(10, 1), "tr-", shift=YEAR,
                         keys=("transaction_id", "customer_id", "merchant_id", "device_id")))[0]
    r = requests.post(base + "/v1/score", json=body, timeout=60, headers={
        "X-API-Key": KEYS["scorer"][0], "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})
    assert r.status_code == 200, r.text
    assert r.headers["x-trace-id"] == CALLER_TRACE  # the caller's trace is honoured and named back
    assert r.headers["traceparent"].startswith(f"00-{CALLER_TRACE}-")

    sharded = "/traced-shards" in base
    crossed = {"synfinance-ingress", "synfinance-feature-shard"} if sharded else {"synfinance-ingress"}

    def names() -> set[str]:
        return {s["name"] for s in spans(where, CALLER_TRACE)}
    wait_for(lambda: {"POST /v1/score", "feature_store.one", "model.predict"} <= names()
             and connected(spans(where, CALLER_TRACE), CALLER_SPAN), 30, "spans from every process the request crossed")
    found = spans(where, CALLER_TRACE)
    assert {s["service"] for s in found} == crossed
    by_name = {s["name"]: s for s in found}
    assert by_name["POST /v1/score"]["attributes"]["http.status_code"] == 200
    assert by_name["POST /v1/score"]["attributes"]["http.route"] == "/v1/score"
    assert by_name["feature_store.one"]["parent_id"] == by_name["POST /v1/score"]["span_id"]
    # the model predicts where the features are, under the store's span: in the shard (one hop) or in the ingress
    assert by_name["model.predict"]["parent_id"] == by_name["feature_store.one"]["span_id"]
    assert by_name["model.predict"]["pid"] == by_name["feature_store.one"]["pid"]
    assert (by_name["feature_store.one"]["pid"] != by_name["POST /v1/score"]["pid"]) is sharded


def test_a_query_route_has_a_database_span_in_its_trace(api: Api, traced: tuple[str, Path]) -> None:
    base, where = traced
    tid = transactions(api.data).column("transaction_id")[0].as_py()
    r = requests.get(f"{base}/v1/transactions/{tid}", headers={"X-API-Key": KEYS["reader"][0]}, timeout=60)
    assert r.status_code == 200
    trace_id = r.headers["x-trace-id"]
    wait_for(lambda: any(s["name"] == "db.transaction" for s in spans(where, trace_id))
             and connected(spans(where, trace_id), None), 30, "the database span, in one connected trace")
    found = spans(where, trace_id)
    db = next(s for s in found if s["name"] == "db.transaction")
    assert db["service"] == "synfinance-query" and db["attributes"]["db.system"] == "postgresql"


def test_a_pipeline_run_is_one_trace_with_a_span_per_shard(tmp_path: Path, ray_session: None) -> None:
    from actors.pipeline import run_pipeline

    where = tmp_path / "spans"
    params = GenerationParams(count=5_000, seed=3, customers=400, shard_size=100)
    run_pipeline(params, DatasetSink(tmp_path / "ds"), workers=2,
                 monitoring=MonitoringConfig(tracing=TracingConfig(exporter="file", file_dir=str(where))))
    runs = [s for p in where.glob("spans-*.jsonl") for line in p.read_text().splitlines()
            if (s := json.loads(line))["name"] == "pipeline.run"]
    assert len(runs) == 1
    wait_for(lambda: len([s for s in spans(where, runs[0]["trace_id"]) if s["name"] == "pipeline.write"]) == 4,
             30, "every write span")
    found = spans(where, runs[0]["trace_id"])
    assert connected(found, None)
    shards = sorted(s["attributes"]["shard"] for s in found if s["name"] == "pipeline.shard")
    assert shards == [0, 1, 2, 3]  # 400 customers in blocks of 100
    assert {s["service"] for s in found} >= {"synfinance-driver", "synfinance-shard-worker", "synfinance-sink"}


def test_every_log_line_of_a_request_in_every_process_is_json_with_its_request_and_trace_ids(
        api: Api, traced: tuple[str, Path]) -> None:
    import uuid

    import ray

    base, _ = traced
    rid = f"logs-{uuid.uuid4().hex[:12]}"
    body = rows(replayed(transactions(api.data).slice(20, 1), "lg-", shift=YEAR,
                         keys=("transaction_id", "customer_id", "merchant_id", "device_id")))[0]
    r = requests.post(base + "/v1/score", json=body, timeout=60,
                      headers={"X-API-Key": KEYS["scorer"][0], "X-Request-ID": rid})
    assert r.status_code == 200 and r.headers["x-request-id"] == rid
    trace_id = r.headers["x-trace-id"]
    logs = Path(ray._private.worker._global_node.get_session_dir_path()) / "logs"  # noqa: SLF001

    def lines() -> list[tuple[str, str]]:
        return [(p.name, line) for p in logs.rglob("*") if p.is_file() and p.suffix in (".err", ".out", ".log")
                for line in p.read_text(errors="replace").splitlines() if rid in line]

    # the ingress's access line and the feature store's line (from the shard's process, or the ingress's own)
    processes = 2 if "/traced-shards" in base else 1

    def logged() -> set[str]:
        return {json.loads(line).get("event", "") for _, line in lines() if line.startswith("{")}
    try:
        wait_for(lambda: len({name for name, _ in lines()}) >= processes
                 and {"http.request", "feature_store.one"} <= logged(), 30, "log lines of the request")
    except AssertionError:
        found = [(p.name, line[:300]) for p in logs.rglob("*") if p.is_file()
                 for line in p.read_text(errors="replace").splitlines()
                 if "feature_store" in line or "http.request" in line or rid in line]
        pytest.fail(f"{lines()}\n{found[:20]}")
    for name, line in lines():
        try:
            record = json.loads(line)  # every line is one JSON object
        except json.JSONDecodeError:
            pytest.fail(f"{name}: not JSON: {line[:400]}")
        assert record["request_id"] == rid and record["trace_id"] == trace_id, (name, record)
        assert set(record) <= set(LOG_FIELDS), set(record) - set(LOG_FIELDS)  # the index template maps them
        assert KEYS["scorer"][0] not in line
    events = {json.loads(line)["event"] for _, line in lines()}
    assert {"http.request", "feature_store.one"} <= events
    access = next(json.loads(line) for _, line in lines() if json.loads(line)["event"] == "http.request")
    assert access["key_name"] == "scorer" and access["route"] == "/v1/score" and access["status"] == 200
    # SynFinance's own lines (at DEBUG, libraries' records come through too, with the request's context)
    ours = [record for record in (json.loads(line) for _, line in lines())
            if str(record.get("logger", "synfinance")).startswith("synfinance")]
    assert {record.get("transaction_id") for record in ours} == {body["transaction_id"]}, ours
