"""Label consistency: a labelled row names its type, severity, confidence and evidence (a JSON object), an
unlabelled row none of them, and every value is one the catalogue knows."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.world.catalogue import NAMES
from synfinance.world.frame import SEVERITIES

PARSED = 1_000  # evidence strings parsed as JSON per kind (all of them are checked for the braces of an object)


class LabelsValidator(Validator):
    name = "labels"
    summary = "Evidence JSON on every labelled row and on no other; label values from the catalogue."

    def _check(self, data: Dataset, found: Found) -> None:
        names = data.transactions.column_names
        for kind in ("fraud", "anomaly"):
            fields = [f"{kind}_{part}" for part in ("type", "severity", "confidence", "evidence")]
            if f"is_{kind}" not in names or any(f not in names for f in fields):
                continue
            flag = data.column(f"is_{kind}")
            for field in fields:
                present = data.transactions.column(field).is_valid().to_numpy(zero_copy_only=False)
                if (gap := flag & ~present).any():
                    found.violation("error", f"{int(gap.sum()):,} {kind} rows have no {field}", f"every {kind} row "
                                    f"says its {field.split('_', 1)[1]}", field=field, rows=gap)
                if (stray := ~flag & present).any():
                    found.violation("error", f"{int(stray.sum()):,} rows not labelled {kind} carry a {field}",
                                    f"only {kind} rows carry {field}", field=field, rows=stray)
            for field, domain in ((f"{kind}_type", NAMES[kind]), (f"{kind}_severity", SEVERITIES)):
                unknown_rows = data.outside(field, domain)
                if unknown_rows.any():
                    found.violation("error", f"{field} has {int(unknown_rows.sum()):,} values the catalogue does "
                                    "not know", f"one of {', '.join(domain[:6])} ...", field=field, rows=unknown_rows)
            confidence = data.column(f"{kind}_confidence").astype(np.float64)
            if (outside := (confidence < 0) | (confidence > 1)).any():
                found.violation("error", f"{kind}_confidence is outside 0-1 in {int(outside.sum()):,} rows",
                                "a confidence is between 0 and 1", field=f"{kind}_confidence", rows=outside)
            self._evidence(data, found, f"{kind}_evidence")

    def _evidence(self, data: Dataset, found: Found, field: str) -> None:
        text = pc.utf8_trim_whitespace(data.transactions.column(field))
        shaped = pc.and_(pc.starts_with(text, "{"), pc.ends_with(text, "}"))
        wrong = pc.invert(shaped).fill_null(False).to_numpy(zero_copy_only=False)
        given = np.flatnonzero(text.is_valid().to_numpy(zero_copy_only=False) & ~wrong)
        unreadable = []
        for i, value in zip(given[:PARSED], text.take(pa.array(given[:PARSED])).to_pylist(), strict=True):
            try:
                if not isinstance(json.loads(value), dict):
                    unreadable.append(i)
            except ValueError:
                unreadable.append(i)
        wrong[np.asarray(unreadable, dtype=np.int64)] = True
        if wrong.any():
            found.violation("error", f"{field} is not a JSON object in {int(wrong.sum()):,} rows", "evidence is "
                            "compact JSON of the signals behind the label", field=field, rows=wrong)
