"""Households: customers of one city who live together (2-6 to a household, as Indian households are: the 2011
census counted 4.8 people on average) and share an address and, sometimes, a family phone or computer."""

from __future__ import annotations

import numpy as np

from synfinance.sampling import STREAM_HOUSEHOLDS, rng_for

MAX_SIZE = 6
MEAN_SIZE = 3.5  # of the households that have more than one customer of the population


def build_households(seed: int, city: np.ndarray, shard_bounds: list[tuple[int, int]], share: float) -> np.ndarray:
    """Each customer's household head (the household's first customer; itself when living alone). About `share`
    of customers live with another; a household never spans two cities or two shards."""
    n = len(city)
    head = np.arange(n)
    if n == 0 or share <= 0:
        return head
    rng = rng_for(seed, STREAM_HOUSEHOLDS)
    block = np.zeros(n, dtype=np.int64)
    for i, (lo, _) in enumerate(shard_bounds):
        block[lo:] = i
    joins = rng.random(n) < share
    breaks = rng.random(n) < 1 / MEAN_SIZE
    order = np.lexsort((np.arange(n), city, block))  # by shard, then city, then index
    members = order[joins[order]]
    if len(members) < 2:
        return head
    key = block[members] * (int(city.max()) + 1) + city[members]
    starts = np.r_[True, key[1:] != key[:-1]] | breaks[members]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    position = np.arange(len(members)) - first[group]
    starts |= position % MAX_SIZE == 0  # a household has at most MAX_SIZE customers
    group = np.cumsum(starts) - 1
    head[members] = members[np.flatnonzero(starts)][group]
    return head
