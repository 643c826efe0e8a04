"""`synfinance health check` against the running app: the table, the JSON, and the exit code per route group
when PostgreSQL is cut off (the chaos proxy): not ready for queries, still ready to score, always live."""

from __future__ import annotations

import json

import pytest
from api_app import Api
from click.testing import CliRunner
from localhost import wait_for

from synfinance.cli import main

pytestmark = [pytest.mark.postgres, pytest.mark.ray]


def check(api: Api, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["health", "check", "--url", api.base, *args], env={"COLUMNS": "80"})
    return result.exit_code, result.output


def test_a_healthy_app_is_ready_and_its_components_are_listed(api: Api) -> None:
    code, out = check(api)
    assert code == 0, out
    for line in ("model", "feature_store", "database", "ray", "disk", "live", "ready"):
        assert line in out
    assert "version v0001" in out and "breaker closed" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    code, out = check(api, "--json", "--route", "writes")
    report = json.loads(out)
    assert code == 0 and report["ready_for_route"] and report["live"] and report["config_version"]


def test_without_the_database_it_is_not_ready_for_queries_but_scores(api: Api) -> None:
    api.proxy.cut()
    try:
        code, out = check(api, "--route", "queries")
        assert code == 1 and "unavailable" in out and "not ready: queries, writes" in out, out
        code, out = check(api, "--json")
        assert code == 0 and json.loads(out)["database"]["status"] == "unavailable"
    finally:
        api.proxy.restore()
    wait_for(lambda: check(api, "--route", "queries")[0] == 0, 30, "the database to be back")


def test_no_answer_is_one_line_and_exit_1() -> None:
    result = CliRunner().invoke(main, ["health", "check", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "no health answer from http://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
