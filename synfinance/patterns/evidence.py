"""Evidence strings: compact JSON objects naming the signals behind each label, built per batch."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import pyarrow as pa

from synfinance.output.jsonl import json_objects

Value: TypeAlias = str | int | float | bool | np.ndarray | pa.Array | pa.ChunkedArray


def evidence(n: int, **fields: Value) -> pa.Array:
    """n JSON objects; each field is a scalar (the same in every row) or one value per row.

    Floats are rounded to 2 decimals so evidence stays short and stable.
    """
    columns: dict[str, pa.Array] = {}
    for name, value in fields.items():
        if isinstance(value, pa.ChunkedArray):
            arr = value.combine_chunks()
        elif isinstance(value, pa.Array):
            arr = value
        elif isinstance(value, np.ndarray):
            arr = pa.array(np.round(value, 2) if value.dtype.kind == "f" else value)
        else:
            scalar = round(value, 2) if isinstance(value, float) else value
            arr = pa.array([scalar] * n)
        if len(arr) != n:
            raise ValueError(f"evidence field {name!r} has {len(arr)} values for {n} rows")
        columns[name] = arr
    return json_objects(columns)
