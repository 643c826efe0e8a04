"""A stored raw event's behavioural context, as the generator defines it, from what the database holds.

time_since_last_txn_s, is_first_txn_with_merchant, daily_txn_count and daily_txn_amount_inr are the customer's
history (synfinance.generation.context): the generator computes them over a customer's transactions in time order.
For records sent to POST /v1/transactions they are computed over the transactions stored before each one's time
and the request's own earlier rows: a customer's transactions stored one request after another, in time order,
get the generator's values. Requests for the same customer are stored one at a time: the storing transaction
holds an advisory lock per customer (taken in one order, so two requests sharing customers cannot deadlock), and
the second request's rows are derived over the first's once it committed.

A supplied value is used as given; an absent or null one is derived, except the gap's, where null is a value (a
customer's first transaction) and only rows marked in `gap_derived` get it derived.

    txns = await with_behaviour(conn, txns, gap_derived)   # inside the storing transaction
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.errors import ValidationError
from synfinance.generation.context import customer_context
from synfinance.schema import amounts_from_paise, paise_from_amounts

MAX_PAISE = 10**14 - 1  # numeric(14,2): what daily_txn_amount_inr can hold
BEHAVIOUR = ("time_since_last_txn_s", "is_first_txn_with_merchant", "daily_txn_count", "daily_txn_amount_inr")

# Per row: the customer's last stored time before it, whether the customer paid the merchant before it, and the
# count and paise of the customer's stored transactions earlier on its IST day (a day is at most 24 h before).
_BEFORE = """
SELECT r.i,
       (SELECT t.timestamp FROM transactions t WHERE t.customer_id = r.c AND t.timestamp < r.ts
        ORDER BY t.timestamp DESC LIMIT 1) AS last_ts,
       EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = r.c AND t.merchant_id = r.m
               AND t.timestamp < r.ts) AS seen,
       d.n, d.paise
FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[], $5::date[]) AS r(i, c, m, ts, day)
CROSS JOIN LATERAL (
    SELECT count(*) AS n, coalesce(sum(t.amount_inr), 0) * 100 AS paise FROM transactions t
    WHERE t.customer_id = r.c AND t.timestamp < r.ts AND t.timestamp >= r.ts - interval '1 day'
      AND t.local_date = r.day) AS d
ORDER BY r.i
"""


LOCK_SPACE = 0x5F1B  # the first key of the (int, int) advisory locks that order one customer's writers
# Until the transaction ends: one lock per customer, in a single order (a subquery's ORDER BY: the outer query has
# no sort that could evaluate the locks first).
_LOCK = f"""
SELECT pg_advisory_xact_lock({LOCK_SPACE}, h)
FROM (SELECT DISTINCT hashtext(c) AS h FROM unnest($1::text[]) AS c ORDER BY 1) AS keys
"""


def needs_behaviour(txns: pa.Table, gap_derived: np.ndarray) -> bool:
    return bool(gap_derived.any()) or any(txns.column(n).null_count for n in BEHAVIOUR[1:])


async def with_behaviour(conn: Any, txns: pa.Table, gap_derived: np.ndarray) -> pa.Table:
    """The records with their behavioural columns filled where not given (see the module's doc)."""
    if not txns.num_rows or not needs_behaviour(txns, gap_derived):
        return txns
    await conn.execute(_LOCK, txns.column("customer_id").to_pylist())  # a concurrent writer's rows: seen, or waiting
    n = txns.num_rows
    ts = txns.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy()
    day = txns.column("local_date").combine_chunks().cast(pa.int32()).to_numpy().astype(np.int64)
    rows = await conn.fetch(_BEFORE, list(range(n)), txns.column("customer_id").to_pylist(),
                            txns.column("merchant_id").to_pylist(), txns.column("timestamp").to_pylist(),
                            txns.column("local_date").to_pylist())
    last = pa.array([r["last_ts"] for r in rows], pa.timestamp("us", "UTC"))
    stored_last = pc.fill_null(last.cast(pa.int64()), np.iinfo(np.int64).min).to_numpy()
    seen = np.array([r["seen"] for r in rows], bool)
    stored_count = np.array([r["n"] for r in rows], np.int64)
    stored_paise = np.array([int(r["paise"]) for r in rows], np.int64)
    # the request's own rows, in time order (ties: request order), each customer's history within it
    order = np.lexsort((np.arange(n), ts))
    customer = pc.dictionary_encode(txns.column("customer_id")).combine_chunks().indices.to_numpy()
    merchant = pc.dictionary_encode(txns.column("merchant_id")).combine_chunks().indices.to_numpy()
    paise = paise_from_amounts(txns.column("amount_inr"))
    ctx = customer_context(customer[order], ts[order], day[order], merchant[order], paise[order])
    back = np.empty(n, np.int64)
    back[order] = np.arange(n)
    none = np.iinfo(np.int64).min
    gap_s = ctx.time_since_last_s[back]  # to the customer's previous row in the request (whole µs: rint is exact)
    in_request = np.where(np.isnan(gap_s), none, ts - np.rint(np.nan_to_num(gap_s) * 1e6).astype(np.int64))
    previous = np.maximum(in_request, stored_last)
    first_ever = previous == none
    day_paise = stored_paise + ctx.daily_paise[back]
    wanted = txns.column("daily_txn_amount_inr").is_null().to_numpy(zero_copy_only=False)
    if (over := np.flatnonzero(wanted & (day_paise > MAX_PAISE))).size:
        i = int(over[0])
        raise ValidationError.single(f"$.transactions[{i}].amount_inr", str(txns.column("amount_inr")[i].as_py()),
                                     f"a customer's spend on one IST day of at most {MAX_PAISE // 100:,}.99 INR "
                                     f"(daily_txn_amount_inr: {day_paise[i] // 100:,}.{day_paise[i] % 100:02d})")
    derived = {
        "time_since_last_txn_s": pa.array((ts - np.where(first_ever, ts, previous)) / 1e6, mask=first_ever),
        "is_first_txn_with_merchant": pa.array(ctx.first_with_merchant[back] & ~seen),
        "daily_txn_count": pa.array((stored_count + ctx.daily_count[back]).astype(np.int32)),
        "daily_txn_amount_inr": amounts_from_paise(np.minimum(day_paise, MAX_PAISE)),  # given where over
    }
    gap_given = txns.column("time_since_last_txn_s").combine_chunks()
    derived["time_since_last_txn_s"] = pc.if_else(pa.array(gap_derived), derived["time_since_last_txn_s"], gap_given)
    for name, values in derived.items():
        field = txns.schema.field(name)
        if name != "time_since_last_txn_s":
            values = pc.coalesce(txns.column(name).combine_chunks(), values.cast(field.type))
        txns = txns.set_column(txns.schema.get_field_index(name), field, values.cast(field.type))
    return txns
