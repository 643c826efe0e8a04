"""Fraud and anomaly patterns: rewrite rows of a shard and label them with their evidence.

`inject` runs every enabled pattern over a shard's frame. Network patterns (rings, mule
networks, coordinated attacks, synthetic identities) go first: their cases were fixed with
the population. Every other pattern fills a row budget of rate x rows x its share; a type a campaign names
fills it segment by segment over its days (synfinance/patterns/campaign.py).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from synfinance.patterns.base import Pattern
from synfinance.patterns.campaign import segments
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
        scheduled = () if kind == "anomaly" or p.campaign is None else p.campaign.fraud_types
        order = sorted(set(shares) | set(scheduled), key=functools.partial(_run_order, kind))
        labels = frame.fraud if kind == "fraud" else frame.anomaly
        for name in order:
            code = NAMES[kind].index(name)
            pattern = pattern_class(kind, name)()
            if name in scheduled:
                _by_segment(plan, frame, ctx, pattern, code, rate * shares.get(name, 0.0))
                continue
            target = rate * n * shares[name]
            budget = _rounded(rng, target) - int((labels.type == code).sum())  # rows another pattern labelled so
            pattern.apply(frame, ctx, budget, code)
    return ctx.counts


def _rounded(rng: np.random.Generator, target: float) -> int:
    """target rows as a whole number, rounded up at random by its fraction, so shards add up to it."""
    return int(target) + int(rng.random() < target - int(target))


def _by_segment(plan: GenerationPlan, frame: Frame, ctx: PatternContext, pattern: Pattern, code: int,
                stationary_rate: float) -> None:
    """A campaign's type: its stationary rest, then each of its entries, each with its own budget and days."""
    for segment in segments(plan, frame, pattern.name, stationary_rate, pattern.tail_days):
        budget = _rounded(ctx.rng, segment.budget)
        if segment.scheduled is None:
            budget -= int((frame.fraud.type == code).sum())
        with ctx.within(segment, pattern.keeps_time):
            pattern.apply(frame, ctx, budget, code)
