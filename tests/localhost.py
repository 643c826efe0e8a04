"""Local test plumbing: a free port on 127.0.0.1, and waiting on a condition with a deadline (no bare sleep)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

POLL_S = 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def held_ports(count: int, also: tuple[int, ...] = ()) -> Iterator[list[int]]:
    """`count` free ports (returned) and the ports in `also` listened on, on every interface, for the block, as
    another process's server would hold them; a port of `also` that something holds already is left to it."""
    with contextlib.ExitStack() as stack:
        ports = []
        for port in [0] * count + list(also):
            s = stack.enter_context(socket.socket())
            try:
                s.bind(("", port))
            except OSError:
                continue  # held already
            s.listen()
            if not port:
                ports.append(int(s.getsockname()[1]))
        yield ports


def wait_for(condition: Callable[[], bool], timeout_s: float = 60, what: str = "condition") -> None:
    """Return as soon as condition() is true; AssertionError naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(POLL_S)


def _processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every process this user can see."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            parent = int(stat[stat.rindex(")") + 2:].split()[1])  # after "pid (name) state"
            found[int(entry.name)] = (parent, (entry / "cmdline").read_bytes())
    return found


def _below(processes: dict[int, tuple[int, bytes]], roots: set[int]) -> set[int]:
    """The descendants of roots (never this process)."""
    found: set[int] = set()
    grew = True
    while grew:
        children = {pid for pid, (parent, _) in processes.items() if parent in roots | found} - found - roots
        children.discard(os.getpid())
        grew = bool(children)
        found |= children
    return found


def descendants(pid: int) -> set[int]:
    """Every process below pid: its children, theirs, and so on."""
    return _below(_processes(), {pid})


def kill_processes_naming(path: Path) -> int:
    """SIGKILL every process whose command line names `path`, and their descendants (a Ray started with its own
    temp dir, whose agents rename themselves `ray::...`: `ray stop` would stop every Ray on the machine, the
    developer's and the test session's too); returns how many."""
    processes = _processes()
    named = {pid for pid, (_, cmdline) in processes.items() if str(path).encode() in cmdline} - {os.getpid()}
    doomed = named | _below(processes, named)
    for pid in doomed:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return len(doomed)
