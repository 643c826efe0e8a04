"""Connecting to Ray: an existing session, a cluster address, or a local Ray started here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import ray


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Make sure Ray is initialised; returns True if this call started it (the caller shuts it down).

    address None starts a local Ray (unless one is running in this process already, or RAY_ADDRESS
    names a cluster, as inside `ray job submit`); "auto" or "ray://host:port" joins a cluster.
    """
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return True


@contextmanager
def session(address: str | None = None, num_cpus: int | None = None) -> Iterator[None]:
    """Ray for the duration of a block (see connect); shuts down only a Ray this block started."""
    started = connect(address, num_cpus)
    try:
        yield
    finally:
        if started:
            ray.shutdown()
