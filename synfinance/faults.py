"""Fault seams: the points where a run lets an injected fault in. None in production.

The library owns these protocols; chaos/ implements them (a worker that dies mid-shard, a slow sink),
and so can a user testing their own deployment. Nothing here imports chaos.
"""

from __future__ import annotations

from typing import Protocol


class ShardFault(Protocol):
    def before_shard(self, shard: int) -> None:
        """Called by a worker as it starts a shard: may kill the process or delay it."""
        ...


class WriteFault(Protocol):
    def before_write(self, shard: int) -> None:
        """Called by a sink before it writes a shard: may delay it or fail the write."""
        ...
