"""The sink protocol and the unit it writes: one shard's transactions (and features)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from synfinance.output.dataset import FileEntry
from synfinance.world.plan import GenerationPlan


@dataclass(frozen=True)
class ShardOutput:
    """One shard's rows (and features): the unit every sink writes atomically and idempotently."""

    shard: int
    transactions: pa.Table
    features: pa.Table | None = None
    predictions: pa.Table | None = None  # PREDICTION_SCHEMA, when the run has a score stage


class Sink(Protocol):
    kind: str  # what it writes to, for metrics and messages: dataset, jsonl, postgres, http
    travels: bool  # may be pickled into another process (a Ray sink actor) to write there

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        """Before any shard: prepare the destination and write the population where it keeps one."""
        ...

    def write(self, output: ShardOutput) -> list[FileEntry]:
        """One whole shard; writing the same shard again replaces it (nothing twice)."""
        ...

    def close(self, entries: list[FileEntry]) -> Path | None:
        """After the last shard, with every entry of the run: the manifest where it keeps one; releases resources."""
        ...
