"""Fraud and anomaly patterns: rewrite rows of a shard and label them with their evidence.

`inject` runs every enabled pattern over a shard's frame. Network patterns (rings, mule
networks, coordinated attacks, synthetic identities) go first: their cases were fixed with
the population. Every other pattern fills a row budget of rate x rows x its share.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from synfinance.patterns.context import PatternContext
from synfinance.patterns.registry import pattern_class
from synfinance.world.catalogue import NAMES, type_shares
from synfinance.world.frame import Frame

if TYPE_CHECKING:
    from synfinance.world.plan import GenerationPlan


def _run_order(kind: str, name: str) -> tuple[bool, bool, str]:
    """Network patterns first (their cases are fixed), then by name, those that must see the rest last."""
    cls = pattern_class(kind, name)
    return (not cls.from_network, cls.runs_last, name)


def inject(plan: GenerationPlan, shard: int, frame: Frame, rng: np.random.Generator) -> dict[str, int]:
    """Inject fraud, then anomalies, into frame; returns rows labelled per pattern."""
    ctx = PatternContext(plan, shard, frame, rng)
    n = len(frame)
    p = plan.params
    kinds = (("fraud", p.fraud_rate, p.fraud_types, p.fraud_weights), ("anomaly", p.anomaly_rate, None,
                                                                           p.anomaly_weights))
    for kind, rate, enabled, weights in kinds:
        shares = type_shares(kind, enabled, weights)
        order = sorted(shares, key=functools.partial(_run_order, kind))
        labels = frame.fraud if kind == "fraud" else frame.anomaly
        for name in order:
            code = NAMES[kind].index(name)
            target = rate * n * shares[name]
            budget = int(target) + int(rng.random() < target - int(target))
            budget -= int((labels.type == code).sum())  # rows another pattern already labelled as this type
            pattern_class(kind, name)().apply(frame, ctx, budget, code)
    return ctx.counts
