"""serve.columnar without Ray: Arrow batch bodies are checked like JSON ones and name the same fields."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from api_rows import rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError

from serve.columnar import MAX_PROBLEMS, SCORE_SCHEMA, read_batch, scores_table, to_stream
from serve.errors import json_path
from serve.schemas import MAX_BATCH, Transactions
from synfinance.errors import TooLarge, ValidationError
from synfinance.features.inputs import INPUT_COLUMNS, INPUT_SCHEMA
from synfinance.generation import GenerationParams, GenerationPlan, generate_shard
from synfinance.model.scoring import Scored
from synfinance.schema import FEATURE_NAMES


@pytest.fixture(scope="module")
def batch() -> pa.Table:
    table = generate_shard(GenerationPlan(GenerationParams(count=2000, seed=3)), 0).select(list(INPUT_COLUMNS))
    return table.slice(0, 3)


def replace(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, column)


def at(table: pa.Table, name: str, row: int, value: object, type_: pa.DataType | None = None) -> pa.Table:
    """The table with one cell changed (the column keeps its type unless type_ is given)."""
    values = table.column(name).to_pylist()
    values[row] = value
    return replace(table, name, pa.array(values, type_ or table.schema.field(name).type))


def json_fields(table: pa.Table) -> list[str]:
    """The JSON paths the JSON body's model names for the same rows."""
    body = json.dumps({"transactions": rows(table)}, default=str)
    with pytest.raises(PydanticError) as caught:
        Transactions.model_validate_json(body)
    return sorted({json_path(("body", *e["loc"])) for e in caught.value.errors()})


def arrow_fields(table: pa.Table) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        read_batch(to_stream(table))
    return sorted({p.field for p in caught.value.problems})


def test_a_valid_stream_reads_back_as_the_input_schema(batch: pa.Table) -> None:
    # smaller integer, other string and dictionary types are accepted and cast
    loose = replace(batch, "local_hour", batch.column("local_hour").cast(pa.int64()))
    loose = replace(loose, "city", pc.dictionary_encode(loose.column("city")))
    loose = replace(loose, "customer_id", loose.column("customer_id").cast(pa.large_string()))
    got = read_batch(to_stream(loose))
    assert got.schema == INPUT_SCHEMA
    assert got.equals(batch.cast(INPUT_SCHEMA))


def test_float_amounts_are_taken_to_the_paisa(batch: pa.Table) -> None:
    floats = replace(batch, "amount_inr", pa.array([0.1 + 0.2, 12.5, 99.999]))
    assert read_batch(to_stream(floats)).column("amount_inr").to_pylist() == [
        Decimal("0.30"), Decimal("12.50"), Decimal("100.00")]


@pytest.mark.parametrize("change", [
    pytest.param(lambda t: at(t, "amount_inr", 1, Decimal("-5.00")), id="negative-amount"),
    pytest.param(lambda t: at(t, "category", 2, "Casino"), id="unknown-category"),
    pytest.param(lambda t: at(t, "latitude", 0, 123.0), id="latitude-out-of-range"),
    pytest.param(lambda t: at(t, "merchant_reputation", 1, 1.5), id="reputation-over-one"),
    pytest.param(lambda t: at(t, "customer_id", 1, "a\u0000b"), id="nul-in-text"),
    pytest.param(lambda t: at(t, "merchant_id", 2, "m" * 129), id="text-too-long"),
    pytest.param(lambda t: at(t, "local_hour", 0, 24), id="hour-24"),
    pytest.param(lambda t: at(t, "timestamp", 1, dt.datetime(1999, 12, 31, tzinfo=dt.UTC)), id="too-early"),
    pytest.param(lambda t: at(t, "payment_mode", 0, None), id="null-in-required"),
])
def test_bad_values_are_named_by_the_same_path_as_in_json(batch: pa.Table, change: Callable) -> None:
    bad = change(batch)
    fields = arrow_fields(bad)
    assert fields == json_fields(bad)
    assert all(f.startswith("$.transactions[") for f in fields)


