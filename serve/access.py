"""Who may call a route: the API key's scope and its rate limit, checked before a body is read; and the fast path
of POST /v1/score, which makes the same checks without FastAPI's routing.

The app's keys and limits are one typed object on its state (`Access`, set by the ingress and replaced on a
live configuration change).
(No `from __future__ import annotations` here: FastAPI must see the dependency's real types.)
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Request, Security
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from pydantic import ValidationError as PydanticError
from starlette.types import ASGIApp, Receive, Scope, Send

from serve import errors
from serve.bodies import replayed
from serve.schemas import TransactionIn
from synfinance.errors import Forbidden, RateLimited, SynFinanceError, Unauthenticated
from synfinance.observability import logs, metrics
from synfinance.security import HEADER, Caller, KeyRing, RateLimiter

log = logs.get_logger("synfinance.serve")
KEY = APIKeyHeader(name=HEADER, auto_error=False, description="API key with the route's scope.")
Key = Annotated[str | None, Security(KEY)]


@dataclass
class Access:
    """The keys the app accepts and their rate limits (which hold across replicas: tokens leased from a bank)."""

    keys: KeyRing
    limits: RateLimiter


def access_of(app: Any) -> Access:
    """The Access the ingress put on the app's state (the app Serve serves is a copy of serve.ingress.api)."""
    found: Access = app.state.access
    return found


def require(scope: str) -> Any:
    """A dependency: the caller's key has `scope` and is within its rate limit. Runs before the body is read,
    so a request without the right key is refused (401/403/429) whatever its body."""

    async def check(request: Request, key: Key) -> Caller:
        access = access_of(request.app)
        try:
            caller: Caller = access.keys.authenticate(key)
        except Unauthenticated as exc:
            log.warning(logs.AUTH_FAILED, reason=str(exc), path=request.url.path)
            raise
        structlog.contextvars.bind_contextvars(key_name=caller.name)  # the key's name, never the key
        try:
            access.keys.authorize(caller, scope)
        except Forbidden:
            log.warning(logs.SCOPE_REFUSED, scope=scope, path=request.url.path)
            raise
        await admit(access.limits, caller, request.url.path)
        return caller

    return check


async def admit(limits: RateLimiter, caller: Caller, path: str) -> None:
    """Take one of the caller's rate-limit tokens, or RateLimited (counted and logged)."""
    try:
        await limits.check(caller.name)
    except RateLimited:
        metrics.RATE_LIMITED.labels(caller.name).inc()
        log.warning(logs.RATE_LIMITED, path=path)
        raise


class FastScore:
    """POST /v1/score without FastAPI's routing and dependency solving (serve.edge.Edge hands it the request when
    there is no query string): the same key check, body model, rate limit, route method and answer, for about half
    the ingress's CPU per request outside the scoring itself. Whatever is not the plain case (a missing or wrong
    key, a body that does not parse or validate) goes to the app as usual with the body replayed, before any
    token is taken, so every such refusal is the app's own."""

    def __init__(self, score: Callable[[Any, Caller, bool], Awaitable[Response]]) -> None:
        self.score = score  # the route's own method, bound

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        access = access_of(scope["app"])
        request = Request(scope, receive)
        try:
            raw = await request.body()
        except SynFinanceError as exc:  # too large while streaming in
            await errors.for_error(request, exc)(scope, receive, send)
            return
        try:
            caller = access.keys.authenticate(request.headers.get(HEADER))
            access.keys.authorize(caller, "score")
            transaction = TransactionIn.model_validate(json.loads(raw))
        # ValueError: JSONDecodeError; RecursionError: nesting deeper than the parser's stack
        except (Unauthenticated, Forbidden, ValueError, RecursionError, PydanticError):
            await app(scope, replayed(raw, receive), send)
            return
        structlog.contextvars.bind_contextvars(key_name=caller.name)
        try:
            await admit(access.limits, caller, scope["path"])
            response = await self.score(transaction, caller, False)
        except Exception as exc:  # answered as the app's exception handlers answer it (serve/errors.py)
            response = errors.for_error(request, exc)
        await response(scope, receive, send)
