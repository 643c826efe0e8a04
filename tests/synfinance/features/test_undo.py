"""A batch's change to the online state taken back (synfinance.features.undo): the state is as before it, except
rows another batch changed since, which keep that change."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.features.extractor import FeatureExtractor
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.state import Keyed
from synfinance.features.undo import Undo


def state_of(extractor: FeatureExtractor) -> list[dict[str, np.ndarray]]:
    return [{name: keyed[name][:len(keyed)].copy() for name in keyed.columns} for _, keyed, _ in extractor.keyed()]


def same_state(a: list[dict[str, np.ndarray]], b: list[dict[str, np.ndarray]]) -> bool:
    return all(x.keys() == y.keys() and all(np.array_equal(x[n][:len(y[n])], y[n], equal_nan=x[n].dtype.kind == "f")
                                            for n in y) for x, y in zip(a, b, strict=True))


def customer_row(keyed: Keyed, key: str) -> dict[str, np.ndarray]:
    slot = keyed.slot(key)
    return {name: keyed[name][slot].copy() for name in keyed.columns}


def test_an_undone_batch_leaves_the_state_as_before_it(txns: pa.Table) -> None:
    table = txns.select(list(INPUT_COLUMNS)).sort_by([("timestamp", "ascending")])
    extractor = FeatureExtractor()
    extractor.extract(table.slice(0, 20_000))
    before = state_of(extractor)
    batch = table.slice(20_000, 500)
    undo = Undo.before(extractor, batch)
    extractor.extract(batch)
    undo.seal()
    assert not same_state(state_of(extractor), before)  # the batch changed it
    restored, kept = undo.apply()
    assert same_state(state_of(extractor), before) and kept == 0 and restored > 500


def test_a_row_changed_by_a_later_batch_keeps_that_change(txns: pa.Table) -> None:
    table = txns.select(list(INPUT_COLUMNS)).sort_by([("timestamp", "ascending")])
    extractor = FeatureExtractor()
    extractor.extract(table.slice(0, 20_000))
    batch = table.slice(20_000, 200)
    undo = Undo.before(extractor, batch)
    extractor.extract(batch)
    undo.seal()
    one = batch.column("customer_id")[0].as_py()
    later = table.slice(20_200).filter(pc.equal(table.slice(20_200).column("customer_id"), one)).slice(0, 1)
    assert later.num_rows == 1
    extractor.extract(later)  # another request for the same customer, after the batch
    changed = customer_row(extractor.state.customers, one)
    _, kept = undo.apply()
    assert kept >= 1
    after = customer_row(extractor.state.customers, one)
    assert all(np.array_equal(after[n], changed[n], equal_nan=after[n].dtype.kind == "f") for n in after)
