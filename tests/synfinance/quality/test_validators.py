"""Each validator flags its own defect, injected into a clean dataset, and stays quiet on the clean one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from synfinance.quality.base import REGISTRY
from synfinance.quality.data import Dataset
from synfinance.quality.profile import profile
from synfinance.quality.validators import validators

Tables = dict[str, pa.Table]
Defect = Callable[[Tables], Tables]


def _set(table: pa.Table, name: str, values: pa.Array | np.ndarray | list[object]) -> pa.Table:
    field = table.schema.field(name)
    return table.set_column(table.column_names.index(name), field, pa.array(values, field.type))


def _at(table: pa.Table, name: str, rows: np.ndarray, value: object) -> pa.Table:
    """The column with `value` at `rows`."""
    values = table.column(name).to_pylist()
    for i in rows:
        values[i] = value
    return _set(table, name, values)


def _fraud_rows(t: Tables) -> np.ndarray:
    return np.flatnonzero(t["transactions"].column("is_fraud").to_numpy(zero_copy_only=False))


def _half_the_frauds_unlabelled(t: Tables) -> Tables:
    txns, rows = t["transactions"], _fraud_rows(t)[::2]
    txns = _at(txns, "is_fraud", rows, False)
    for part in ("type", "severity", "confidence", "evidence"):
        txns = _at(txns, f"fraud_{part}", rows, None)
    return {**t, "transactions": txns}


def _one_customer_backwards(t: Tables) -> Tables:
    txns = t["transactions"]
    customer = txns.column("customer_id").to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(customer == customer[0])
    order = np.arange(txns.num_rows)
    order[rows] = rows[::-1]  # the customer's rows newest first, each row's own fields intact
    return {**t, "transactions": txns.take(pa.array(order)), "features": t["features"].take(pa.array(order))}


def _night_owls(t: Tables) -> Tables:
    txns = t["transactions"]
    return {**t, "transactions": _at(txns, "local_hour", np.arange(0, txns.num_rows, 4), 3)}


def _twin_features(t: Tables) -> Tables:
    f = t["features"]
    return {**t, "features": _set(f, "txn_count_1h", pc.multiply(f.column("amount_sum_1h"), 2.0).combine_chunks())}


def _constant_feature(t: Tables) -> Tables:
    f = t["features"]
    return {**t, "features": _set(f, "hour_of_day", np.full(f.num_rows, 5.0))}


def _amounts_tripled(t: Tables) -> Tables:
    txns = t["transactions"]
    amounts = pc.multiply(pc.cast(txns.column("amount_inr"), pa.float64()), 3.0)
    return {**t, "transactions": _set(txns, "amount_inr", pc.cast(pc.round(amounts, 2), pa.decimal128(14, 2)))}


def _parity_window_shifted(t: Tables) -> Tables:
    f = t["features"]
    values = f.column("amount_zscore").to_numpy(zero_copy_only=False).copy()
    values[: f.num_rows] += 1.0  # every row, the parity probe's window among them
    return {**t, "features": _set(f, "amount_zscore", values)}


# validator -> (the field its violation names, the defect)
CASES: dict[str, tuple[str, Defect]] = {
    "schema": ("local_hour", lambda t: {**t, "transactions": t["transactions"].set_column(
        t["transactions"].column_names.index("local_hour"), "local_hour",
        pc.cast(t["transactions"].column("local_hour"), pa.int32()))}),
    "missing": ("merchant_id", lambda t: {**t, "transactions": _at(t["transactions"], "merchant_id",
                                                                   np.arange(10), None)}),
    "ranges": ("latitude", lambda t: {**t, "transactions": _at(t["transactions"], "latitude", np.arange(5), 51.5)}),
    "uniqueness": ("transaction_id", lambda t: {**t, "transactions": _at(
        t["transactions"], "transaction_id", np.array([2]), t["transactions"].column("transaction_id")[1].as_py())}),
    "temporal": ("timestamp", _one_customer_backwards),
    "referential": ("merchant_id", lambda t: {**t, "transactions": _at(t["transactions"], "merchant_id",
                                                                       np.arange(5), "MER_XXX_YYY_999")}),
    "business": ("is_fraud", _half_the_frauds_unlabelled),
    "statistical": ("local_hour", _night_owls),
    "correlation": ("txn_count_1h", _twin_features),
    "variance": ("hour_of_day", _constant_feature),
    "labels": ("fraud_evidence", lambda t: {**t, "transactions": _at(t["transactions"], "fraud_evidence",
                                                                      _fraud_rows(t)[:3], "not json")}),
    "drift": ("amount_inr", _amounts_tripled),
    "calibration": ("amount_inr", _amounts_tripled),  # tickets three times the published ones
    "parity": ("amount_zscore", _parity_window_shifted),
}


@pytest.fixture(scope="module")
def clean(quality_dir: Path) -> Dataset:
    return Dataset.read(quality_dir)


def _dataset(tables: Tables, like: Dataset, baseline: dict[str, object] | None) -> Dataset:
    return Dataset(tables["transactions"], tables["features"], tables["customers"], tables["merchants"],
                   like.parameters, like.first_part_rows, baseline)


def _fields(data: Dataset, name: str) -> set[str | None]:
    (found,) = [v.check(data) for v in validators((name,))]
    assert found.skipped is None
    messages = " ".join(v.message for v in found.violations)
    return {v.field for v in found.violations} | {w for w in messages.split() if w in data.transactions.column_names
                                                  or (data.features is not None and w in data.features.column_names)}


def test_every_validator_has_a_case() -> None:
    assert len(REGISTRY) >= 12
    assert set(CASES) == set(REGISTRY)


@pytest.mark.parametrize("name", sorted(CASES))
def test_flags_its_defect_and_not_the_clean_data(name: str, clean: Dataset) -> None:
    field, defect = CASES[name]
    tables = {"transactions": clean.transactions, "features": clean.features, "customers": clean.customers,
              "merchants": clean.merchants}
    baseline = {"profile": profile(clean)} if name == "drift" else None
    # check: quiet on the clean data, loud on the same data with the defect
    assert field not in _fields(_dataset(tables, clean, baseline), name)
    assert field in _fields(_dataset(defect(tables), clean, baseline), name)


def test_a_validator_without_its_input_is_skipped_with_the_reason(clean: Dataset) -> None:
    no_features = Dataset(clean.transactions, None, clean.customers, clean.merchants, clean.parameters)
    found = {f.validator: f for f in (v.check(no_features) for v in validators(("variance", "drift")))}
    assert found["variance"].skipped == "no features"
    assert found["drift"].skipped == "no baseline"
    assert not found["variance"].violations


def test_a_violation_quotes_the_rows_it_names(clean: Dataset) -> None:
    tables = CASES["ranges"][1]({"transactions": clean.transactions, "features": clean.features,
                                 "customers": clean.customers, "merchants": clean.merchants})
    (found,) = [v.check(_dataset(tables, clean, None)) for v in validators(("ranges",))]
    (violation,) = [v for v in found.violations if v.field == "latitude"]
    assert violation.rows == 5
    assert violation.examples == tuple(clean.transactions.column("transaction_id").to_pylist()[:5])
    assert violation.severity == "error" and violation.recommendation
