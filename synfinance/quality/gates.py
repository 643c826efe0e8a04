"""Gates: thresholds on a report's metrics, from the settings and from a YAML file of custom gates.

A gate passes when min <= value <= max; a metric the run has no value for (no model trained, no `bench api`
run yet) leaves its gate "no data", which neither passes nor fails the run. A failed blocking gate fails it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from synfinance.errors import ConfigError, Problem
from synfinance.settings.quality import Gate

STATUSES = ("pass", "fail", "no data")


@dataclass(frozen=True)
class GateResult:
    name: str
    metric: str
    value: float | None
    min: float | None
    max: float | None
    blocking: bool
    status: str  # one of STATUSES
    description: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_gates(path: Path) -> tuple[Gate, ...]:
    """Custom gates from YAML: a list of {name, metric, min, max, blocking, description}; ConfigError naming the
    file and the entry's field when one is wrong."""
    path = Path(path)
    try:
        body = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError([Problem(f"quality.gates_path ({path})", exc.strerror, "a readable YAML file")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(f"quality.gates_path ({path})", str(exc).splitlines()[0], "valid YAML")]) from exc
    if isinstance(body, dict) and "gates" in body:
        body = body["gates"]
    try:
        return tuple(TypeAdapter(list[Gate]).validate_python(body))
    except PydanticError as exc:
        raise ConfigError([Problem(f"{path}: gates[{'.'.join(str(p) for p in e['loc'])}]", e.get("input"), e["msg"])
                           for e in exc.errors()]) from exc


def apply_gates(gates: tuple[Gate, ...], metrics: dict[str, Any]) -> list[GateResult]:
    results = []
    for gate in gates:
        value = metrics.get(gate.metric)
        if not isinstance(value, int | float) or isinstance(value, bool):
            status, number = "no data", None
        else:
            number = float(value)
            ok = (gate.min is None or number >= gate.min) and (gate.max is None or number <= gate.max)
            status = "pass" if ok else "fail"
        results.append(GateResult(gate.name, gate.metric, number, gate.min, gate.max, gate.blocking, status,
                                  gate.description))
    return results


def blocked(results: list[GateResult]) -> list[GateResult]:
    """The failed blocking gates."""
    return [r for r in results if r.blocking and r.status == "fail"]
