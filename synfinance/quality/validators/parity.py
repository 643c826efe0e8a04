"""Online/offline parity: transactions replayed one at a time through the online path (the code the scoring
endpoint runs) get the features the dataset holds for them.

The probe is `parity_rows` consecutive transactions of the first part (one generation shard: its merchants'
and devices' state is the part's own), starting a tenth of the way in, after the part's earlier rows have been
replayed in a batch; offline features of a row depend only on the rows before it.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from synfinance.errors import SchemaError
from synfinance.features.extractor import FeatureExtractor
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.online import feature_vector
from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset
from synfinance.schema import FEATURE_NAMES


class ParityValidator(Validator):
    name = "parity"
    summary = "Features recomputed online, one transaction at a time, equal the dataset's offline features."
    needs = ("features",)

    def _check(self, data: Dataset, found: Found) -> None:
        rows, n = data.first_part_rows, data.config.parity_rows
        if rows < 2 or any(c not in data.transactions.column_names for c in INPUT_COLUMNS):
            return
        n = min(n, rows - 1)
        start = max(1, min(rows // 10, rows - n))
        part = data.transactions.slice(0, start + n).select(list(INPUT_COLUMNS))
        extractor = FeatureExtractor()
        try:
            extractor.extract(part.slice(0, start), where="parity history")
            online = np.array([feature_vector(extractor.extract_one(row)) for row in part.slice(start).to_pylist()])
        except SchemaError as exc:
            found.violation("error", f"the online path refused the dataset's own transactions: {exc}",
                            "fix the rows the temporal and schema checks name first")
            return
        window = data.table("features").slice(start, n)  # converted alone: a million-row column costs nothing here
        offline = np.column_stack([pc.fill_null(window.column(name), np.nan).to_numpy() for name in FEATURE_NAMES])
        both_empty = np.isnan(online) & np.isnan(offline)
        gap = np.where(both_empty, 0.0, np.abs(online - offline) / np.maximum(1.0, np.abs(offline)))
        gap = np.where(np.isnan(gap), np.inf, gap)  # one side empty, the other not
        worst = float(gap.max()) if gap.size else 0.0
        found.metric("parity_rows", n)
        found.metric("parity_max_difference", worst if np.isfinite(worst) else "empty on one side")
        wrong_rows = (gap > data.config.parity_tolerance).any(axis=1)
        if wrong_rows.any():
            columns = [FEATURE_NAMES[j] for j in np.flatnonzero((gap > data.config.parity_tolerance).any(axis=0))]
            found.violation("critical", f"{int(wrong_rows.sum())} of {n} transactions get other features online "
                            f"than offline ({', '.join(columns[:5])}{' ...' if len(columns) > 5 else ''})",
                            "online and offline must run the same code on the same history; regenerate the "
                            "features with this version", field=columns[0],
                            rows=np.flatnonzero(wrong_rows) + start)


