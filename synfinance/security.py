"""API keys and per-key rate limits, from SecurityConfig.

Keys are held only as SHA-256 digests and compared in constant time against every configured key
(so the time taken says nothing about which key nearly matched). The `admin` scope implies every
other. Each key gets its own token bucket (aiolimiter): `burst` requests at once, refilled at
`requests_per_s`; a request beyond it is refused with the time until a token is free. The bucket is
shared by every ingress replica (RateLimiter leases tokens from one Buckets in a shared actor).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from synfinance.errors import Forbidden, RateLimited, Unauthenticated
from synfinance.settings.models import RateLimit, SecurityConfig

HEADER = "X-API-Key"


@dataclass(frozen=True)
class Caller:
    """Who made a request: the key's name (never the key) and its scopes."""

    name: str
    scopes: frozenset[str]


class KeyRing:
    def __init__(self, config: SecurityConfig) -> None:
        self._keys = [(bytes.fromhex(k.key_sha256 or ""), Caller(k.name, frozenset(k.scopes)))
                      for k in config.api_keys]

    def __len__(self) -> int:
        return len(self._keys)

    def authenticate(self, key: str | None) -> Caller:
        """The caller a key belongs to; Unauthenticated if there is none or it matches no configured key."""
        if not key:
            raise Unauthenticated(f"missing {HEADER} header")
        digest = hashlib.sha256(key.encode()).digest()
        found = None
        for stored, caller in self._keys:  # every key compared, whatever matches, in constant time each
            if hmac.compare_digest(stored, digest):
                found = caller
        if found is None:
            raise Unauthenticated(f"unknown {HEADER}")
        return found

    @staticmethod
    def authorize(caller: Caller, scope: str) -> None:
        if scope not in caller.scopes and "admin" not in caller.scopes:
            have = ", ".join(sorted(caller.scopes))
            raise Forbidden(f"key {caller.name!r} lacks scope {scope!r} (it has: {have})")


Lease = Callable[[str, int, RateLimit], Awaitable[tuple[int, float]]]  # (key name, tokens wanted, limit)
LEASE_WINDOW_S = 0.05  # a replica leases about this long's worth of a key's rate at a time


class Buckets:
    """The token buckets of every key (aiolimiter): `burst` tokens, refilled at `requests_per_s`.

    In one process this is the whole limit; behind several ingress replicas one Buckets lives in a shared
    actor (serve.deployments.LimitBank) and replicas lease tokens from it a few at a time.
    """

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[RateLimit, AsyncLimiter]] = {}

    async def lease(self, name: str, want: int, limit: RateLimit) -> tuple[int, float]:
        """Take up to `want` tokens of key `name` now: (tokens granted, seconds until one is free if none)."""
        held = self._buckets.get(name)
        if held is None or held[0] != limit:
            # aiolimiter: at most max_rate acquisitions per time_period, i.e. a bucket of `burst` tokens
            # refilled at burst / time_period = requests_per_s. A changed limit starts a fresh bucket.
            held = self._buckets[name] = (limit, AsyncLimiter(limit.burst, limit.burst / limit.requests_per_s))
        bucket = held[1]
        for take in (want, 1) if want > 1 else (want,):
            if bucket.has_capacity(take):
                await bucket.acquire(take)  # has capacity: returns at once, without yielding to another request
                return take, 0.0
        return 0, 1.0 / limit.requests_per_s


class RateLimiter:
    """Per key name: limits from SecurityConfig.rate_limit, overridden per key name in rate_limits.

    The fast path is a count of tokens this process holds; when it runs out, the limiter leases a few more
    (about LEASE_WINDOW_S of the key's rate, at least one, at most its burst) from `lease`: a shared
    LimitBank's (so N replicas together allow the configured rate, not N times it), or by default this
    process's own Buckets. At most one lease per key is in flight; tokens held when the limits change are
    dropped.
    """

    def __init__(self, config: SecurityConfig, lease: Lease | None = None) -> None:
        self._lease: Lease = lease or Buckets().lease
        self._held: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.reconfigure(config)

    def reconfigure(self, config: SecurityConfig) -> None:
        self._default = config.rate_limit
        self._overrides = dict(config.rate_limits)
        self._held = {}

    def limit(self, name: str) -> RateLimit:
        return self._overrides.get(name, self._default)

    async def check(self, name: str) -> None:
        """Take a token for this key now, or raise RateLimited saying when one will be free."""
        if self._held.get(name, 0) > 0:
            self._held[name] -= 1
            return
        async with self._locks.setdefault(name, asyncio.Lock()):
            if self._held.get(name, 0) > 0:  # another request's lease arrived meanwhile
                self._held[name] -= 1
                return
            limit = self.limit(name)
            want = max(1, min(limit.burst, math.ceil(limit.requests_per_s * LEASE_WINDOW_S)))
            granted, retry_after_s = await self._lease(name, want, limit)
            if granted == 0:
                raise RateLimited(f"key {name!r} is over its limit of {limit.requests_per_s:g} requests/s "
                                  f"(burst {limit.burst}); retry in {retry_after_s:.2f} s", retry_after_s)
            self._held[name] = self._held.get(name, 0) + granted - 1
