"""SynFinance: synthetic Indian retail-banking transactions with labelled fraud, at scale."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

__version__ = "0.1.0"


def generate(
    count: int,
    seed: int = 42,
    customers: int | None = None,
    merchants: int | None = None,
    start: dt.date | str = dt.date(2025, 10, 1),
    days: int = 92,
) -> pa.Table:
    """Generate exactly count transactions in memory, time-ordered within each shard.

    >>> table = generate(count=1000, seed=7)
    >>> table.num_rows
    1000
    """
    from synfinance.generate import GenerationParams, GenerationPlan, generate_shard

    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    plan = GenerationPlan(
        GenerationParams(count=count, seed=seed, customers=customers, merchants=merchants, start=start, days=days)
    )
    return pa.concat_tables(generate_shard(plan, s) for s in range(plan.n_shards))
