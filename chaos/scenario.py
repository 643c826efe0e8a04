"""Chaos scenarios as YAML, shaped like Chaos Toolkit experiments (chaos/scenarios/*.yaml).

    title: Database down while serving
    kind: api                       # the stack it needs: api (Serve app + load), pipeline, db-load
    steady_state:                   # the hypothesis, checked before the method and (waited for) after it
      - {probe: ready, route: writes}
    load: {rate_per_s: 40, concurrency: 8, duration_s: 16, mix: {score: 0.5, query: 0.25, write: 0.25}}
    method:                         # faults and probes on a timeline from the start of the load (or run)
      - {at_s: 4, fault: db-cut}
      - {at_s: 6, probe: not-ready, route: queries, down: database}
      - {at_s: 9, fault: db-restore}
    rollbacks:                      # always run afterwards, even when the method failed
      - {fault: db-restore}
    expect:                         # the verdict: each line a check that passes or fails
      lost: 0
      duplicated: 0
      recover_within_s: 10
      ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from chaos.load import KINDS, LoadSpec
from synfinance.errors import Problem, ValidationError

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
Kind = Literal["api", "pipeline", "db-load"]
# what a step can do, and the stacks it applies to
FAULTS: dict[str, tuple[str, ...]] = {
    "db-cut": ("api", "pipeline", "db-load"), "db-refuse": ("api", "pipeline", "db-load"),
    "db-slow": ("api", "pipeline", "db-load"), "db-throttle": ("api", "pipeline", "db-load"),
    "db-restore": ("api", "pipeline", "db-load"),
    "kill-ingress": ("api",), "kill-feature-shard": ("api",),
    # armed before a pipeline run starts (at_s does not apply): the seams of chaos.faults
    "kill-worker": ("pipeline",), "memory-pressure": ("pipeline",), "disk-full": ("pipeline",),
}
ARMED = frozenset({"kill-worker", "memory-pressure", "disk-full"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Probe(Strict):
    probe: Literal["ready", "not-ready", "live"] = Field(description="What /health/... must say.")
    route: Literal["scoring", "queries", "writes"] = "scoring"
    down: str | None = Field(None, description="not-ready: the component readiness must name as down.")


class Step(Strict):
    at_s: float = Field(0.0, ge=0, le=3_600, description="Seconds after the load or run started.")
    fault: str | None = Field(None, description=f"One of: {', '.join(FAULTS)}.")
    probe: Literal["ready", "not-ready", "live"] | None = None
    route: Literal["scoring", "queries", "writes"] = "scoring"
    down: str | None = None
    args: dict[str, Any] = Field(default_factory=dict, description="The fault's arguments.")

    @model_validator(mode="after")
    def _one_thing(self) -> Step:
        if (self.fault is None) == (self.probe is None):
            raise ValueError("a step has exactly one of fault or probe")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {', '.join(FAULTS)}")
        return self


class PipelineSpec(Strict):
    rows: int = Field(60_000, ge=1_000, le=10_000_000)
    workers: int = Field(2, ge=1, le=64)
    sink: Literal["dataset", "postgres"] = "dataset"
    features: bool = True
    shard_size: int = Field(100, ge=1, le=1_000_000, description="Customers per shard (small: many shards).")


class Expect(Strict):
    lost: int | None = Field(None, ge=0, description="Acknowledged writes (or rows) missing at the end.")
    duplicated: int | None = Field(None, ge=0, description="Writes (or rows) stored more than once.")
    recover_within_s: float | None = Field(None, gt=0, description="Last failed answer at most this long after "
                                                                   "the last fault step.")
    max_error_rate: float | None = Field(None, ge=0, le=1, description="Share of non-2xx answers of error_kinds.")
    error_kinds: tuple[str, ...] = KINDS
    fast_unavailable_s: float | None = Field(None, gt=0, description="9 in 10 answers of 503 within this many "
                                                                     "seconds, every one with Retry-After.")
    max_seconds: dict[str, float] = Field(default_factory=dict, description="Longest answer per request kind.")
    same_hash: bool = Field(False, description="pipeline: the dataset's content equals a fault-free run's.")
    fails_cleanly: bool = Field(False, description="pipeline: the run stops with one clear error, the shards "
                                                   "written before it are intact, a re-run completes.")
    restarts: int | None = Field(None, ge=0, description="pipeline: at least this many shards redone.")
    state_rebuilt: bool = Field(False, description="api: after a feature shard was killed, its customers' features "
                                                   "equal a fault-free state (warm-up + the acknowledged writes).")


class Scenario(Strict):
    title: str
    description: str = ""
    kind: Kind
    steady_state: tuple[Probe, ...] = ()
    load: LoadSpec | None = None
    pipeline: PipelineSpec | None = None
    method: tuple[Step, ...] = Field(min_length=1)
    rollbacks: tuple[Step, ...] = ()
    expect: Expect

    @model_validator(mode="after")
    def _fits_its_stack(self) -> Scenario:
        for step in (*self.method, *self.rollbacks):
            if step.fault is not None and self.kind not in FAULTS[step.fault]:
                raise ValueError(f"fault {step.fault!r} does not apply to a {self.kind} scenario")
        if self.kind == "api" and self.load is None:
            raise ValueError("an api scenario needs a load")
        if self.kind == "pipeline" and self.pipeline is None:
            raise ValueError("a pipeline scenario needs a pipeline")
        return self


def names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario by name (chaos/scenarios/<name>.yaml) or path; ValidationError naming each bad key."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIOS / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ValidationError([Problem("scenario", str(name_or_path), f"a scenario file, or one of: "
                                       f"{', '.join(names())}")])
    try:
        return Scenario.model_validate(yaml.safe_load(path.read_text()))
    except PydanticError as exc:
        raise ValidationError([Problem(f"{path.name}: " + ".".join(str(p) for p in e["loc"]), e.get("input"),
                                       e["msg"]) for e in exc.errors(include_url=False)]) from None
