"""The one retry policy: exponential back-off with full jitter, attempt and deadline caps, idempotent work only."""

from __future__ import annotations

import asyncio
import random

import pytest

from synfinance.resilience import RetryPolicy
from synfinance.settings.models import RetryConfig


class Flaky:
    """Fails with ConnectionError `failures` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"try {self.calls}")
        return "done"

    async def coro(self) -> str:
        return self()


def test_waits_are_drawn_below_a_doubling_capped_ceiling() -> None:
    policy = RetryPolicy(attempts=10, base_s=0.1, max_s=0.5, rng=random.Random(3))
    for retry, ceiling in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (9, 0.5)):
        waits = [policy.backoff_s(retry) for _ in range(2000)]
        assert min(waits) >= 0 and max(waits) <= ceiling
        # full jitter: spread over the whole range, not bunched near the ceiling
        assert min(waits) < 0.05 * ceiling and max(waits) > 0.95 * ceiling
        assert sum(waits) / len(waits) == pytest.approx(ceiling / 2, rel=0.1)


def test_retries_until_success_within_the_attempts() -> None:
    waits: list[float] = []
    flaky = Flaky(2)
    policy = RetryPolicy(attempts=3, base_s=0.001, max_s=0.001)
    assert policy.run_sync(flaky, retry_on=(ConnectionError,), on_retry=lambda n, e, w: waits.append(w)) == "done"
    assert flaky.calls == 3 and len(waits) == 2


def test_gives_up_after_the_attempts_with_the_last_error() -> None:
    flaky = Flaky(5)
    with pytest.raises(ConnectionError, match="try 3"):
        asyncio.run(RetryPolicy(attempts=3, base_s=0.001).run(flaky.coro, retry_on=(ConnectionError,)))
    assert flaky.calls == 3


def test_gives_up_when_the_next_wait_would_pass_the_deadline() -> None:
    # seeded: the first wait drawn (uniform below 10 s) is known, and longer than the 1 s deadline
    rng = random.Random(0)
    policy = RetryPolicy(attempts=10, base_s=10.0, max_s=10.0, deadline_s=1.0, rng=rng)
    flaky = Flaky(5)
    expected_wait = random.Random(0).uniform(0, 10.0)
    with pytest.raises(ConnectionError):
        policy.run_sync(flaky, retry_on=(ConnectionError,))
    assert expected_wait > 1.0  # the first draw would overrun the deadline, so there is no second try
    assert flaky.calls == 1


def test_work_that_is_not_idempotent_gets_one_try() -> None:
    flaky = Flaky(1)
    with pytest.raises(ConnectionError):
        RetryPolicy(attempts=5, base_s=0.001).run_sync(flaky, retry_on=(ConnectionError,), idempotent=False)
    assert flaky.calls == 1


def test_errors_it_is_not_told_to_retry_pass_at_once() -> None:
    calls = []

    def bad() -> None:
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        RetryPolicy(attempts=5, base_s=0.001).run_sync(bad, retry_on=(ConnectionError,))
    assert calls == [1]


def test_the_settings_make_the_policy() -> None:
    policy = RetryPolicy.from_config(RetryConfig(attempts=4, backoff_base_s=0.2, backoff_max_s=3, deadline_s=9))
    assert (policy.attempts, policy.base_s, policy.max_s, policy.deadline_s) == (4, 0.2, 3, 9)


def test_an_async_call_ends_at_the_deadline_whatever_its_tries_take() -> None:
    async def hangs() -> None:
        await asyncio.sleep(60)

    policy = RetryPolicy(attempts=5, base_s=0.01, deadline_s=0.2)
    with pytest.raises(TimeoutError, match="0.2 s deadline"):
        asyncio.run(policy.run(hangs, retry_on=(ConnectionError,)))
