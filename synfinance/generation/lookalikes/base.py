"""The look-alike contract: one small class per benign behaviour that resembles a fraud pattern.

A subclass names its rate (a field of synfinance.world.lookalikes.LookalikeRates), what it imitates, and its
place in the order; `apply` skips it at rate 0 and calls `_apply`, which rewrites some of a shard's ordinary
rows in place (never the number of rows), vectorised. Defining the class registers it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from synfinance.world.frame import Frame
from synfinance.world.plan import GenerationPlan

REGISTRY: dict[str, type[LookAlike]] = {}


@dataclass(frozen=True)
class Shard:
    """What a look-alike needs besides the frame: the plan and the shard's generator."""

    plan: GenerationPlan
    rng: np.random.Generator

    def chosen(self, where: np.ndarray, rate: float) -> np.ndarray:
        """Rows among `where` (a mask) picked with probability `rate`."""
        return np.flatnonzero(where & (self.rng.random(len(where)) < rate))


class LookAlike(ABC):
    name: ClassVar[str]  # its rate's name in LookalikeRates
    imitates: ClassVar[str]  # the fraud or anomaly patterns it resembles
    summary: ClassVar[str]
    order: ClassVar[int]  # lower first: a later one may read what an earlier one wrote

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            REGISTRY[cls.name] = cls

    def apply(self, frame: Frame, shard: Shard) -> None:
        rate = getattr(shard.plan.lookalike_rates, self.name)
        if rate > 0 and len(frame):
            self._apply(frame, shard, rate)

    @abstractmethod
    def _apply(self, frame: Frame, shard: Shard, rate: float) -> None: ...
