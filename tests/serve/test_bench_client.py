"""The bench's load generator keeps its own garbage collector out of what it measures."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from serve.bench import quiet_heap


class _Node:
    """A reference cycle: only the cyclic collector can reclaim it."""

    def __init__(self) -> None:
        self.me: Any = self


def _cycle() -> tuple[_Node, weakref.ref[_Node]]:
    node = _Node()
    return node, weakref.ref(node)


def test_a_phase_runs_with_the_heap_it_started_with_frozen_and_unfreezes_it_after() -> None:
    # Asserted by what a collection reclaims, not by gc.get_freeze_count(): Ray's threads free frozen objects at
    # any time, which lowers that count under the test.
    old, old_ref = _cycle()
    with quiet_heap():
        del old
        new, new_ref = _cycle()
        del new
        gc.collect()
        assert new_ref() is None  # what the phase makes is collected as usual
        assert old_ref() is not None  # what was alive when it started is frozen: a full collection skips it
    gc.collect()
    assert old_ref() is None  # and is collectable again after the phase
