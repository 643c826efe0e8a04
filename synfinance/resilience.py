"""Calls to a dependency through a circuit breaker, a per-try timeout and a bounded retry with jittered back-off.

    guard = Guard.from_config("database", settings.database, failures=synfinance.store.connect.FAILURES)
    rows = await guard.call(repo.get, transaction_id)   # StoreUnavailable / CircuitOpen when it cannot

A failed try (StoreUnavailable, a connection error, a timeout) counts against the breaker; after
fail_max consecutive failures the breaker opens and every call fails at once with CircuitOpen
(carrying how long until a trial call is allowed) instead of waiting on a dead dependency. After
reset_s one trial call goes through: success closes the breaker, failure opens it again.
Errors that say nothing about the dependency's health (bad input, not found) pass straight through.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiobreaker

from synfinance.errors import CircuitOpen, StoreUnavailable
from synfinance.settings.models import DatabaseConfig

T = TypeVar("T")
# What any dependency's failure looks like; the dependency's client adds its own (store.connect.FAILURES).
# Anything else is the caller's problem, not the dependency's.
FAILURES: tuple[type[BaseException], ...] = (StoreUnavailable, OSError, TimeoutError)


@dataclass
class Guard:
    name: str
    attempts: int = 3
    backoff_base_s: float = 0.1
    backoff_max_s: float = 5.0
    jitter: float = 0.2
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
        self._random = random.Random()

    @classmethod
    def from_config(cls, name: str, config: DatabaseConfig,
                    failures: tuple[type[BaseException], ...] = ()) -> Guard:
        r, b = config.retry, config.breaker
        # One try may take a connection plus a statement; the guard's timeout covers both.
        return cls(name, r.attempts, r.backoff_base_s, r.backoff_max_s, r.jitter,
                   config.connect_timeout_s + config.statement_timeout_s, b.fail_max, b.reset_s, failures)

    @property
    def state(self) -> str:
        """closed, open or half-open."""
        return str(self.breaker.current_state.name).lower().replace("_", "-")

    def retry_after_s(self) -> float:
        remaining = self.breaker.time_until_open if self.breaker.opens_at is not None else None
        return max(remaining.total_seconds(), 0.1) if remaining is not None else 0.1

    def backoff_s(self, attempt: int) -> float:
        """Back-off before retry number `attempt` (1-based): doubling from the base, capped, with jitter."""
        base = min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_max_s)
        return max(0.0, base * (1 + self.jitter * (2 * self._random.random() - 1)))

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """fn(*args) with a timeout per try, retried on dependency failures, through the breaker."""
        for attempt in range(1, self.attempts + 1):
            try:
                return await self.breaker.call_async(self._timed, fn, *args)
            except aiobreaker.CircuitBreakerError as exc:
                raise CircuitOpen(f"{self.name} is unavailable (circuit open after repeated failures); "
                                  f"retry in {self.retry_after_s():.1f} s", self.retry_after_s()) from exc
            except self.failures as exc:
                if attempt == self.attempts:
                    if isinstance(exc, StoreUnavailable):
                        raise
                    raise StoreUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
                await asyncio.sleep(self.backoff_s(attempt))
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _timed(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            return await asyncio.wait_for(fn(*args), self.timeout_s)
        except TimeoutError as exc:
            raise StoreUnavailable(f"{self.name}: no answer within {self.timeout_s:.1f} s") from exc
