"""API keys and per-key rate limits, from SecurityConfig.

Keys are held only as SHA-256 digests and compared in constant time against every configured key
(so the time taken says nothing about which key nearly matched). The `admin` scope implies every
other. Each key gets its own token bucket (aiolimiter): `burst` requests at once, refilled at
`requests_per_s`; a request beyond it is refused with the time until a token is free.
"""

from __future__ import annotations

import hashlib
import hmac
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


class RateLimiter:
    """One token bucket per key name; limits from SecurityConfig.rate_limit, overridden per key name."""

    def __init__(self, config: SecurityConfig) -> None:
        self._default = config.rate_limit
        self._overrides = dict(config.rate_limits)
        self._buckets: dict[str, AsyncLimiter] = {}

    def limit(self, name: str) -> RateLimit:
        return self._overrides.get(name, self._default)

    async def check(self, name: str) -> None:
        """Take a token for this key now, or raise RateLimited saying when one will be free."""
        limit = self.limit(name)
        bucket = self._buckets.get(name)
        if bucket is None:
            # aiolimiter: at most max_rate acquisitions per time_period, i.e. a bucket of `burst` tokens
            # refilled at burst / time_period = requests_per_s.
            bucket = self._buckets[name] = AsyncLimiter(limit.burst, limit.burst / limit.requests_per_s)
        if not bucket.has_capacity():
            retry_after_s = 1.0 / limit.requests_per_s
            raise RateLimited(f"key {name!r} is over its limit of {limit.requests_per_s:g} requests/s "
                              f"(burst {limit.burst}); retry in {retry_after_s:.2f} s", retry_after_s)
        await bucket.acquire()  # has capacity: returns at once, without yielding to another request
