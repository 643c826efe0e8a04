"""The one retry policy, and calls to a dependency through a circuit breaker, a per-try timeout and that policy.

    policy = RetryPolicy.from_config(settings.database.retry)
    rows = await policy.run(fetch, retry_on=FAILURES)            # async; policy.run_sync for blocking work
    guard = Guard.from_config("database", settings.database, failures=synfinance.store.connect.FAILURES)
    rows = await guard.call(repo.get, transaction_id)   # StoreUnavailable / CircuitOpen when it cannot

RetryPolicy is exponential back-off with full jitter (each wait drawn uniformly from 0 up to
min(max, base * 2^(retry-1)): retries from many clients spread out instead of arriving together), capped by
a number of attempts and by a deadline over all of them (async calls end at the deadline). It retries only
work that is safe to repeat: a caller passes idempotent=False for anything else (a write without an
idempotency key), which then gets one try. The API's database calls (through Guard), the PostgreSQL loads
of `db load` and the pipeline's PostgreSQL sink all use it.

A failed try (StoreUnavailable, a connection error, a timeout) counts against the breaker; after
fail_max consecutive failures the breaker opens and every call fails at once with CircuitOpen
(carrying how long until a trial call is allowed) instead of waiting on a dead dependency. After
reset_s one trial call goes through: success closes the breaker, failure opens it again.
Errors that say nothing about the dependency's health (bad input, not found) pass straight through.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiobreaker

from synfinance.errors import CircuitOpen, StoreUnavailable
from synfinance.settings.models import DatabaseConfig, RetryConfig

T = TypeVar("T")
OnRetry = Callable[[int, BaseException, float], None]  # (failed try, its error, the wait before the next)
# What any dependency's failure looks like; the dependency's client adds its own (store.connect.FAILURES).
# Anything else is the caller's problem, not the dependency's.
FAILURES: tuple[type[BaseException], ...] = (StoreUnavailable, OSError, TimeoutError)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter, at most `attempts` tries and, when set, `deadline_s` in all."""

    attempts: int = 3
    base_s: float = 0.1
    max_s: float = 5.0
    deadline_s: float | None = None
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def from_config(cls, config: RetryConfig) -> RetryPolicy:
        return cls(config.attempts, config.backoff_base_s, config.backoff_max_s, config.deadline_s)

    def backoff_s(self, retry: int) -> float:
        """The wait before retry number `retry` (1-based): uniform in [0, min(max_s, base_s * 2^(retry-1))]."""
        return self.rng.uniform(0.0, min(self.max_s, self.base_s * 2 ** (retry - 1)))

    def _after_failure(self, attempt: int, exc: BaseException, started: float, idempotent: bool,
                       on_retry: OnRetry | None) -> float | None:
        """After failed try `attempt`: the wait before the next (on_retry told of it), or None to give up."""
        if not idempotent or attempt >= self.attempts:
            return None
        wait = self.backoff_s(attempt)
        if self.deadline_s is not None and time.monotonic() - started + wait > self.deadline_s:
            return None
        if on_retry is not None:
            on_retry(attempt, exc, wait)
        return wait

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any, retry_on: tuple[type[BaseException], ...],
                  idempotent: bool = True, on_retry: OnRetry | None = None
                  ) -> T:
        """await fn(*args), tried again after a `retry_on` error while the policy allows; the last error raised.
        With deadline_s, the whole call (every try and wait) ends by then: TimeoutError."""
        tries = self._tries(fn, *args, retry_on=retry_on, idempotent=idempotent, on_retry=on_retry)
        if self.deadline_s is None:
            return await tries
        try:
            async with asyncio.timeout(self.deadline_s) as deadline:  # a timer, not a task per call
                return await tries
        except TimeoutError:
            if not deadline.expired():  # a try's own timeout, given up on: its error stands
                raise
            raise TimeoutError(f"no answer within the {self.deadline_s:g} s deadline (all tries)") from None

    async def _tries(self, fn: Callable[..., Awaitable[T]], *args: Any, retry_on: tuple[type[BaseException], ...],
                     idempotent: bool, on_retry: OnRetry | None) -> T:
        started = time.monotonic()
        for attempt in itertools.count(1):
            try:
                return await fn(*args)
            except retry_on as exc:
                if (wait := self._after_failure(attempt, exc, started, idempotent, on_retry)) is None:
                    raise
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def run_sync(self, fn: Callable[..., T], *args: Any, retry_on: tuple[type[BaseException], ...],
                 idempotent: bool = True, on_retry: OnRetry | None = None) -> T:
        """fn(*args) in this thread, retried like `run`; a try under way is not cut short at the deadline (a
        blocking call cannot be), but no try starts after it."""
        started = time.monotonic()
        for attempt in itertools.count(1):
            try:
                return fn(*args)
            except retry_on as exc:
                if (wait := self._after_failure(attempt, exc, started, idempotent, on_retry)) is None:
                    raise
                time.sleep(wait)
        raise AssertionError("unreachable")


