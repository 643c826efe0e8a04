"""Response bodies: JSON encoding of stored rows and of scores, and the tables a scored request stores."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
from fastapi.responses import Response

from synfinance.schema import FEATURE_NAMES, FEATURE_TABLE_SCHEMA


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def json_text(payload: Any) -> str:
    """JSON with timestamps as ISO 8601, amounts as numbers; NaN never appears (it is null)."""
    return json.dumps(payload, default=_plain, allow_nan=False)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json_text(payload), status, headers, media_type="application/json")


def _maybe(v: float) -> float | None:
    return None if math.isnan(v) else v


def elapsed_ms(started: float) -> float:
    """Milliseconds since a time.perf_counter() reading, to the microsecond."""
    return round((time.perf_counter() - started) * 1000, 3)


def now_us() -> int:
    """The server's clock, UTC microseconds (a prediction's scored_at online)."""
    return time.time_ns() // 1000


def score_body(transaction_id: str, result: dict[str, Any], x: np.ndarray | None, scored_at_us: int,
               elapsed: float) -> dict[str, Any]:
    scored_at = dt.datetime.fromtimestamp(scored_at_us / 1e6, dt.UTC).isoformat()
    body = {"transaction_id": transaction_id, **result, "scored_at": scored_at, "processing_time_ms": elapsed}
    if x is not None:
        body["features"] = {n: _maybe(v) for n, v in zip(FEATURE_NAMES, x.ravel().tolist(), strict=True)}
    return body


def feature_table(ids: pa.ChunkedArray | pa.Array, x: np.ndarray) -> pa.Table:
    columns = [pa.array(x[:, j], from_pandas=True) for j in range(x.shape[1])]  # NaN -> null
    return pa.Table.from_arrays([ids, *columns], schema=FEATURE_TABLE_SCHEMA)



