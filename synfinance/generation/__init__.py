"""Transaction generation: a plan fixed by the parameters, then shards generated independently.

`generate_table` is the in-memory API, exported as ``synfinance.generate(count=..., seed=...)``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa

from synfinance.generation.transactions import generate_shard
from synfinance.world.campaign import load_campaign
from synfinance.world.plan import GenerationParams, GenerationPlan

__all__ = ["GenerationParams", "GenerationPlan", "generate_shard", "generate_table"]


def generate_table(
    count: int,
    seed: int = 42,
    customers: int | None = None,
    merchants: int | None = None,
    start: dt.date | str = dt.date(2025, 10, 1),
    days: int = 92,
    shard_size: int = 1000,
    **patterns: Any,
) -> pa.Table:
    """Exactly count transactions in memory: the rows a dataset with the same parameters would hold.

    Pattern settings (fraud_rate, anomaly_rate, difficulty, fraud_types, patterns, campaign) pass through; a
    campaign may be given as a file path or a shipped scenario's name.

    >>> import synfinance
    >>> synfinance.generate(count=1000, seed=7).num_rows
    1000
    """
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    if isinstance(patterns.get("campaign"), str | Path):
        patterns["campaign"] = load_campaign(Path(patterns["campaign"]))
    params = GenerationParams(
        count=count, seed=seed, customers=customers, merchants=merchants, start=start, days=days,
        shard_size=shard_size, **patterns,
    )
    plan = GenerationPlan(params)
    return pa.concat_tables(generate_shard(plan, s) for s in range(plan.n_shards))

