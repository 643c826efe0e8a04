"""JSON Lines encoding of Arrow tables, built column by column with Arrow compute (no per-row Python)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import SchemaError

_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\b", "\\b"), ("\f", "\\f"))


def _quoted(strings: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring_regex(strings, r'["\\\x00-\x1f]')).as_py():  # most text needs no escaping
        for raw, escaped in _ESCAPES:
            strings = pc.replace_substring(strings, raw, escaped)
        if pc.any(pc.match_substring_regex(strings, r"[\x00-\x1f]")).as_py():
            raise SchemaError("a text value holds a control character JSON Lines cannot carry unescaped")
    return pc.binary_join_element_wise('"', strings, '"', "")


def _values(col: pa.Array, name: str) -> pa.Array:
    """Each value of col as JSON text; nulls as null."""
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        out = _quoted(col)
    elif pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
        out = pc.cast(col, pa.string())
    elif pa.types.is_floating(t):
        values = col.to_numpy(zero_copy_only=False)
        if not np.isfinite(values[~np.isnan(values)] if col.null_count else values).all():
            raise SchemaError(f"column {name!r} holds NaN or infinity, which JSON cannot represent")
        out = pc.cast(col, pa.string())
    elif pa.types.is_timestamp(t):
        out = _quoted(pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ"))
    elif pa.types.is_date(t):
        out = _quoted(pc.cast(col, pa.string()))
    elif pa.types.is_struct(t):
        out = json_objects({t.field(i).name: col.field(i) for i in range(t.num_fields)})
        if col.null_count:
            out = pc.if_else(col.is_null(), pa.scalar(None, pa.string()), out)
    elif pa.types.is_list(t):
        inner = _values(col.values, name)
        joined = pc.binary_join(pa.ListArray.from_arrays(col.offsets, inner), ",")
        out = pc.if_else(col.is_null(), pa.scalar(None, pa.string()), pc.binary_join_element_wise("[", joined, "]", ""))
    else:
        raise SchemaError(f"column {name!r} has type {t}, which the JSON Lines writer does not handle")
    return pc.fill_null(out, "null")


def json_objects(columns: dict[str, pa.Array], suffix: str = "") -> pa.Array:
    """One compact JSON object per row, keys in the given order, each followed by suffix."""
    parts = [
        pc.binary_join_element_wise(json.dumps(name) + ":", _values(column, name), "")
        for name, column in columns.items()
    ]
    body = pc.binary_join_element_wise(*parts, ",") if len(parts) > 1 else parts[0]
    return pc.binary_join_element_wise("{", body, "}" + suffix, "")


def encode_jsonl(table: pa.Table) -> bytes:
    """The table as UTF-8 JSON Lines, one object per row, keys in schema order."""
    if table.num_rows == 0:
        return b""
    columns = {name: col.combine_chunks() for name, col in zip(table.column_names, table.columns, strict=True)}
    rows = json_objects(columns, suffix="\n")
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset : rows.offset + len(rows) + 1]
    data = rows.buffers()[2]
    return data.to_pybytes()[offsets[0] : offsets[-1]]
