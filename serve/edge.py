"""What every request passes first (pure ASGI, no per-request task): a request id, body limits, metrics.

- `X-Request-ID`: taken from the request when it is a sane token, else made; echoed on the response and
  put in every error body and log line.
- Deadline: a request not answered within `EdgeConfig.timeout_s` (server.timeout_s) gets 503 deadline_exceeded.
- Bodies: a request with a body must say it is JSON, or an Arrow IPC stream where a route takes one
  (else 415), and may not exceed max_request_bytes
  (413, checked on Content-Length and again while the body streams in, so chunked bodies are bounded too).
- Metrics: requests, errors, latency per route template and requests in flight (synfinance.observability.metrics).
- Fast routes: a route listed in `EdgeConfig.fast_routes` ({(method, path): handler(scope, receive, send,
  app)}) is handed to its handler when the request has no query string (serve.access.FastScore), inside
  everything above; the handler passes what it does not take to the app.
- Traces: a server span per request, in the caller's trace when it sends a `traceparent`; the response carries
  `traceparent` and `X-Trace-Id`; the request id is bound to every log line of the request.

What the edge reads of the app it serves is one `EdgeConfig` on the app's state (`app.state.edge`), set by
whoever serves the app; an app without one gets the defaults.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.columnar import ARROW_STREAM
from serve.errors import for_error
from synfinance.errors import DeadlineExceeded, TooLarge, UnsupportedMedia
from synfinance.observability import metrics, tracing
from synfinance.observability.logs import get_logger

log = get_logger("synfinance.serve")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON = "application/json"
ARROW_PATHS = frozenset({"/v1/score/batch"})  # routes that also take ARROW_STREAM bodies


FastRoute = Callable[..., Awaitable[None]]  # (scope, receive, send, app=the app it hands what it does not take)


@dataclass
class EdgeConfig:
    """What the edge applies to every request of an app (`app.state.edge`)."""

    max_request_bytes: int = 10_000_000
    timeout_s: float | None = None  # the request's deadline (server.timeout_s); None: none
    access_log_ratio: float = 1.0  # share of successful requests logged (errors always are)
    fast_routes: dict[tuple[str, str], FastRoute] = field(default_factory=dict)


DEFAULT = EdgeConfig()


def edge_config(scope: Scope) -> EdgeConfig:
    """The EdgeConfig of the app serving `scope`, or the defaults."""
    state = scope["app"].state if "app" in scope else None
    found = getattr(state, "edge", None)
    return found if isinstance(found, EdgeConfig) else DEFAULT


def media_type(content_type: str) -> str:
    """'Application/JSON; charset=utf-8' -> 'application/json'."""
    return content_type.split(";")[0].strip().lower()


class Edge:
    """The middleware; its settings are the served app's EdgeConfig, read per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        incoming = {k: headers[k] for k in ("traceparent", "tracestate") if k in headers}
        with tracing.activated(incoming), structlog.contextvars.bound_contextvars(request_id=rid), \
                tracing.span(f"HTTP {scope['method']}", tracing.SERVER, **{"http.method": scope["method"]}) as span:
            await self._serve(scope, receive, send, headers, rid, started, span)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], rid: str,
                     started: float, span: Any) -> None:
        status, started_answer = [500], [False]  # 500 until the answer starts
        self.in_flight += 1
        metrics.HTTP_IN_FLIGHT.labels().set(self.in_flight)
        ctx = span.get_span_context()
        # Serve's proxy puts an X-Request-ID on every request and echoes it on the response: add ours only when
        # the request came without a usable one (the app served by something else, or an id we refused)
        extra = [] if headers.get("x-request-id") == rid else [(b"x-request-id", rid.encode())]
        if ctx.is_valid:  # the trace this request is part of: the caller's (traceparent honoured) or a new one
            extra += [(b"traceparent", f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}".encode()),
                      (b"x-trace-id", f"{ctx.trace_id:032x}".encode())]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0], started_answer[0] = message["status"], True
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        config = edge_config(scope)
        limit, timeout_s = config.max_request_bytes, config.timeout_s
        root, path = scope.get("root_path", ""), scope["path"]
        route_path = path[len(root):] if root and path.startswith(root) else path  # the app under a route prefix
        problem = self._check(scope["method"], route_path, headers, limit)
        handler = None if scope.get("query_string") else config.fast_routes.get((scope["method"], route_path))
        app: ASGIApp = self.app if handler is None else partial(handler, app=self.app)
        try:
            if problem is not None:
                await for_error(Request(scope), problem)(scope, receive, send_with_id)
            elif timeout_s is None:
                await app(scope, self._bounded(receive, limit), send_with_id)
            else:
                try:
                    async with asyncio.timeout(timeout_s):  # a timer, not a task per request
                        await app(scope, self._bounded(receive, limit), send_with_id)
                except TimeoutError:
                    if started_answer[0]:  # the answer had begun: nothing more can be said on it
                        raise
                    late = DeadlineExceeded(f"no answer within server.timeout_s ({timeout_s:g} s); a write may still "
                                            "complete: retry it with the same Idempotency-Key", 1.0)
                    await for_error(Request(scope), late)(scope, receive, send_with_id)
        finally:
            self.in_flight -= 1
            metrics.HTTP_IN_FLIGHT.labels().set(self.in_flight)
            seconds = time.perf_counter() - started
            template = self._observe(scope, status[0], seconds, route_path if handler is not None else "unmatched")
            ratio = config.access_log_ratio
            if status[0] >= 400 or ratio >= 1.0 or random.random() < ratio:  # noqa: S311 (sampling, not secrets)
                log.info("http.request", method=scope["method"], route=template, status=status[0],
                         ms=round(seconds * 1000, 3))
            if ctx.is_valid:
                span.update_name(f"{scope['method']} {template}")
                span.set_attributes({"http.route": template, "http.status_code": status[0], "request_id": rid})

    @staticmethod
    def _check(method: str, path: str, headers: dict[str, str], limit: int) -> Exception | None:
        if method not in BODY_METHODS:
            return None
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return TooLarge(f"request body of {int(length):,} bytes exceeds the limit of {limit:,}")
        media = media_type(headers.get("content-type", ""))
        allowed = (JSON, ARROW_STREAM) if path in ARROW_PATHS else (JSON,)
        if media not in allowed and (length is None or length != "0"):
            return UnsupportedMedia(f"request body must be {' or '.join(allowed)}, got {media or 'no Content-Type'}")
        return None

    @staticmethod
    def _bounded(receive: Receive, limit: int) -> Receive:
        seen = [0]

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    raise TooLarge(f"request body exceeds the limit of {limit:,} bytes")
            return message

        return counted

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float, unrouted: str) -> str:
        """Count the request; its route template (`unrouted` when the app did not route it: a fast route's path)."""
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or unrouted
        metrics.HTTP_REQUESTS.labels(template, scope["method"], str(status)).inc()
        metrics.HTTP_LATENCY.labels(template).observe(seconds)
        if status >= 400:
            metrics.HTTP_ERRORS.labels(template, "server" if status >= 500 else "client").inc()
        return str(template)
