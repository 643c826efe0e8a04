"""Ring buffers seen from a batch: each key's stored ring followed by its rows in the batch.

For rows sorted by key (then time), `RingLayout` lays out, per key, the K ring entries and then
the key's batch rows; row i's previous K entries are positions pos[i]-K .. pos[i]-1, which never
leave the key's block. The last K positions of each block are the key's new ring.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _single(k: int) -> tuple[np.ndarray, ...]:
    """The layout of a batch of one row (online scoring), computed once per ring size."""
    ring_pos = np.arange(k)[None, :]
    return np.zeros(1, np.int64), np.ones(1, np.int64), np.zeros(1, np.int64), np.array([k]), ring_pos, ring_pos + 1


class RingLayout:
    """Where each row's ring entries and batch rows sit in one array laid out key block by key block."""

    def __init__(self, keys: np.ndarray, ring_size: int) -> None:
        """keys: one slot per row, rows sorted by key (ties in time order)."""
        self.k = ring_size
        n = len(keys)
        if n == 1:  # online scoring: a fixed layout, no arithmetic
            self.start, self.count, self.block_start, self.pos, self._ring_pos, self._tail_pos = _single(ring_size)
            self.unique, self.size = keys, ring_size + 1
            return
        first = np.ones(n, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        self.start = np.flatnonzero(first)
        self.unique = keys[self.start]
        self.count = np.diff(np.append(self.start, n))
        block = self.k + self.count
        self.block_start = np.cumsum(block) - block
        group = np.cumsum(first) - 1
        rank = np.arange(n) - self.start[group]
        self.pos = self.block_start[group] + self.k + rank
        self.size = int(block.sum())
        self._ring_pos = self.block_start[:, None] + np.arange(self.k)
        self._tail_pos = (self.block_start + self.count)[:, None] + np.arange(self.k)

    def lay_out(self, ring: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The combined sequence of one attribute: ring rows of the batch's keys, then the batch values."""
        out = np.empty(self.size, dtype=ring.dtype)
        out[self._ring_pos] = ring[self.unique]
        out[self.pos] = values
        return out

    def previous(self, laid_out: np.ndarray) -> np.ndarray:
        """(rows, K): each row's previous K entries of its key, oldest first.

        A sliding-window view makes each row's entries one contiguous block to copy; it has a fixed
        cost per call, so a single row (online scoring) indexes directly.
        """
        if len(self.pos) == 1:
            return laid_out[self._ring_pos]  # one row: its window is its key's ring
        return np.lib.stride_tricks.sliding_window_view(laid_out, self.k)[self.pos - self.k]

    def store(self, ring: np.ndarray, laid_out: np.ndarray) -> None:
        """Write each key's last K entries back as its ring."""
        ring[self.unique] = laid_out[self._tail_pos]
