"""Taking back what a batch did to the online state, when what it was computed for is not kept.

POST /v1/transactions computes a request's features (the state advances) before the database stores it; if the
store fails, the rows do not exist, and the state must not count them. `Undo.before` copies the state rows the
batch will change (its customers', merchants', devices' and cities' slots), `seal` copies them as the batch left
them, and `apply` puts back the earlier copy of every row still as the batch left it. A row changed since by
another request keeps that change (the batch's part in it stays: an exact undo would have to replay the other
request): `apply` says how many rows it restored and kept.

    undo = Undo.before(extractor, table)
    x = shard.many(table)
    undo.seal()
    ...
    restored, kept = undo.apply()
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from synfinance.features.extractor import FeatureExtractor
from synfinance.features.state import Keyed


@dataclass
class _Rows:
    keyed: Keyed
    slots: np.ndarray
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray] = field(default_factory=dict)

    def copy(self) -> dict[str, np.ndarray]:
        return {name: self.keyed[name][self.slots].copy() for name in self.keyed.columns}


@dataclass
class Undo:
    parts: list[_Rows]

    @classmethod
    def before(cls, extractor: FeatureExtractor, table: pa.Table) -> Undo:
        """The rows of the state that features of `table` will change, as they are now."""
        parts = []
        for _, keyed, column in extractor.keyed():
            slots = keyed.slots(table.column(column))
            rows = _Rows(keyed, np.unique(slots[slots >= 0]), {})
            rows.before = rows.copy()
            parts.append(rows)
        return cls(parts)

    def seal(self) -> None:
        """The same rows as the batch left them."""
        for rows in self.parts:
            rows.after = rows.copy()

    def apply(self) -> tuple[int, int]:
        """Rows restored (still as the batch left them) and rows kept (changed since)."""
        restored = kept = 0
        for rows in self.parts:
            if not len(rows.slots):
                continue
            same = np.ones(len(rows.slots), bool)
            for name, after in rows.after.items():
                now = rows.keyed[name][rows.slots]
                equal = (now == after) | (np.isnan(now) & np.isnan(after)) if now.dtype.kind == "f" else now == after
                same &= equal.reshape(len(rows.slots), -1).all(axis=1)
            back = rows.slots[same]
            for name, before in rows.before.items():
                rows.keyed[name][back] = before[same]
            restored += int(same.sum())
            kept += int((~same).sum())
        return restored, kept
