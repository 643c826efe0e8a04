"""Memory readings of this process: peak RSS, and private (anonymous) memory now."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """This process's peak resident set size, MiB (ru_maxrss is KiB on Linux).

    In a Ray actor it also counts the shared object-store pages the process touched, which grow with the
    shards it handled even though the store itself is bounded; see private_mb.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def private_mb() -> float:
    """This process's anonymous (private heap) resident memory now, MiB: what a leak would grow."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_bytes() -> int:
    """This process's resident set size now, bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0
