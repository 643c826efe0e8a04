"""Online equals offline; labels cannot change a feature; state is bounded, restorable and deterministic."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synfinance
from synfinance.errors import SchemaError
from synfinance.features.extractor import FeatureExtractor
from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.state import FeatureState
from synfinance.schema import FEATURE_NAMES, FEATURE_TABLE_SCHEMA, LABEL_FIELDS


@pytest.fixture(scope="module")
def twenty_k() -> pa.Table:
    return synfinance.generate(count=20_000, seed=5, customers=200)


def as_matrix(table: pa.Table) -> np.ndarray:
    return np.column_stack([table.column(n).to_numpy(zero_copy_only=False).astype(float) for n in FEATURE_NAMES])


def test_offline_equals_online_one_by_one(twenty_k: pa.Table) -> None:
    offline = as_matrix(FeatureExtractor().extract(twenty_k))
    online = FeatureExtractor()
    rows = [online.extract_one(r) for r in twenty_k.select(list(INPUT_COLUMNS)).to_pylist()]
    one_by_one = np.array([[np.nan if r[n] is None else r[n] for n in FEATURE_NAMES] for r in rows])
    assert offline.shape == (20_000, 69)
    np.testing.assert_allclose(one_by_one, offline, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert np.isfinite(offline).mean() > 0.95  # the comparison is about numbers, not mostly-null columns


def test_rows_taken_together_equal_one_after_another(twenty_k: pa.Table) -> None:
    """extract_rows (the API's coalesced single scores) on lists that interleave customers out of global time
    order, with a malformed row and one older than its customer's last (earlier in the same list), equals
    extract_one row by row: the same features, the same refusals, the same state after."""
    rows = twenty_k.select(list(INPUT_COLUMNS)).to_pylist()
    rest = rows[10_000:12_000]
    by_customer: dict[str, list[dict[str, object]]] = {}
    for row in rest:
        by_customer.setdefault(str(row["customer_id"]), []).append(row)
    queues = list(by_customer.values())
    rng = np.random.default_rng(3)
    arrival = []  # each customer's rows in order, customers interleaved at random: not in global time order
    while queues:
        queue = queues[rng.integers(len(queues))]
        arrival.append(queue.pop(0))
        queues = [q for q in queues if q]
    arrival[2:2] = [{**arrival[3], "transaction_id": "bad", "amount_inr": "lots"}]
    # in the same list as the row it follows, a second before it: older than its customer's last
    second = dt.timedelta(seconds=1)
    arrival[6:6] = [{**arrival[5], "transaction_id": "stale", "timestamp": arrival[5]["timestamp"] - second}]
    assert any(r["timestamp"] > s["timestamp"] for r, s in zip(arrival, arrival[1:], strict=False))
    one, together = FeatureExtractor(), FeatureExtractor()
    one.extract(twenty_k.slice(0, 10_000))
    together.extract(twenty_k.slice(0, 10_000))
    expected: list[object] = []
    for row in arrival:
        try:
            expected.append(np.array([np.nan if v is None else v for v in one.extract_one(row).values()]))
        except SchemaError as exc:
            expected.append(str(exc))
    found = [x for i in range(0, len(arrival), 7) for x in together.extract_rows(arrival[i:i + 7])]
    assert [str(x) for x in found if isinstance(x, SchemaError)] == [x for x in expected if isinstance(x, str)]
    assert [i for i, x in enumerate(found) if isinstance(x, SchemaError)] == [2, 6]
    np.testing.assert_allclose(np.array([x for x in found if not isinstance(x, SchemaError)]),
                               np.array([x for x in expected if not isinstance(x, str)]),
                               rtol=1e-9, atol=1e-9, equal_nan=True)
    for name, array in one.state.customers.arrays.items():
        np.testing.assert_allclose(together.state.customers.arrays[name], array, rtol=1e-9, equal_nan=True)


def test_features_never_read_labels(twenty_k: pa.Table) -> None:
    rng = np.random.default_rng(0)
    shuffled = twenty_k
    for name in LABEL_FIELDS:
        column = twenty_k.column(name).combine_chunks()
        shuffled = shuffled.set_column(
            shuffled.schema.get_field_index(name), name, column.take(pa.array(rng.permutation(len(column))))
        )
    assert not shuffled.column("is_fraud").equals(twenty_k.column("is_fraud"))
    assert FeatureExtractor().extract(shuffled).equals(FeatureExtractor().extract(twenty_k))


def test_batch_size_does_not_change_features(twenty_k: pa.Table) -> None:
    whole = FeatureExtractor().extract(twenty_k)
    chunked = FeatureExtractor(chunk_rows=777).extract(twenty_k)
    np.testing.assert_allclose(as_matrix(chunked), as_matrix(whole), rtol=1e-9, atol=1e-9, equal_nan=True)


def test_the_matrix_is_the_table_without_arrow(twenty_k: pa.Table) -> None:
    """What scoring takes (FeatureExtractor.matrix) holds exactly extract's values, chunked or not, missing as NaN."""
    table = as_matrix(FeatureExtractor().extract(twenty_k))
    for chunk_rows in (777, 32_768):
        matrix = FeatureExtractor(chunk_rows=chunk_rows).matrix(twenty_k)
        assert matrix.dtype == np.float64 and matrix.shape == table.shape
        np.testing.assert_array_equal(matrix, table)  # NaN where the table is null
    assert np.isnan(table).any()
    assert FeatureExtractor().matrix(twenty_k.slice(0, 0)).shape == (0, 69)


def test_snapshot_and_restore_continue_exactly(twenty_k: pa.Table, tmp_path: Path) -> None:
    whole = FeatureExtractor().extract(twenty_k)
    first = FeatureExtractor()
    head = first.extract(twenty_k.slice(0, 12_000))
    first.state.snapshot(tmp_path / "state")
    resumed = FeatureExtractor(FeatureState.restore(tmp_path / "state"))
    tail = resumed.extract(twenty_k.slice(12_000))
    np.testing.assert_array_equal(as_matrix(pa.concat_tables([head, tail])), as_matrix(whole))


def test_state_grows_with_customers_not_transactions() -> None:
    small = synfinance.generate(count=20_000, seed=9, customers=150, days=30)
    large = synfinance.generate(count=80_000, seed=9, customers=150, days=30)
    a, b = FeatureExtractor(), FeatureExtractor()
    a.extract(small)
    b.extract(large)
    assert len(a.state.customers) == len(b.state.customers) == 150
    per_customer = b.state.nbytes() / (len(b.state.customers) + len(b.state.merchants) + len(b.state.devices))
    assert per_customer < 4_000  # bytes per key: rings and aggregates only
    assert b.state.nbytes() <= 2 * a.state.nbytes()  # 4x the transactions, not 4x the memory


def test_same_input_same_bytes(twenty_k: pa.Table, tmp_path: Path) -> None:
    digests = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(FeatureExtractor().extract(twenty_k), path)
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    assert FeatureExtractor().extract(twenty_k).schema.equals(FEATURE_TABLE_SCHEMA, check_metadata=True)
