"""Arrow IPC bodies for bulk scoring: a batch in as columns, its scores out as columns.

`POST /v1/score/batch` with `Content-Type: application/vnd.apache.arrow.stream` takes an Arrow IPC
stream holding the observable columns (INPUT_SCHEMA) and, with `Accept: application/vnd.apache.arrow.stream`,
answers with an Arrow stream of scores. The checks are the JSON body's (serve/schemas.py: the same
choices, bounds, lengths and time range), done column by column; each problem names the row as a JSON
path would (`$.transactions[17].amount_inr`), so both formats report the same fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from serve.schemas import BOUNDS, CHOICES, EARLIEST, LATEST, MAX_BATCH, TEXT_MAX
from synfinance.errors import Problem, TooLarge, ValidationError
from synfinance.features.inputs import INPUT_SCHEMA
from synfinance.features.reference import DERIVED
from synfinance.model.scoring import Scored
from synfinance.schema import FEATURE_NAMES, PREDICTION_SCHEMA

ARROW_STREAM = "application/vnd.apache.arrow.stream"
MAX_PROBLEMS = 20  # rows reported per request; the count of all is in the message
# The predictions schema (synfinance.schema.PREDICTION_SCHEMA) and the time the request took.
SCORE_SCHEMA = PREDICTION_SCHEMA.append(pa.field("processing_time_ms", pa.float64(), nullable=False))
_TEXT_TYPES = (pa.string(), pa.large_string())
_Check = Callable[[pa.Array], pa.Array]  # a column -> true where a row is bad


def read_batch(body: bytes) -> pa.Table:
    """The transactions of an Arrow IPC stream, checked and cast to INPUT_SCHEMA.

    ValidationError lists every problem (missing, unknown or mistyped columns; bad values by row);
    TooLarge if it holds more than MAX_BATCH rows.
    """
    try:
        table = pa.ipc.open_stream(pa.py_buffer(body)).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationError.single("$", f"{len(body):,} bytes", f"an Arrow IPC stream ({exc})") from exc
    if table.num_rows > MAX_BATCH:
        raise TooLarge(f"{table.num_rows:,} transactions in one request; the limit is {MAX_BATCH:,}")
    names, known = table.column_names, set(INPUT_SCHEMA.names)
    problems = Problems(
        Problem(f"$.transactions[*].{name}", "an unknown column",
                f"only the observable columns ({', '.join(INPUT_SCHEMA.names)})")
        for name in names if name not in known)
    problems.extend(Problem(f"$.transactions[*].{name}", f"{names.count(name)} columns", "one column of that name")
                    for name in sorted(set(names)) if names.count(name) > 1)
    if problems:
        raise ValidationError(problems.reported())
    columns = []
    for field in INPUT_SCHEMA:
        if field.name not in names:
            if field.name in DERIVED:  # the server derives it (synfinance.features.reference)
                columns.append(pa.nulls(table.num_rows, field.type))
                continue
            problems.append(Problem(f"$.transactions[*].{field.name}", "no such column", f"a column of {field.type}"))
            continue
        column = table.column(field.name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        cast = _cast(column, field, problems)
        if cast is not None:
            _check_values(cast, field, problems)
            columns.append(cast)
    if not problems:
        _located(dict(zip(INPUT_SCHEMA.names, columns, strict=True)), problems)
    if problems:
        raise ValidationError(problems.reported())
    return pa.Table.from_arrays(columns, schema=INPUT_SCHEMA)


def _located(columns: dict[str, pa.Array], problems: Problems) -> None:
    """Every row has a location: a city, or latitude and longitude (TransactionIn's rule)."""
    city, lat, lon = (columns[n].is_valid() for n in ("city", "latitude", "longitude"))
    bad = np.flatnonzero(pc.invert(pc.or_(city, pc.and_(lat, lon))).to_numpy(zero_copy_only=False))
    problems.unlisted += max(0, len(bad) - MAX_PROBLEMS)
    problems.extend(Problem(f"$.transactions[{i}].city", None, "a location - a city, or latitude and longitude")
                    for i in bad[:MAX_PROBLEMS].tolist())


def _cast(column: pa.Array, field: pa.Field, problems: Problems) -> pa.Array | None:
    """The column as the field's type; a column-level problem when its type cannot hold the field."""
    t, given = field.type, column.type
    ok = (
        (given in _TEXT_TYPES and (pa.types.is_string(t)))
        or (pa.types.is_timestamp(given) and given.tz is not None and pa.types.is_timestamp(t))
        or (pa.types.is_date(given) and pa.types.is_date(t))
        or (pa.types.is_boolean(given) and pa.types.is_boolean(t))
        or ((pa.types.is_integer(given) or pa.types.is_floating(given)) and pa.types.is_floating(t))
        or (pa.types.is_integer(given) and pa.types.is_integer(t))
        or ((pa.types.is_decimal(given) or pa.types.is_integer(given) or pa.types.is_floating(given))
            and pa.types.is_decimal(t))
    )
    if not ok:
        want = f"{t} with a time zone" if pa.types.is_timestamp(t) else str(t)
        problems.append(Problem(f"$.transactions[*].{field.name}", str(given), f"a column of {want}"))
        return None
    low, high = BOUNDS.get(field.name, (None, None))
    if pa.types.is_integer(t):  # bounds before the cast, which would fail on the first outsider
        bits = t.bit_width - 1
        low = -(2**bits) if low is None else low
        high = 2**bits - 1 if high is None else high
        if _rows(column, field, problems, lambda c: pc.or_(pc.less(c, low), pc.greater(c, high)),
                 f"an integer from {low} to {high}"):
            column = pc.min_element_wise(pc.max_element_wise(column, low), high)  # reported; now castable
    if (pa.types.is_floating(given) and (pa.types.is_floating(t) or pa.types.is_decimal(t))
            and _rows(column, field, problems, lambda c: pc.invert(pc.is_finite(c)), "a finite number")):
        column = pc.if_else(pc.is_finite(column), column, 0.0)  # reported; now castable
    if pa.types.is_decimal(t) and pa.types.is_floating(given):
        column = pc.round(column, 2)  # a float amount: to the paisa
    try:
        return column.cast(t)  # safe: a value it would change (sub-microsecond times, extra decimals) fails
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        want = (f"amounts of at most {t.precision - t.scale} digits and {t.scale} decimals"
                if pa.types.is_decimal(t) else f"values {t} holds exactly")
        problems.append(Problem(f"$.transactions[*].{field.name}", str(exc)[:200], want))
        return None


def _check_values(column: pa.Array, field: pa.Field, problems: Problems) -> None:
    name, t = field.name, field.type
    if not field.nullable and name not in DERIVED:  # a null derivable value is derived
        _rows(column, field, problems, pc.is_null, "a value (not null)")
    low, high = BOUNDS.get(name, (None, None))
    if name in CHOICES:
        choices = pa.array(CHOICES[name])
        _rows(column, field, problems, lambda c: pc.invert(pc.is_in(c, value_set=choices)),
              f"one of {', '.join(CHOICES[name])}")
    elif pa.types.is_string(t):
        if not (_within(pc.utf8_length(column), 1, TEXT_MAX) and not pc.match_substring(column, "\x00").true_count):
            _rows(column, field, problems,
                  lambda c: pc.or_(pc.or_(pc.less(pc.utf8_length(c), 1), pc.greater(pc.utf8_length(c), TEXT_MAX)),
                                   pc.match_substring(c, "\x00")),
                  f"text of 1 to {TEXT_MAX} characters without NUL")
    elif pa.types.is_timestamp(t) or pa.types.is_date(t):
        early, late = (EARLIEST, LATEST) if pa.types.is_timestamp(t) else (EARLIEST.date(), LATEST.date())
        if not _within(column, early, late, high_open=True):
            start, end = pa.scalar(early, t), pa.scalar(late, t)
            _rows(column, field, problems, lambda c: pc.or_(pc.less(c, start), pc.greater_equal(c, end)),
                  f"a {'time' if pa.types.is_timestamp(t) else 'date'} from {EARLIEST.date()} to before "
                  f"{LATEST.date()}")
    elif (pa.types.is_floating(t) or pa.types.is_decimal(t)) and (low is not None or high is not None):
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        if not _within(column.cast(pa.float64()), lo, hi):
            _rows(column, field, problems,
                  lambda c: pc.or_(pc.less(c.cast(pa.float64()), lo), pc.greater(c.cast(pa.float64()), hi)),
                  f"a number from {lo:g} to {hi:g}")


def _within(values: pa.Array, low: Any, high: Any, high_open: bool = False) -> bool:
    """Whether every value (nulls aside) lies in [low, high], or [low, high) when high_open: one pass, and the
    usual answer, before the row-by-row check that names the rows."""
    span = pc.min_max(values)
    least, most = span["min"].as_py(), span["max"].as_py()
    return least is None or (least >= low and (most < high if high_open else most <= high))


class Problems(list[Problem]):
    """Problems found, and how many more rows were bad beyond those listed (at most MAX_PROBLEMS a check)."""

    unlisted = 0

    def reported(self) -> list[Problem]:
        """At most MAX_PROBLEMS, then one line counting the rest."""
        more = len(self) - MAX_PROBLEMS + self.unlisted
        if more <= 0:
            return list(self)
        return [*self[:MAX_PROBLEMS], Problem("$", f"{more} more", "the problems above fixed first")]


def _rows(column: pa.Array, field: pa.Field, problems: Problems, bad: _Check, expected: str) -> bool:
    """A problem for each row where `bad` holds (nulls are judged by the null check alone); whether there were."""
    mask = bad(column)
    if not mask.true_count:  # the usual case, in one pass and no copy (a null is not true)
        return False
    rows = np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))
    problems.unlisted += max(0, len(rows) - MAX_PROBLEMS)
    for i in rows[:MAX_PROBLEMS].tolist():
        problems.append(Problem(f"$.transactions[{i}].{field.name}", column[i].as_py(), expected))
    return True


def scores_table(ids: pa.Array | pa.ChunkedArray, scored: Scored, scored_at_us: int, elapsed_ms: float,
                 x: np.ndarray | None = None) -> pa.Table:
    """The scores of a batch as Arrow, rows in request order; with x, the 69 features as columns too."""
    table = scored.table(ids, scored_at_us)
    table = table.append_column(SCORE_SCHEMA.field("processing_time_ms"), pa.array(np.full(len(scored), elapsed_ms)))
    if x is not None:
        for j, name in enumerate(FEATURE_NAMES):
            table = table.append_column(f"features.{name}", pa.array(x[:, j], from_pandas=True))  # NaN -> null
    return table


def to_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())
