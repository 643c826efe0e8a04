"""Gates from the settings and from YAML: pass, fail, no data; errors that name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from synfinance.errors import ConfigError
from synfinance.quality.base import Finding, Violation
from synfinance.quality.gates import apply_gates, blocked, read_gates
from synfinance.quality.score import quality_score
from synfinance.settings.quality import Gate


def _gate(**kw: object) -> Gate:
    return Gate.model_validate({"name": "g", "metric": "m", **kw})


@pytest.mark.parametrize(("gate", "value", "status"), [
    pytest.param({"max": 0.01}, 0.009, "pass", id="under-max"),
    pytest.param({"max": 0.01}, 0.011, "fail", id="over-max"),
    pytest.param({"min": 0.005, "max": 0.03}, 0.005, "pass", id="on-min"),
    pytest.param({"min": 0.005, "max": 0.03}, 0.031, "fail", id="over-range"),
    pytest.param({"min": 80}, None, "no data", id="absent"),
    pytest.param({"min": 80}, "text", "no data", id="not-a-number"),
])
def test_a_gate_passes_inside_its_bounds(gate: dict[str, float], value: object, status: str) -> None:
    metrics = {} if value is None else {"m": value}
    (result,) = apply_gates((_gate(**gate),), metrics)
    assert result.status == status


def test_only_failed_blocking_gates_block() -> None:
    results = apply_gates((_gate(name="hard", max=1), _gate(name="soft", max=1, blocking=False),
                           _gate(name="fine", max=10)), {"m": 5})
    assert [r.name for r in blocked(results)] == ["hard"]


def test_a_gate_needs_a_bound_and_an_order() -> None:
    with pytest.raises(ValueError, match="give min, max or both"):
        _gate()
    with pytest.raises(ValueError, match="min 2.0 is above max 1.0"):
        _gate(min=2, max=1)


def test_custom_gates_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text("gates:\n  - {name: night, metric: night_share, max: 0.05, blocking: false}\n")
    (gate,) = read_gates(path)
    assert (gate.name, gate.metric, gate.max, gate.blocking) == ("night", "night_share", 0.05, False)


@pytest.mark.parametrize(("text", "named"), [
    pytest.param("- {name: x, metric: m, max: high}\n", "gates[0.max]", id="bad-number"),
    pytest.param("- {name: x, max: 1}\n", "gates[0.metric]", id="missing-metric"),
    pytest.param("- {name: x, metric: m, max: 1, colour: red}\n", "gates[0.colour]", id="unknown-key"),
    pytest.param("- [unclosed\n", "quality.gates_path", id="not-yaml"),
])
def test_a_wrong_gates_path_names_the_entry(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_gates(path)
    assert any(named in line for line in caught.value.lines()), caught.value.lines()


def _finding(name: str, *severities: str) -> Finding:
    return Finding(name, "", [Violation(name, s, "m", None, 0, (), "r") for s in severities])


@pytest.mark.parametrize(("findings", "score"), [
    pytest.param([], 100.0, id="clean"),
    pytest.param([_finding("a", "warning")], 98.0, id="one-warning"),
    pytest.param([_finding("a", "error", "error")], 80.0, id="two-errors"),
    pytest.param([_finding("a", "critical", "error")], 60.0, id="capped-per-validator"),
    pytest.param([_finding("a", "critical"), _finding("b", "critical"), _finding("c", "critical")], 0.0,
                 id="three-broken-validators"),
    pytest.param([_finding("a", "info")], 100.0, id="info-is-free"),
])
def test_score_formula(findings: list[Finding], score: float) -> None:
    assert quality_score(findings) == score
