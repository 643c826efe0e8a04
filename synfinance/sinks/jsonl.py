"""JSON Lines on a byte stream (stdout, a file, a pipe): transactions only, each shard flushed as it comes."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from synfinance.output.dataset import FileEntry
from synfinance.output.jsonl import encode_jsonl
from synfinance.sinks.base import ShardOutput
from synfinance.world.plan import GenerationPlan


class JsonlSink:
    """A stream cannot take a shard back: a shard written twice appears twice (the pipeline writes each once)."""

    kind = "jsonl"
    travels = False  # the stream belongs to the process that opened it

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        return []

    def write(self, output: ShardOutput) -> list[FileEntry]:
        self.out.write(encode_jsonl(output.transactions))
        self.out.flush()  # a consumer reading a pipe sees rows as they are due
        return [FileEntry(f"<{self.kind} shard {output.shard}>", output.transactions.num_rows, "")]

    def close(self, entries: list[FileEntry]) -> Path | None:
        self.out.flush()
        return None
