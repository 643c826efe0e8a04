"""Structured logs (structlog): one JSON object per line, with the request or run context, trace and span ids,
secrets masked before any output; console lines instead only where asked for and stderr is a terminal.

`configure` sets up structlog and routes the standard library's logging (Ray, asyncpg, uvicorn, ...) through
the same processors, so every line a SynFinance process writes is one JSON object. The context — request_id,
key_name (never the key), run_id, shard, transaction_id — is bound with structlog.contextvars, and travels with
the trace context into other processes (observability.tracing).

    log = get_logger("synfinance.serve")
    log.info("http.request", route="/v1/score", status=200)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

# Event fields whose values are never written, whatever logs them.
SECRET_FIELDS = frozenset({"api_key", "x-api-key", "key", "password", "authorization", "url", "database_url", "body"})
MASK = "***"
# Security events: their own names, so they can be found and alerted on
AUTH_FAILED, SCOPE_REFUSED, RATE_LIMITED = "security.auth_failed", "security.scope_refused", "security.rate_limited"
# (config changes are logged by synfinance.settings.watch as security.config_changed and security.config_refused)


# Every field a SynFinance log line may carry, with its Elasticsearch type: the index template of
# monitoring/logging maps exactly these, and the tests check the lines the processes write against them.
LOG_FIELDS: dict[str, str] = {
    "timestamp": "date", "level": "keyword", "event": "keyword", "logger": "keyword", "component": "keyword",
    "request_id": "keyword", "trace_id": "keyword", "span_id": "keyword", "run_id": "keyword", "shard": "integer",
    "transaction_id": "keyword", "key_name": "keyword", "method": "keyword", "route": "keyword",
    "status": "short", "ms": "float", "path": "keyword", "reason": "text", "scope": "keyword", "worker": "keyword",
    "rows": "long", "known": "boolean", "known_rows": "long", "model_version": "keyword", "operation": "keyword",
    "exception": "text", "version": "keyword", "kept_version": "keyword", "changed": "keyword", "keys": "keyword",
    "customers": "long", "merchants": "long", "retry_s": "float", "tries": "integer",
}


def mask_secrets(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name in list(event):
        if name.lower() in SECRET_FIELDS:
            event[name] = MASK
    return event


def add_trace_ids(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The current span's trace and span ids (also for stdlib lines written inside a span)."""
    if "trace_id" not in event:
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            event["trace_id"], event["span_id"] = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    return event


def configure(level: str = "INFO", fmt: str = "json", component: str | None = None) -> None:
    """Send structlog events and stdlib records to stderr at the given level: JSON, or console lines when `fmt` is
    console and stderr is a terminal (a file, such as a Ray worker's log, always gets JSON)."""
    console = fmt == "console" and _stderr().isatty()
    renderer: Any = structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    shared: list[Any] = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                         structlog.processors.TimeStamper(fmt="iso", utc=True), add_trace_ids]
    if component is not None:
        shared.append(lambda _l, _m, event: {**event, "component": component} if "component" not in event else event)
    structlog.configure(
        processors=[*shared, mask_secrets, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.WriteLoggerFactory(_stderr()), cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(_stderr())
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, mask_secrets,
                    structlog.processors.format_exc_info, renderer]))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_synfinance", False)]
    handler._synfinance = True  # type: ignore[attr-defined]  # replaced, not stacked, on a second configure
    root.addHandler(handler)
    root.setLevel(level)


def _stderr() -> Any:
    """The process's real stderr: a Serve replica replaces sys.stderr (and print) with streams into its own
    logger, which would wrap each JSON line in another record (or print it as a tuple). Written with
    file.write, never print."""
    return sys.__stderr__ if sys.__stderr__ is not None else sys.stderr


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
