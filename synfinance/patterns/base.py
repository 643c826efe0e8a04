"""The pattern contract: one small class per pattern; `apply` does the bookkeeping, `_apply` the work.

A subclass sets its name, kind, summary, signals and default share, and implements `_apply`,
which rewrites some rows of a shard's frame and returns which rows it labelled, how severe
and how confident, with one evidence string per row. `apply` checks the result, writes the
labels and counts the rows. Defining the class is enough to register it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa

from synfinance.errors import PatternError
from synfinance.world.frame import SEVERITIES, Frame

if TYPE_CHECKING:
    from synfinance.patterns.context import PatternContext

KINDS = ("fraud", "anomaly")
REGISTRY: dict[str, dict[str, type[Pattern]]] = {kind: {} for kind in KINDS}


@dataclass(frozen=True)
class Cases:
    """The victims a pattern picked and the rows it took from each (grouped by victim)."""

    victims: np.ndarray
    rows: np.ndarray
    owner: np.ndarray  # index into victims, per row
    k: np.ndarray  # rows asked of each victim


@dataclass(frozen=True)
class Injection:
    rows: np.ndarray
    severity: np.ndarray  # codes into SEVERITIES
    confidence: np.ndarray
    evidence: pa.Array


class Pattern(ABC):
    kind: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # what happens, one sentence
    signals: ClassVar[str]  # what gives it away
    rows_per_case: ClassVar[float]  # mean rows one case rewrites
    min_history: ClassVar[int] = 0  # prior transactions a customer needs before this can fire
    from_network: ClassVar[bool] = False  # cases come from the population's networks, not the budget
    runs_last: ClassVar[bool] = False  # needs every other row of its kind settled first
    tail_days: ClassVar[float] = 1.0  # a case unfolds over up to this many days after its start (none start later)
    keeps_time: ClassVar[bool] = False  # rewrites rows where they are in time (a campaign takes rows in its days)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.kind not in KINDS:
                raise TypeError(f"{cls.__name__}.kind must be one of {KINDS}")
            if cls.name in REGISTRY[cls.kind]:
                raise TypeError(f"two {cls.kind} patterns are named {cls.name!r}")
            REGISTRY[cls.kind][cls.name] = cls

    def apply(self, frame: Frame, ctx: PatternContext, budget_rows: int, code: int) -> int:
        """Inject up to about budget_rows rows of this pattern; returns the rows labelled."""
        if budget_rows <= 0 and not self.from_network:
            return 0
        injection = self._apply(frame, ctx, budget_rows)
        if injection is None or len(injection.rows) == 0:
            return 0
        injection = ctx.shape(frame, injection)
        self._check(frame, injection)
        labels = frame.fraud if self.kind == "fraud" else frame.anomaly
        labels.mark(injection.rows, code, injection.severity, injection.confidence, injection.evidence)
        ctx.reserve(injection.rows)
        ctx.counts[self.name] = ctx.counts.get(self.name, 0) + len(injection.rows)
        return len(injection.rows)

    def cases(self, ctx: PatternContext, budget_rows: int) -> int:
        """How many cases fill the budget, rounded at random so shards add up to the target."""
        expected = budget_rows / self.rows_per_case
        whole = int(expected)
        return whole + int(ctx.rng.random() < expected - whole)

    @abstractmethod
    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None: ...

    def _check(self, frame: Frame, inj: Injection) -> None:
        rows, n = inj.rows, len(frame)
        problems = []
        if len(np.unique(rows)) != len(rows):
            problems.append("a row is labelled twice")
        if len(rows) and (rows.min() < 0 or rows.max() >= n):
            raise PatternError(f"pattern {self.name!r}: a row index is outside the frame")
        labels = frame.fraud if self.kind == "fraud" else frame.anomaly
        if labels.flagged[rows].any():
            problems.append("a row already carries a label of this kind")
        if not (len(inj.severity) == len(inj.confidence) == len(inj.evidence) == len(rows)):
            problems.append("severity, confidence and evidence must have one value per row")
        if len(rows) and not ((inj.severity >= 0) & (inj.severity < len(SEVERITIES))).all():
            problems.append("severity code out of range")
        if len(rows) and not ((inj.confidence >= 0) & (inj.confidence <= 1)).all():
            problems.append("confidence outside 0..1")
        if problems:
            raise PatternError(f"pattern {self.name!r}: " + "; ".join(problems))


class VictimPattern(Pattern):
    """A pattern whose cases are customers picked to fill the row budget, `per_victim` rows taken from each.

    The subclass says how many free rows a victim needs (`need`, past min_history), how many rows it takes
    of each (`per_victim`: a count, or (low, high) drawn per victim from low to high - 1), which customers
    qualify (`eligible`, default all), and rewrites the rows it was given in `_rewrite`.
    """

    need: ClassVar[int]
    per_victim: ClassVar[int | tuple[int, int]]

    def eligible(self, ctx: PatternContext) -> np.ndarray | None:
        """Customers this pattern may pick (a mask over the population), or None for all."""
        return None

    def _apply(self, frame: Frame, ctx: PatternContext, budget_rows: int) -> Injection | None:
        eligible = self.eligible(ctx)
        victims = ctx.victims(frame, self.cases(ctx, budget_rows), need=self.need, min_history=self.min_history,
                              eligible=eligible)
        k = self.per_victim
        per = np.full(len(victims), k) if isinstance(k, int) else ctx.rng.integers(k[0], k[1], len(victims))
        rows, owner = ctx.take_rows(frame, victims, per, min_history=self.min_history)
        return self._rewrite(frame, ctx, Cases(victims, rows, owner, per)) if len(rows) else None

    @abstractmethod
    def _rewrite(self, frame: Frame, ctx: PatternContext, cases: Cases) -> Injection: ...
