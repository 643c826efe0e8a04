"""Every error the HTTP API can answer, mapped to its status code and JSON body in one place.

A body always has `error` (a stable kind), `message`, `request_id` and, for bad input, `details`:
one entry per problem with the JSON path of the field, what was expected and what was got.
Anything not listed here is a bug: it is logged with the request id and answered 500 with that id.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from serve.schemas import ErrorBody
from synfinance.errors import (
    CircuitOpen,
    Conflict,
    DeadlineExceeded,
    Forbidden,
    ModelUnavailable,
    NotFound,
    PartRestarting,
    RateLimited,
    RetryLater,
    SchemaError,
    StoreUnavailable,
    SynFinanceError,
    TooLarge,
    Unauthenticated,
    UnsupportedMedia,
    ValidationError,
)
from synfinance.observability import metrics
from synfinance.observability.logs import get_logger
from synfinance.schema import TRANSACTION_SCHEMA

log = get_logger("synfinance.serve")

# (error class, status, kind), most specific first.
STATUS: tuple[tuple[type[SynFinanceError], int, str], ...] = (
    (ValidationError, 422, "validation"),
    (SchemaError, 422, "validation"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (TooLarge, 413, "too_large"),
    (UnsupportedMedia, 415, "unsupported_media_type"),
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (RateLimited, 429, "rate_limited"),
    (CircuitOpen, 503, "circuit_open"),
    (PartRestarting, 503, "restarting"),
    (DeadlineExceeded, 503, "deadline_exceeded"),
    (StoreUnavailable, 503, "database_unavailable"),
    (ModelUnavailable, 503, "model_unavailable"),
)
# The answers every route may give besides its own, for the OpenAPI document
RESPONSES: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody, "description": text} for code, text in (
    (401, "No API key, or an unknown one."), (403, "The key lacks the route's scope."),
    (422, "Invalid input; `details` names each field by its JSON path."), (429, "Over the key's rate limit."),
    (503, "A dependency is unavailable (model, database, open circuit); see Retry-After."))}
GOT_CHARS = 200
# field names a 422 may name in the validation-failure metric (anything else a client sends counts as 'other')
KNOWN_FIELDS = frozenset(TRANSACTION_SCHEMA.names) | {
    "transactions", "feedback", "is_fraud", "explain", "features", "score", "limit", "cursor", "from", "to",
    "min_score", "by", "customer_id", "merchant_id", "fraud_type", "status", "city", "segment", "category",
    "X-API-Key", "x-api-key", "body", "query", "path", "header", "timestamp", "transaction_id"}


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def body(request: Request, status: int, kind: str, message: str, details: list[dict[str, Any]] | None = None,
         headers: dict[str, str] | None = None) -> Response:
    payload = {"error": kind, "message": message, "request_id": request_id(request), "details": details or []}
    for detail in details or () if status == 422 else ():
        metrics.VALIDATION_FAILURES.labels(field_label(detail["field"])).inc()
    return Response(json.dumps(payload, default=str), status, headers=headers, media_type="application/json")


def _got(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= GOT_CHARS else text[:GOT_CHARS] + "..."


def field_label(path: str) -> str:
    """'$.transactions[3].amount' -> 'transactions[].amount' (a bounded label); a name outside the schema -> 'other'."""
    label = re.sub(r"\[\d+\]", "[]", path.removeprefix("$").removeprefix("."))
    parts = [p for p in re.split(r"[.\[\]]+", label) if p]
    return (label or "body") if all(p in KNOWN_FIELDS for p in parts) else "other"


def json_path(loc: tuple[Any, ...]) -> str:
    """('body', 'transactions', 3, 'amount_inr') -> '$.transactions[3].amount_inr'; query/path/header keep theirs."""
    where, *rest = loc or ("body",)
    path = "$" if where == "body" else str(where)
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def for_error(request: Request, exc: BaseException) -> Response:
    """The response for any exception a route raised (actors.handles re-raises a deployment's own errors)."""
    for cls, status, kind in STATUS:
        if isinstance(exc, cls):
            headers = None
            if isinstance(exc, RetryLater):
                headers = {"Retry-After": str(max(1, round(exc.retry_after_s + 0.499)))}
            elif isinstance(exc, StoreUnavailable | ModelUnavailable):
                headers = {"Retry-After": "5"}
            elif isinstance(exc, Unauthenticated):
                headers = {"WWW-Authenticate": "ApiKey header=X-API-Key"}
            details = None
            if isinstance(exc, ValidationError):
                details = [{"field": p.field if p.field.startswith(("$", "query", "path", "header"))
                            else f"$.{p.field}", "expected": p.expected, "got": _got(p.got)} for p in exc.problems]
            return body(request, status, kind, str(exc), details, headers)
    log.error("unhandled error", request_id=request_id(request), path=request.url.path,
              error=f"{type(exc).__name__}: {exc}", exc_info=exc)
    return body(request, 500, "internal", f"unexpected error; quote request id {request_id(request)}")


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [{"field": json_path(tuple(e.get("loc", ()))), "expected": e.get("msg", ""),
                    "got": _got(e.get("input"))} for e in exc.errors()]
        count = len(details)
        return body(request, 422, "validation", f"{count} invalid field{'s' if count != 1 else ''}", details)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        kinds = {404: "not_found", 405: "method_not_allowed"}
        return body(request, exc.status_code, kinds.get(exc.status_code, "http"), str(exc.detail),
                    headers=getattr(exc, "headers", None))

    async def mapped(request: Request, exc: Exception) -> Response:
        return for_error(request, exc)

    for cls in (SynFinanceError, Exception):
        app.add_exception_handler(cls, mapped)
