"""The validator contract: one small class per check; `check` does the bookkeeping, `_check` the work.

A subclass sets its name and summary and implements `_check(data, found)`, which looks at a Dataset with
vectorised numpy / pyarrow and reports through `found`: violations (severity, message, the field and the rows
concerned, a recommendation) and metrics (numbers the report, the gates and the trend read). Defining the
class is enough to register it; `synfinance.quality.validators` imports every module of its folder.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, cast

import numpy as np

from synfinance.quality.data import Dataset

SEVERITIES = ("critical", "error", "warning", "info")  # most severe first
EXAMPLES = 5  # transaction ids quoted per violation
REGISTRY: dict[str, type[Validator]] = {}


@dataclass(frozen=True)
class Violation:
    validator: str
    severity: str  # one of SEVERITIES
    message: str  # what is wrong, with the numbers
    field: str | None  # the column concerned, if one
    rows: int  # rows concerned (0 when the violation is about the whole dataset)
    examples: tuple[str, ...]  # some of those rows' transaction ids
    recommendation: str  # what to do about it

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "examples": list(self.examples)}


@dataclass
class Finding:
    """What one validator found: its violations, its metrics, and how long it took."""

    validator: str
    summary: str
    violations: list[Violation] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: str | None = None  # why it did not run (no features, no baseline), else None

    def to_json(self) -> dict[str, Any]:
        return {"validator": self.validator, "summary": self.summary, "seconds": round(self.seconds, 4),
                "skipped": self.skipped, "metrics": self.metrics,
                "violations": [v.to_json() for v in self.violations]}


class Found:
    """The recorder a validator writes to."""

    def __init__(self, data: Dataset, finding: Finding) -> None:
        self._data, self._finding = data, finding

    def violation(self, severity: str, message: str, recommendation: str, field: str | None = None,
                  rows: np.ndarray | int | None = None) -> None:
        """rows: a boolean mask or row indices into the transactions (examples are quoted), or a count."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity is one of {SEVERITIES}, got {severity!r}")
        count, examples = 0, cast(tuple[str, ...], ())
        if isinstance(rows, np.ndarray):
            index = np.flatnonzero(rows) if rows.dtype == bool else rows
            count, examples = len(index), self._data.transaction_ids(index[:EXAMPLES])
        elif rows is not None:
            count = int(rows)
        self._finding.violations.append(Violation(self._finding.validator, severity, message, field, count,
                                                  examples, recommendation))

    def metric(self, name: str, value: Any) -> None:
        self._finding.metrics[name] = value

    def skip(self, why: str) -> None:
        self._finding.skipped = why


class Validator(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]  # what it checks, one sentence
    needs: ClassVar[tuple[str, ...]] = ()  # "features", "baseline", "population": skipped without them

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in REGISTRY:
                raise TypeError(f"two validators named {cls.name!r}")
            REGISTRY[cls.name] = cls

    def check(self, data: Dataset) -> Finding:
        finding = Finding(self.name, self.summary)
        found = Found(data, finding)
        start = time.perf_counter()
        missing = [need for need in self.needs if not data.has(need)]
        if missing:
            found.skip(f"no {' and no '.join(missing)}")
        else:
            self._check(data, found)
        finding.seconds = time.perf_counter() - start
        return finding

    @abstractmethod
    def _check(self, data: Dataset, found: Found) -> None: ...
