"""Benign look-alikes: legitimate behaviour that resembles fraud, drawn into a shard's ordinary rows before
the patterns run (one module each; importing this package registers them all)."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np

from synfinance.generation.lookalikes.base import REGISTRY, Shard
from synfinance.sampling import STREAM_LOOKALIKES, rng_for
from synfinance.world.frame import Frame
from synfinance.world.plan import GenerationPlan

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")


def apply_lookalikes(plan: GenerationPlan, shard: int, frame: Frame) -> None:
    """Every look-alike in its order, each with its rate at the plan's difficulty; its own random stream, so
    adding one never changes what the ordinary draws or the patterns do with theirs."""
    rng: np.random.Generator = rng_for(plan.params.seed, STREAM_LOOKALIKES, shard)
    for cls in sorted(REGISTRY.values(), key=lambda c: c.order):
        cls().apply(frame, Shard(plan, rng))
