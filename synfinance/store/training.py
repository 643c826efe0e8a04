"""What the service stored, as a model can learn from it: features and the labels fed back by a cut-off.

    table = await labelled_since(conn, since, until, labels_until)
    # transaction_id, ts_us, amount_inr, is_fraud, fraud_type and the 69 features, in time order

Only transactions whose label feedback had arrived by `labels_until` are returned: a label not yet fed back is not
known then, and the transaction is left out (not taken as legitimate). Read with one COPY into Arrow (no row loop).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from synfinance.schema import FEATURE_NAMES
from synfinance.store.connect import quote_ident

LABELLED = """
SELECT t.transaction_id, (extract(epoch FROM t.timestamp) * 1000000)::bigint AS ts_us,
       t.amount_inr::float8 AS amount_inr, fb.is_fraud, fb.fraud_type, {features}
FROM feedback fb
JOIN transactions t USING (transaction_id)
JOIN features f USING (transaction_id)
WHERE fb.received_at <= $3 AND t.timestamp >= $1 AND t.timestamp < $2
ORDER BY t.timestamp, t.transaction_id
"""
COLUMNS = pa.schema([pa.field("transaction_id", pa.string()), pa.field("ts_us", pa.int64()),
                     pa.field("amount_inr", pa.float64()), pa.field("is_fraud", pa.bool_()),
                     pa.field("fraud_type", pa.string()),
                     *(pa.field(name, pa.float64()) for name in FEATURE_NAMES)])


async def labelled_since(conn: Any, since: dt.datetime, until: dt.datetime, labels_until: dt.datetime) -> pa.Table:
    """Stored transactions with since <= timestamp < until whose feedback was received by labels_until."""
    query = LABELLED.format(features=", ".join(f"f.{quote_ident(n)}" for n in FEATURE_NAMES))
    buffer = io.BytesIO()
    await conn.copy_from_query(query, since, until, labels_until, output=buffer, format="csv")
    if not buffer.getbuffer().nbytes:
        return COLUMNS.empty_table()
    buffer.seek(0)
    return pacsv.read_csv(buffer, read_options=pacsv.ReadOptions(column_names=COLUMNS.names),
                          convert_options=pacsv.ConvertOptions(
                              column_types=COLUMNS, true_values=["t"], false_values=["f"], null_values=[""],
                              strings_can_be_null=True, quoted_strings_can_be_null=False))
