"""Fault seams the pipeline consults: a worker that dies mid-shard (once), a sink that is slow.

They are plain picklable objects handed to actors at start-up (None in production). A one-shot
fault is claimed by deleting a marker file, so exactly one attempt in the whole cluster trips it,
however many actors or restarts there are (the workers share a filesystem on one machine).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WorkerFaults:
    """Kill the worker process (os._exit) the first time it starts one of `kill_on_shards`."""

    marker_dir: Path
    kill_on_shards: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def arm(cls, marker_dir: Path, shards: set[int]) -> WorkerFaults:
        marker_dir.mkdir(parents=True, exist_ok=True)
        for shard in shards:
            (marker_dir / f"kill-{shard}").touch()
        return cls(marker_dir, frozenset(shards))

    def before_shard(self, shard: int) -> None:
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
