"""Fraud and anomaly patterns: rewrite rows of a shard and label them with their evidence.

`inject` runs every enabled pattern over a shard's frame. Network patterns (rings, mule
networks, coordinated attacks, synthetic identities) go first: their cases were fixed with
the population. Every other pattern fills a row budget of rate x rows x its share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from synfinance.generate.frame import Frame
from synfinance.patterns.context import PatternContext
from synfinance.patterns.registry import NAMES, pattern_class, type_shares

if TYPE_CHECKING:
    from synfinance.generate.plan import GenerationPlan


def inject(plan: GenerationPlan, shard: int, frame: Frame, rng: np.random.Generator) -> dict[str, int]:
    """Inject fraud, then anomalies, into frame; returns rows labelled per pattern."""
    ctx = PatternContext(plan, shard, frame, rng)
    n = len(frame)
    p = plan.params
    for kind, rate, enabled in (("fraud", p.fraud_rate, p.fraud_types), ("anomaly", p.anomaly_rate, None)):
        shares = type_shares(kind, enabled)
        order = sorted(shares, key=lambda name: (not pattern_class(kind, name).from_network, name))
        labels = frame.fraud if kind == "fraud" else frame.anomaly
        for name in order:
            code = NAMES[kind].index(name)
            target = rate * n * shares[name]
            budget = int(target) + int(rng.random() < target - int(target))
            budget -= int((labels.type == code).sum())  # rows another pattern already labelled as this type
            pattern_class(kind, name)().apply(frame, ctx, budget, code)
    return ctx.counts
