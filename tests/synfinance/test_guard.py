"""The breaker in front of a dependency: once it has given up on it, one trial call at a time tries it again."""

from __future__ import annotations

import asyncio

import pytest

from synfinance.errors import CircuitOpen, StoreUnavailable
from synfinance.resilience import Guard, RetryPolicy


async def down() -> str:
    raise StoreUnavailable("connection refused")


async def test_while_a_trial_call_is_under_way_other_calls_are_refused_at_once() -> None:
    # reset_s of a microsecond: the next call comes after it (0 would be aiobreaker's default of 60 s)
    guard = Guard("database", RetryPolicy(attempts=1), timeout_s=5.0, fail_max=1, reset_s=1e-6)
    with pytest.raises(StoreUnavailable):  # CircuitOpen is one: the failure that reaches fail_max opens it
        await guard.call(down)
    assert guard.state == "open"

    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_answer() -> str:  # the trial: the dependency takes its time to answer
        entered.set()
        await release.wait()
        return "up"

    trial = asyncio.create_task(guard.call(slow_answer))
    await entered.wait()
    assert guard.state == "half-open"
    tried: list[str] = []

    async def other() -> str:
        tried.append("other")
        return "other"

    with pytest.raises(CircuitOpen) as refused:
        await guard.call(other)
    assert tried == [] and refused.value.retry_after_s > 0  # refused without touching the dependency
    release.set()
    assert await trial == "up"
    assert guard.state == "closed"
    assert await guard.call(other) == "other" and tried == ["other"]


async def test_a_failed_trial_opens_the_breaker_again_and_the_next_call_is_the_next_trial() -> None:
    guard = Guard("database", RetryPolicy(attempts=1), timeout_s=5.0, fail_max=1, reset_s=1e-6)
    for _ in range(3):  # each call after the reset is a trial of its own, and fails
        with pytest.raises(StoreUnavailable):
            await guard.call(down)
        assert guard.state == "open"
    assert not guard.trial_under_way

    async def up() -> str:
        return "up"

    assert await guard.call(up) == "up" and guard.state == "closed"