@dataclass
class Guard:
    name: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 5.0
    fail_max: int = 5
    reset_s: float = 10.0
    client_failures: tuple[type[BaseException], ...] = field(default=())

    def __post_init__(self) -> None:
        failures = (*FAILURES, *self.client_failures)
        self.failures = failures
        self.breaker = aiobreaker.CircuitBreaker(
            fail_max=self.fail_max, timeout_duration=dt.timedelta(seconds=self.reset_s),
            exclude=[lambda exc: not isinstance(exc, failures)], name=self.name)
        self.trial_under_way = False  # a call is trying the dependency the breaker had given up on

    @classmethod
    def from_config(cls, name: str, config: DatabaseConfig,
                    failures: tuple[type[BaseException], ...] = ()) -> Guard:
        b = config.breaker
        # One try may take a connection plus a statement; the guard's timeout covers both.
        return cls(name, RetryPolicy.from_config(config.retry), config.connect_timeout_s + config.statement_timeout_s,
                   b.fail_max, b.reset_s, failures)

    def reconfigure(self, config: DatabaseConfig) -> None:
        """New retry, timeout and breaker settings from now on; the breaker keeps its state and count."""
        self.retry = RetryPolicy.from_config(config.retry)
        self.timeout_s = config.connect_timeout_s + config.statement_timeout_s
        self.fail_max, self.reset_s = config.breaker.fail_max, config.breaker.reset_s
        self.breaker.fail_max = self.fail_max
        self.breaker.timeout_duration = dt.timedelta(seconds=self.reset_s)

    @property
    def state(self) -> str:
        """closed, open or half-open."""
        return str(self.breaker.current_state.name).lower().replace("_", "-")

    def retry_after_s(self) -> float:
        remaining = self.breaker.time_until_open if self.breaker.opens_at is not None else None
        return max(remaining.total_seconds(), 0.1) if remaining is not None else 0.1

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any, idempotent: bool = True) -> T:
        """fn(*args) with a timeout per try, retried by the retry policy on dependency failures (only when
        idempotent), through the breaker."""
        try:
            return await self.retry.run(self._tried, fn, *args, retry_on=self.failures, idempotent=idempotent)
        except aiobreaker.CircuitBreakerError as exc:
            raise CircuitOpen(f"{self.name} is unavailable (circuit open after repeated failures); "
                              f"retry in {self.retry_after_s():.1f} s", self.retry_after_s()) from exc
        except self.failures as exc:
            if isinstance(exc, StoreUnavailable):
                raise
            raise StoreUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc

    async def _tried(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """One try through the breaker. Once reset_s has passed, aiobreaker lets every call through while the
        breaker is half-open; here only the first is the trial and the others are refused at once, as while open,
        until it has its answer (with concurrent callers each would otherwise wait out a dead dependency)."""
        if self.trial_under_way:
            raise aiobreaker.CircuitBreakerError("a trial call is under way", dt.datetime.now(dt.UTC))
        trial = self.breaker.current_state != aiobreaker.CircuitBreakerState.CLOSED  # this call may become it
        self.trial_under_way = trial
        try:
            return await self.breaker.call_async(self._timed, fn, *args)
        finally:
            if trial:
                self.trial_under_way = False

    async def _timed(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            return await asyncio.wait_for(fn(*args), self.timeout_s)
        except TimeoutError as exc:
            raise StoreUnavailable(f"{self.name}: no answer within {self.timeout_s:.1f} s") from exc
