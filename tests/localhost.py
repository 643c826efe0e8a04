"""Local test plumbing: a free port on 127.0.0.1, and waiting on a condition with a deadline (no bare sleep)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

POLL_S = 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout_s: float = 60, what: str = "condition") -> None:
    """Return as soon as condition() is true; AssertionError naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(POLL_S)
