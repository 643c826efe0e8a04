"""Helpers for reading labelled rows of one pattern, with their evidence parsed."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def labelled(table: pa.Table, kind: str, name: str) -> list[dict[str, Any]]:
    """Rows of one pattern, as dicts with their evidence parsed."""
    rows = table.filter(pc.equal(table.column(f"{kind}_type"), name)).to_pylist()
    for row in rows:
        row["ev"] = json.loads(row[f"{kind}_evidence"])
    return rows


def group(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Rows grouped by customer and/or evidence keys (evidence keys prefixed 'ev.'), each group in time order."""
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[tuple(row["ev"][k[3:]] if k.startswith("ev.") else row[k] for k in keys)].append(row)
    for members in out.values():
        members.sort(key=lambda r: r["timestamp"])
    return out
