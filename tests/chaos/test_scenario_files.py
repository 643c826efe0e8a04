"""Scenario files and the load generator's guards: bad input is refused naming the key, chaos load stays local."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.load import Load, LoadSpec, Requests
from chaos.scenario import load_scenario, names
from synfinance.errors import ParameterError, ValidationError


def test_every_shipped_scenario_loads() -> None:
    assert len(names()) >= 9
    for name in names():
        scenario = load_scenario(name)
        assert scenario.title and scenario.method and scenario.expect


@pytest.mark.parametrize(("text", "field", "says"), [
    ("title: t\nkind: api\nmethod: [{fault: db-cut}]\nexpect: {}\n", "scenario.yaml: ", "needs a load"),
    ("title: t\nkind: db-load\nmethod: [{fault: kill-ingress}]\nexpect: {}\n", "scenario.yaml: ", "does not apply"),
    ("title: t\nkind: db-load\nmethod: [{fault: unplug}]\nexpect: {}\n", "scenario.yaml: method.0", "unknown fault"),
    ("title: t\nkind: db-load\nmethod: [{at_s: -1, fault: db-cut}]\nexpect: {}\n", "scenario.yaml: method.0.at_s",
     "greater than or equal to 0"),
    ("title: t\nkind: db-load\nmethod: [{fault: db-cut}]\nexpect: {lost: 0, typo: 1}\n", "scenario.yaml: expect.typo",
     "Extra inputs"),
])
def test_a_bad_scenario_names_the_key(tmp_path: Path, text: str, field: str, says: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as caught:
        load_scenario(path)
    problem = caught.value.problems[0]
    assert problem.field.startswith(field) and says in problem.expected, caught.value.problems


def test_an_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="db-down-serving"):
        load_scenario("no-such-scenario")


def test_chaos_load_refuses_anything_but_this_machine() -> None:
    source = Requests([[{"customer_id": "c"}]], ["t"], "r")
    with pytest.raises(ParameterError, match="127.0.0.1 or localhost"):
        Load("http://example.org:8000", {}, LoadSpec(), source)


def test_a_load_mix_of_unknown_kinds_is_refused() -> None:
    with pytest.raises(Exception, match="shares of score, query, write"):
        LoadSpec(mix={"delete": 1.0})
