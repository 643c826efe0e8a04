"""Where generated shards go, behind one protocol: a dataset directory, JSON Lines, PostgreSQL, HTTP, a SynFinance
API (with label feedback).

    sink = DatasetSink(out, "parquet")
    entries = sink.open(plan)              # before any shard: layout and population (idempotent)
    entries += sink.write(shard_output)    # one whole shard; the same shard written again replaces it
    sink.close(entries)                    # after the last shard: the manifest (where kept); resources released

The in-process runner, the Ray pipeline's sink actor and `synfinance stream` all write through it.
open and close run where the run is driven; write runs wherever the shards are (a sink whose `travels`
is True may be handed to a Ray actor).
"""

from typing import TYPE_CHECKING, Any

from synfinance.sinks.api import ApiSink
from synfinance.sinks.base import ShardOutput, Sink
from synfinance.sinks.dataset import DatasetSink
from synfinance.sinks.http import HttpSink
from synfinance.sinks.jsonl import JsonlSink

if TYPE_CHECKING:
    from synfinance.sinks.postgres import PostgresSink

__all__ = ["ApiSink", "DatasetSink", "HttpSink", "JsonlSink", "PostgresSink", "ShardOutput", "Sink"]


def __getattr__(name: str) -> Any:
    # PostgreSQL's client (asyncpg, pgpq) loads only where a PostgreSQL sink is used: a shard worker
    # or a Parquet run never pays for it.
    if name == "PostgresSink":
        from synfinance.sinks.postgres import PostgresSink

        return PostgresSink
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