def test_nan_and_infinity_are_refused_by_row(batch: pa.Table) -> None:
    bad = at(batch, "distance_from_home_km", 2, float("nan"))
    bad = at(bad, "longitude", 0, float("inf"))
    assert arrow_fields(bad) == ["$.transactions[0].longitude", "$.transactions[2].distance_from_home_km"]


@pytest.mark.parametrize(("change", "field", "expected"), [
    pytest.param(lambda t: t.drop_columns(["amount_inr"]), "$.transactions[*].amount_inr", "decimal128(14, 2)",
                 id="missing-column"),
    pytest.param(lambda t: t.append_column("is_fraud", pa.array([True] * 3)), "$.transactions[*].is_fraud",
                 "observable columns", id="label-column"),
    pytest.param(lambda t: replace(t, "amount_inr", pc.cast(t.column("amount_inr"), pa.string())),
                 "$.transactions[*].amount_inr", "decimal128(14, 2)", id="amount-as-text"),
    pytest.param(lambda t: replace(t, "timestamp", pc.cast(t.column("timestamp"), pa.timestamp("us"))),
                 "$.transactions[*].timestamp", "with a time zone", id="naive-timestamp"),
])
def test_column_problems_name_the_column(batch: pa.Table, change: Callable, field: str, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        read_batch(to_stream(change(batch)))
    problems = {p.field: p.expected for p in caught.value.problems}
    assert field in problems and expected in problems[field]


def test_not_a_stream_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        read_batch(b'{"transactions": []}')
    assert caught.value.problems[0].field == "$" and "Arrow IPC stream" in caught.value.problems[0].expected


def test_many_bad_rows_are_reported_up_to_the_cap(batch: pa.Table) -> None:
    big = pa.concat_tables([batch] * 20)  # 60 rows
    bad = replace(big, "category", pa.array(["Casino"] * big.num_rows))
    with pytest.raises(ValidationError) as caught:
        read_batch(to_stream(bad))
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1 and problems[-1].got == f"{big.num_rows - MAX_PROBLEMS} more"
    assert [p.field for p in problems[:3]] == [f"$.transactions[{i}].category" for i in range(3)]


def test_more_rows_than_the_limit_is_too_large(batch: pa.Table) -> None:
    big = pa.concat_tables([batch] * (MAX_BATCH // 3 + 1))
    with pytest.raises(TooLarge, match="10,000"):
        read_batch(to_stream(big))


def test_scores_table_keeps_rows_reasons_and_features() -> None:
    x = np.arange(2 * len(FEATURE_NAMES), dtype=float).reshape(2, -1)
    x[1, 0] = np.nan
    reason_index = np.array([[-1, -1, -1], [5, -1, -1]], dtype=np.int32)
    scored = Scored(np.array([0.1, 0.95]), np.array([0, 2], np.int8), reason_index,
                    np.array([[0.0, 0.0, 0.0], [0.25, 0.0, 0.0]]), np.array([0.0, 0.7]), "v1")
    table = pa.ipc.open_stream(to_stream(scores_table(pa.array(["a", "b"]), scored, 0, 1.5, x))).read_all()
    assert table.schema.names[:len(SCORE_SCHEMA)] == SCORE_SCHEMA.names
    assert table.column("decision").to_pylist() == ["approve", "decline"]
    assert table.column("reasons").to_pylist() == [[], [{"feature": FEATURE_NAMES[5], "contribution": 0.25}]]
    assert table.column(f"features.{FEATURE_NAMES[0]}").to_pylist() == [0.0, None]  # NaN -> null
    assert table.column("processing_time_ms").to_pylist() == [1.5, 1.5]


def test_values_a_cast_would_change_are_refused_by_column(batch: pa.Table) -> None:
    nanos = pc.add(batch.column("timestamp").cast(pa.timestamp("ns", "UTC")), pa.scalar(1, pa.duration("ns")))
    thousandths = pa.array([Decimal("1.005"), Decimal("2.000"), Decimal("3.000")], pa.decimal128(10, 3))
    for name, column in (("timestamp", nanos), ("amount_inr", thousandths)):
        with pytest.raises(ValidationError) as caught:
            read_batch(to_stream(replace(batch, name, column)))
        assert [p.field for p in caught.value.problems] == [f"$.transactions[*].{name}"]


def test_a_column_given_twice_is_refused(batch: pa.Table) -> None:
    twice = batch.append_column("city", batch.column("city"))
    with pytest.raises(ValidationError) as caught:
        read_batch(to_stream(twice))
    assert [(p.field, p.expected) for p in caught.value.problems] == [("$.transactions[*].city",
                                                                       "one column of that name")]


TYPES = [pa.int8(), pa.int64(), pa.uint64(), pa.float32(), pa.float64(), pa.string(), pa.large_string(), pa.bool_(),
         pa.binary(), pa.null(), pa.date32(), pa.date64(), pa.timestamp("s"), pa.timestamp("ns", "UTC"),
         pa.timestamp("ms", "Asia/Kolkata"), pa.decimal128(5, 0), pa.decimal128(38, 4), pa.decimal128(14, 2),
         pa.dictionary(pa.int8(), pa.string()), pa.list_(pa.int8()), pa.duration("us")]


def random_column(kind: pa.DataType, n: int, seed: int) -> pa.Array:
    """n values of any type, from wild numbers (NaN, huge, negative) cast without checks."""
    rng = np.random.default_rng(seed)
    numbers = rng.choice([0.0, -1.0, 1e300, np.nan, np.inf, 7.5, 2**62, -(2**40), 0.005], size=n)
    if pa.types.is_null(kind):
        return pa.nulls(n)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind):
        return pa.array([("\x00" if v == 0 else str(v) * int(rng.integers(1, 60))) for v in numbers]).cast(kind)
    if pa.types.is_dictionary(kind):
        return pa.array(["UPI", "Casino", "", "Mumbai"] * n)[:n].dictionary_encode()
    if pa.types.is_list(kind):
        return pa.array([[1, 2]] * n, kind)
    if pa.types.is_decimal(kind):
        return pa.array([v if np.isfinite(v) and abs(v) < 10 ** (kind.precision - kind.scale) else None
                         for v in numbers]).cast(kind, safe=False)
    ints = np.clip(np.nan_to_num(numbers), -(2.0**62), 2.0**62).astype(np.int64)
    if pa.types.is_floating(kind):
        return pa.array(numbers).cast(kind, safe=False)
    if kind == pa.date32():
        return pa.array((ints % 2**31).astype(np.int32)).cast(kind)
    return pa.array(ints).cast(kind, safe=False)


@given(changes=st.lists(st.tuples(st.sampled_from(INPUT_COLUMNS), st.sampled_from(TYPES), st.integers(0, 99)),
                        max_size=4),
       dropped=st.sets(st.sampled_from(INPUT_COLUMNS), max_size=2), cut=st.integers(0, 40))
@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_arrow_body_gets_past_the_checks_unchecked(batch: pa.Table, changes: list, dropped: set, cut: int) -> None:
    table = batch
    for name, kind, seed in changes:
        table = replace(table, name, random_column(kind, table.num_rows, seed))
    body = to_stream(table.drop_columns(sorted(dropped)))
    body = body[:len(body) - cut] if cut % 4 == 3 else body  # sometimes a truncated stream
    try:
        got = read_batch(body)
    except ValidationError as exc:
        assert exc.problems and all(p.field.startswith("$") for p in exc.problems)
        return
    assert got.schema == INPUT_SCHEMA and got.num_rows == batch.num_rows
