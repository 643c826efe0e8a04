"""Reading and writing one table in Parquet, CSV or JSON Lines, always against a declared schema."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

from synfinance.errors import SchemaError
from synfinance.output.jsonl import encode_jsonl
from synfinance.schema import ADDED_LATER, conforms, missing_values

FORMATS = ("parquet", "csv", "jsonl")
SUFFIX = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}
LIST_SEPARATOR = "|"  # CSV has no lists: list cells are joined with this
# Columns whose values hardly repeat: dictionary encoding only costs there. Floating-point columns (the 69
# features among them) are never dictionary-encoded either: it made writing slower and the files larger
# (docs/benchmarks.md, "Design measurements").
_UNIQUE_LIKE = {
    "transaction_id", "timestamp", "latitude", "longitude", "distance_from_home_km", "time_since_last_txn_s",
    "amount_inr", "daily_txn_amount_inr", "instrument_id", "device_id", "customer_id", "merchant_id",
    "monthly_income", "avg_transaction_amount", "merchant_loyalty", "online_shopping_preference", "name",
    "reputation", "merchant_reputation",
}
# Statistics only where readers prune on them.
_STATS = ["timestamp", "local_date", "customer_id", "merchant_id", "amount_inr", "is_fraud", "is_anomaly"]


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    """Write table to path (the caller makes it atomic)."""
    if fmt == "parquet":
        names = table.column_names
        pq.write_table(
            table, path, compression="zstd",
            use_dictionary=[f.name for f in table.schema
                            if f.name not in _UNIQUE_LIKE and not pa.types.is_floating(f.type)],
            write_statistics=[n for n in _STATS if n in names],
        )
    elif fmt == "csv":
        pcsv.write_csv(_lists_to_text(table), path)
    elif fmt == "jsonl":
        path.write_bytes(encode_jsonl(table))
    else:
        raise SchemaError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def read_table(path: Path, fmt: str, schema: pa.Schema) -> pa.Table:
    """Read a file written by write_table back into exactly schema; SchemaError if it does not fit."""
    try:
        if fmt == "parquet":
            table = pq.read_table(path)
        elif fmt == "csv":
            text_schema = pa.schema([_text_type(f) for f in schema])
            opts = pcsv.ConvertOptions(
                column_types=text_schema, strings_can_be_null=True, quoted_strings_can_be_null=False,
                include_columns=schema.names,
            )
            table = _lists_from_text(pcsv.read_csv(path, convert_options=opts), schema)
        elif fmt == "jsonl":
            json_schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_date(f.type) else f for f in schema])
            opts = pjson.ParseOptions(explicit_schema=json_schema, unexpected_field_behavior="error")
            table = pjson.read_json(path, parse_options=opts)
            table = table.select(schema.names).cast(schema) if table.num_rows else schema.empty_table()
        else:
            raise SchemaError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as exc:
        raise SchemaError(f"{path}: does not match the {fmt} layout of the schema: {exc}") from exc
    older = [f for f in schema if f.name in ADDED_LATER and f.name not in table.column_names]
    if older:  # a file written before these columns existed: they read as null
        for field in older:
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
        if set(schema.names) <= set(table.column_names):
            table = table.select(schema.names)
    problems = conforms(table.schema, schema, nullability=fmt == "parquet") + missing_values(table, schema)
    if problems:
        raise SchemaError(f"{path}: " + "; ".join(problems))
    return pa.Table.from_arrays(table.columns, schema=schema)


def _text_type(field: pa.Field) -> pa.Field:
    return pa.field(field.name, pa.string()) if pa.types.is_list(field.type) else field


def _lists_to_text(table: pa.Table) -> pa.Table:
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            col = table.column(i)
            as_text = pc.binary_join(pc.cast(col, pa.list_(pa.string())), LIST_SEPARATOR)
            table = table.set_column(i, pa.field(field.name, pa.string(), field.nullable), as_text)
    return table


def _lists_from_text(table: pa.Table, schema: pa.Schema) -> pa.Table:
    for i, field in enumerate(schema):
        if pa.types.is_list(field.type):
            col = table.column(field.name)
            split = pc.split_pattern(col, LIST_SEPARATOR)
            split = pc.if_else(pc.equal(col, ""), pa.scalar([], split.type), split)
            table = table.set_column(i, field.name, pc.cast(split, field.type))
    return table
