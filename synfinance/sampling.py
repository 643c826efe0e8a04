"""Vectorised sampling and hashing primitives shared by population, generator and patterns."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Independent random streams per purpose; shards add their id to the spawn key.
STREAM_POPULATION = 1
STREAM_MERCHANTS = 2
STREAM_ALLOCATION = 3
STREAM_SHARD = 4
STREAM_PATTERNS = 6  # pattern injection per shard (5 is the device book)
STREAM_NETWORKS = 7  # fraud rings and mule networks, fixed with the population
STREAM_HOUSEHOLDS = 8  # who lives with whom, fixed with the population
STREAM_LOOKALIKES = 9  # benign look-alikes per shard


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """A generator for one purpose of one seed; the same (seed, key) always gives the same stream."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def seed_tag(seed: int) -> str:
    """Six hex characters naming a seed inside ids."""
    return hashlib.sha256(str(seed).encode()).hexdigest()[:6]


def categorical(rng: np.random.Generator, weights: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Draw one category per row, row i from the distribution weights[keys[i]].

    weights is (rows, K), unnormalised. One searchsorted over stacked CDFs, each shifted by
    its row number, so the cost is O(n log(rows*K)) with no (n, K) temporary.
    """
    w = np.asarray(weights, dtype=float)
    rows, k = w.shape
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    flat = (cdf + np.arange(rows)[:, None]).ravel()
    u = rng.random(len(keys))
    idx = np.searchsorted(flat, keys + u, side="right") - keys * k
    return np.minimum(idx, k - 1)


def top_k(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices per row, drawn without replacement proportionally to weights (Gumbel top-k)."""
    with np.errstate(divide="ignore"):
        logits = np.log(weights) + rng.gumbel(size=weights.shape)
    return np.argsort(-logits, axis=1, kind="stable")[:, :k]


def mix64(*parts: np.ndarray | int) -> np.ndarray:
    """A stateless 64-bit hash of integer arrays (splitmix64 finaliser), for stable per-key choices."""
    h: np.ndarray = np.asarray(np.uint64(0x9E3779B97F4A7C15))
    with np.errstate(over="ignore"):
        for part in parts:
            x = np.asarray(part).astype(np.uint64) + h
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = x ^ (x >> np.uint64(31))
    return np.asarray(h)


def take(vocab: pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """vocab[idx] as an Arrow array; rows where valid is False become null."""
    mask = None if valid is None else ~valid
    return vocab.take(pa.array(idx.astype(np.int32), mask=mask))


def format_ids(prefix: str | pa.Array, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + zero-padded decimal numbers, built in Arrow (no Python loop); prefix may vary per row."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")
