"""Fault seams the pipeline and the API consult: a worker that dies mid-shard (once), memory pressure in a worker,
a sink that is slow, a sink whose disk fills up, a database call that fails or is slow.

They are plain picklable objects handed to actors at start-up (None in production). A one-shot
fault is claimed by deleting a marker file, so exactly one attempt in the whole cluster trips it,
however many actors or restarts there are (the workers share a filesystem on one machine).
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synfinance.errors import StoreUnavailable
from synfinance.output.dataset import FileEntry
from synfinance.sinks.base import ShardOutput, Sink
from synfinance.world.plan import GenerationPlan

_BALLAST: list[bytes] = []  # memory a pressed worker holds on to (for the rest of its life)


@dataclass(frozen=True)
class WorkerFaults:
    """Kill the worker process (os._exit) the first time it starts one of `kill_on_shards`; make a worker that
    starts one of `press_on_shards` take and keep `press_mb` more resident memory."""

    marker_dir: Path
    kill_on_shards: frozenset[int] = field(default_factory=frozenset)
    press_on_shards: frozenset[int] = field(default_factory=frozenset)
    press_mb: int = 0

    @classmethod
    def arm(cls, marker_dir: Path, shards: set[int]) -> WorkerFaults:
        marker_dir.mkdir(parents=True, exist_ok=True)
        for shard in shards:
            (marker_dir / f"kill-{shard}").touch()
        return cls(marker_dir, frozenset(shards))

    def before_shard(self, shard: int) -> None:
        if shard in self.press_on_shards and self.press_mb:
            _BALLAST.append(b"\x01" * (self.press_mb << 20))  # written, so resident, not just reserved
        if shard not in self.kill_on_shards:
            return
        try:
            (self.marker_dir / f"kill-{shard}").unlink()  # claim the one-shot fault
        except FileNotFoundError:
            return
        os._exit(17)  # a hard death: no exception, no cleanup, like an OOM kill

    def tripped(self) -> set[int]:
        return {s for s in self.kill_on_shards if not (self.marker_dir / f"kill-{s}").exists()}


@dataclass(frozen=True)
class SinkFaults:
    """Make every sink write take at least `delay_s` longer (a slow disk or database)."""

    delay_s: float = 0.0

    def before_write(self, shard: int) -> None:
        if self.delay_s > 0:
            time.sleep(self.delay_s)


class FullDisk:
    """A sink whose disk fills: writes go to `inner` until the shards' data would pass `after_bytes`, then every
    write fails with ENOSPC (as a full disk does). Wraps any sink; travels with it to the sink actor."""

    def __init__(self, inner: Sink, after_bytes: int) -> None:
        self.inner, self.after_bytes, self.used = inner, after_bytes, 0
        self.kind, self.travels = inner.kind, inner.travels

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        return self.inner.open(plan)

    def write(self, output: ShardOutput) -> list[FileEntry]:
        size = sum(t.nbytes for t in (output.transactions, output.features, output.predictions) if t is not None)
        if self.used + size > self.after_bytes:
            raise OSError(errno.ENOSPC, f"No space left on device (shard {output.shard}: {self.used:,} bytes "
                                        f"written of {self.after_bytes:,})")
        self.used += size
        return self.inner.write(output)

    def close(self, entries: list[FileEntry]) -> Path | None:
        return self.inner.close(entries)


class FaultyQuery:
    """The API's way to the database (actors.handles.QueryHandle or HeldQuery) with faults: the Gateway methods named
    in `failing` raise StoreUnavailable without reaching the database; those in `slow` wait `delay_s` first."""

    def __init__(self, inner: Any, failing: frozenset[str] = frozenset(), slow: frozenset[str] = frozenset(),
                 delay_s: float = 0.0) -> None:
        self.inner, self.failing, self.slow, self.delay_s = inner, failing, slow, delay_s

    async def call(self, method: Any, *args: Any) -> Any:
        if method.__name__ in self.failing:
            raise StoreUnavailable(f"injected fault: {method.__name__} failed")
        if method.__name__ in self.slow:
            await asyncio.sleep(self.delay_s)
        return await self.inner.call(method, *args)
