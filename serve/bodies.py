"""What a request's body becomes before a route uses it: a batch as columns, its size and ids checked, a body
read ahead handed on again."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError as PydanticError
from starlette.types import Message, Receive

from serve.columnar import ARROW_STREAM, read_batch
from serve.edge import media_type
from serve.schemas import MAX_BATCH, Transactions
from synfinance.errors import Problem, TooLarge, ValidationError
from synfinance.features.inputs import INPUT_COLUMNS, INPUT_SCHEMA
from synfinance.observability import metrics


def replayed(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the already-read body first, then whatever the connection says next."""
    given = [False]

    async def again() -> Message:
        if not given[0]:
            given[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def within_limit(rows: list[Any]) -> list[Any]:
    """The rows of a request, or TooLarge (413) naming the limit."""
    if len(rows) > MAX_BATCH:
        raise TooLarge(f"{len(rows):,} transactions in one request; the limit is {MAX_BATCH:,}")
    return rows


async def batch_table(request: Request) -> tuple[pa.Table, np.ndarray | bool]:
    """A batch body as INPUT_SCHEMA columns (an Arrow IPC stream, or JSON checked by the Transactions model), and
    where its festival was given (null then means none; synfinance.features.reference): an Arrow body's column is
    given whole or not at all, a JSON row's field row by row."""
    raw = await request.body()
    if media_type(request.headers.get("content-type", "")) == ARROW_STREAM:
        table = read_batch(raw)
        return table, "festival" in pa.ipc.open_stream(pa.py_buffer(raw)).schema.names
    try:
        batch = Transactions.model_validate_json(raw)
    except PydanticError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) \
            from None
    rows = within_limit(batch.transactions)
    metrics.BATCH_SIZE.labels("/v1/score/batch").observe(len(rows))
    table = pa.Table.from_pydict({n: [getattr(r, n) for r in rows] for n in INPUT_COLUMNS}, schema=INPUT_SCHEMA)
    return table, np.array([("festival" in r.model_fields_set) for r in rows], bool)


BATCH_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": Transactions.model_json_schema(ref_template="#/components/schemas/{model}")},
    ARROW_STREAM: {"schema": {"type": "string", "format": "binary",
                              "description": "An Arrow IPC stream with the TransactionIn columns."}}}}}


def no_repeats(ids: list[str], field: str = "transactions") -> None:
    """ValidationError naming every transaction id repeated in one request (where it was first)."""
    seen: dict[str, int] = {}
    problems = []
    for i, tid in enumerate(ids):
        if tid in seen:
            problems.append(Problem(f"$.{field}[{i}].transaction_id", tid,
                                    f"an id not used earlier in this request ({field}[{seen[tid]}] has it)"))
        seen.setdefault(tid, i)
    if problems:
        raise ValidationError(problems)
