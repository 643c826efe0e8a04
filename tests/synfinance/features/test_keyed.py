"""Keyed: a slot per key, new keys in order of first appearance, null keys nowhere."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.features.state import Keyed, customer_columns


def test_slots_of_a_batch_are_the_one_by_one_slots_with_nulls_at_minus_one() -> None:
    batched, single = Keyed(customer_columns()), Keyed(customer_columns())
    batches = [pa.chunked_array([["b", None, "a"], ["b", "c"]]), pa.array([], pa.string()),
               pa.array([None, None], pa.string()), pa.array(["c", "d", None, "a", "e", "d"])]
    for keys in batches:
        expected = [single.slot(k) for k in keys.to_pylist()]
        assert batched.slots(keys).tolist() == expected and batched.slots(keys).dtype == np.int64
    assert batched.ids == single.ids == ["b", "a", "c", "d", "e"]
    assert all(len(a) >= len(batched.ids) for a in batched.arrays.values())  # grown with the keys


def test_many_new_keys_grow_every_array_and_keep_their_slots() -> None:
    keyed = Keyed(customer_columns())
    keys = pa.array([f"C{i % 700:04d}" for i in range(2_000)])
    slots = keyed.slots(keys)
    assert slots.tolist() == [i % 700 for i in range(2_000)] and len(keyed) == 700
    assert keyed.slots(pa.array(["C0699", "C0000", "new"])).tolist() == [699, 0, 700]
    assert all(len(a) >= 701 for a in keyed.arrays.values())
