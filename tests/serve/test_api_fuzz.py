"""Property-based fuzz of the OpenAPI schema (schemathesis + hypothesis): no generated request may reach a 5xx.

(schemathesis.pytest.from_fixture does not work with pytest 9, so each operation's strategy is driven
by hypothesis inside one test.)
"""

from __future__ import annotations

import pytest
import schemathesis
from api_app import Api
from hypothesis import HealthCheck, given, settings

pytestmark = [pytest.mark.postgres, pytest.mark.ray]
EXAMPLES = 30  # per operation: bounded so the suite stays fast; raise it locally for a deeper search
# admin routes that empty or refill the session app's caches, which every later test relies on: their refusals
# are tested one by one (test_api_access.py: the cache routes' bad bodies)
DESTRUCTIVE = {"/v1/cache/clear", "/v1/cache/warm"}


def test_no_generated_request_reaches_a_server_error(api: Api) -> None:
    schema = schemathesis.openapi.from_url(api.base + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # every route is in the schema
    for operation in operations:
        if operation.path in DESTRUCTIVE:
            continue
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=api.headers("admin"), timeout=60)
            assert response.status_code < 500, (f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                                f"{response.text[:500]}")

        no_server_error()


def older(detail: dict[str, str]) -> bool:
    """A refusal for time order: the transaction is older than its customer's last scored one."""
    return detail["field"].endswith("timestamp") and "earlier" in detail["expected"]


@pytest.mark.parametrize("path", ["/v1/score", "/v1/score/batch"])
def test_every_body_the_schema_allows_is_scored(api: Api, path: str) -> None:
    """The schema says what the server enforces: a body valid by the OpenAPI schema (the raw event's location rule
    and the amounts' form included) is scored (200). The one refusal a schema cannot state is the state's: a
    transaction older than its customer's last scored one (hypothesis reuses small ids such as customer "0")."""
    schema = schemathesis.openapi.from_url(api.base + "/openapi.json")
    (operation,) = [r.ok() for r in schema.get_all_operations() if r.ok().method.upper() == "POST"
                    and r.ok().path == path]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def scored(case: schemathesis.Case) -> None:
        if path.endswith("/batch"):  # JSON only; a body of Arrow bytes is not generated from the schema
            case.media_type = "application/json"
        response = case.call(headers=api.headers("admin"), timeout=60)
        if response.status_code == 422 and all(older(d) for d in response.json()["details"]):
            return
        assert response.status_code == 200, f"{case.body!r:.600} -> {response.status_code}: {response.text[:500]}"

    scored()
