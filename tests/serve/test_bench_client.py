"""The bench's load generator keeps its own garbage collector out of what it measures."""

from __future__ import annotations

import gc

from serve.bench import quiet_heap


def test_a_phase_runs_with_the_heap_it_started_with_frozen_and_unfreezes_it_after() -> None:
    alive = [[i] for i in range(1000)]  # tracked objects alive when the phase starts
    with quiet_heap():
        frozen = gc.get_freeze_count()
        assert frozen >= len(alive)  # a full collection now skips them
        made = [[i] for i in range(100)]
        assert gc.get_freeze_count() == frozen  # what the phase makes is collected as usual
    assert gc.get_freeze_count() == 0
    assert len(made) == 100
