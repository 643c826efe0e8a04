"""Predictions as PostgreSQL stores them: PREDICTION_SCHEMA with the reasons as JSON text (a jsonb column)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from synfinance.output.jsonl import json_objects
from synfinance.schema import PREDICTION_SCHEMA


def stored_predictions(predictions: pa.Table) -> pa.Table:
    """The same rows with `reasons` encoded as JSON text, column by column (no Python loop per row)."""
    reasons = predictions.column("reasons").combine_chunks()
    as_json = json_objects({"r": reasons})  # {"r":[...]}: the list's JSON between the 5th and the last character
    text = pc.utf8_slice_codeunits(as_json, 5, -1)
    return predictions.set_column(PREDICTION_SCHEMA.get_field_index("reasons"), "reasons", text)
