"""Idempotency keys of stored writes (migration 0007): the first answer to a key, kept with what it stored.

    claim = Idempotency("writer", "order-42", sha256_of_request, 201, body)
    stored = await IdempotencyRepository(conn).claim(claim)   # inside the write's own transaction
    # None: claimed now (commit the write). Else the earlier answer: roll back and replay it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from synfinance.errors import Problem, ValidationError

CLAIM = """
INSERT INTO idempotency_keys (key_name, idempotency_key, request_sha256, status, response)
VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (key_name, idempotency_key) DO NOTHING RETURNING 1
"""
EARLIER = """
SELECT request_sha256, status, response::text AS response FROM idempotency_keys
WHERE key_name = $1 AND idempotency_key = $2
"""


@dataclass(frozen=True)
class Idempotency:
    """A write's idempotency key (per API key name), the digest of its request, and the answer to keep."""

    key_name: str
    key: str
    request_sha256: str
    status: int
    response: str  # the JSON body

    def replay(self, earlier: dict[str, Any]) -> Replayed:
        """The earlier answer to this key, or ValidationError if the key was used for a different request."""
        if earlier["request_sha256"] != self.request_sha256:
            raise ValidationError([Problem("header.Idempotency-Key", self.key, "a key not used before for a different "
                                           "request (this one came with another body or query)")])
        return Replayed(int(earlier["status"]), str(earlier["response"]))


@dataclass(frozen=True)
class Replayed:
    """The answer a key was first given: what a retry of that request gets."""

    status: int
    response: str

    def body(self) -> Any:
        return json.loads(self.response)


class IdempotencyRepository:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def claim(self, claim: Idempotency) -> Replayed | None:
        """Record this key's answer (None), or the answer given to it before (Replayed)."""
        if await self.conn.fetchval(CLAIM, claim.key_name, claim.key, claim.request_sha256, claim.status,
                                    claim.response):
            return None
        return claim.replay(dict(await self.conn.fetchrow(EARLIER, claim.key_name, claim.key)))

    async def earlier(self, claim: Idempotency) -> Replayed | None:
        """The answer this key was given, if it was used already (checked before any work is done)."""
        row = await self.conn.fetchrow(EARLIER, claim.key_name, claim.key)
        return None if row is None else claim.replay(dict(row))
