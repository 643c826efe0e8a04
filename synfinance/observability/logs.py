"""Structured logs (structlog): JSON lines with the request or run context, secrets masked before any output.

    log = get_logger("serve")
    log.info("scored", request_id=rid, key_name="ops", decision="review")
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Event fields whose values are never written, whatever logs them.
SECRET_FIELDS = frozenset({"api_key", "x-api-key", "key", "password", "authorization", "url", "database_url", "body"})
MASK = "***"


def mask_secrets(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name in list(event):
        if name.lower() in SECRET_FIELDS:
            event[name] = MASK
    return event


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Send structlog events to stderr as JSON (or console lines) at the given level."""
    renderer: Any = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), mask_secrets,
                    structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr), cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
