"""Opaque keyset-pagination cursors: the sort key of the last row of a page, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from synfinance.errors import ValidationError

_VERSION = 1


def encode_cursor(kind: str, key: tuple[Any, ...]) -> str:
    """A cursor for the page after the row with this sort key; `kind` ties it to one listing."""
    values = [v.isoformat() if isinstance(v, dt.datetime) else v for v in key]
    body = json.dumps([_VERSION, kind, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).rstrip(b"=").decode()


def decode_cursor(cursor: str, kind: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The sort key in a cursor; ValidationError naming `cursor` if it is not one of this listing's."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, got_kind, values = json.loads(raw)
        if version != _VERSION or got_kind != kind or len(values) != len(types):
            raise ValueError("cursor of another listing")
        return tuple(_typed(v, t) for v, t in zip(values, types, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError.single(
            "cursor", cursor[:60], f"a cursor returned by an earlier page of this {kind} listing"
        ) from exc


def _typed(value: Any, t: type) -> Any:
    if t is dt.datetime:
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp in cursor")
        return parsed
    if not isinstance(value, t) or isinstance(value, bool):
        raise ValueError(f"expected {t.__name__}")
    return value
