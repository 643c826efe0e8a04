"""JSON Lines on a byte stream (stdout, a file, a pipe): transactions only, each shard flushed as it comes."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from synfinance.output.dataset import FileEntry
from synfinance.output.jsonl import encode_jsonl
from synfinance.sinks.base import ShardOutput
from synfinance.world.plan import GenerationPlan


def with_predictions(output: ShardOutput) -> pa.Table:
    """The shard's transactions, each with its prediction's fields beside it when the run scored them."""
    table = output.transactions
    if output.predictions is not None:
        for name in ("fraud_probability", "decision", "reasons", "model_version"):
            table = table.append_column(output.predictions.schema.field(name), output.predictions.column(name))
    return table


class JsonlSink:
    """A stream cannot take a shard back: a shard written twice appears twice (the pipeline writes each once)."""

    kind = "jsonl"
    travels = False  # the stream belongs to the process that opened it

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        return []

    def write(self, output: ShardOutput) -> list[FileEntry]:
        self.out.write(encode_jsonl(with_predictions(output)))
        self.out.flush()  # a consumer reading a pipe sees rows as they are due
        return [FileEntry(f"<{self.kind} shard {output.shard}>", output.transactions.num_rows, "")]

    def close(self, entries: list[FileEntry]) -> Path | None:
        self.out.flush()
        return None
