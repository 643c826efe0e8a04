"""The raw event completed server-side (synfinance.features.reference) gives the generator's own derivations."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.reference import (
    CUSTOMER_CONTEXT,
    DERIVED,
    MERCHANT_CONTEXT,
    SWITCH_FIELDS,
    UNKNOWN_CATEGORY,
    Reference,
)
from synfinance.schema import LABEL_FIELDS, STORED_TRANSACTION_SCHEMA

SAMPLE = 20_000


@pytest.fixture(scope="module")
def reference(tables: dict[str, pa.Table]) -> Reference:
    return Reference.of(tables["customers"], tables["merchants"])


@pytest.fixture(scope="module")
def full(txns: pa.Table) -> pa.Table:
    """Every 15th row of the session's dataset: its input columns as generated."""
    return txns.select(list(INPUT_COLUMNS)).take(pa.array(np.arange(0, txns.num_rows, 15)[:SAMPLE]))


def same(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> bool:
    if pa.types.is_floating(a.type):
        x, y = np.asarray(a.to_numpy(zero_copy_only=False), float), np.asarray(b.to_numpy(zero_copy_only=False), float)
        return bool(np.allclose(x, y, rtol=0, atol=1e-9, equal_nan=True))
    return a.to_pylist() == b.to_pylist()


def test_a_batch_of_switch_fields_and_coordinates_completes_to_the_generated_columns(reference: Reference,
                                                                                      full: pa.Table) -> None:
    raw = full.select([*SWITCH_FIELDS, "latitude", "longitude", "city"])
    completed = reference.complete(raw)
    for name in INPUT_COLUMNS:
        assert same(completed.column(name), full.column(name)), name


def test_each_single_event_completes_as_its_batch_does(reference: Reference, full: pa.Table) -> None:
    raw = full.select([*SWITCH_FIELDS, "latitude", "longitude", "city"]).slice(0, 500)
    batch = reference.complete(raw).to_pylist()
    for event, expected in zip(raw.to_pylist(), batch, strict=True):
        got = reference.complete_one(event)
        for name in INPUT_COLUMNS:
            a, b = got[name], expected[name]
            if isinstance(b, float):
                assert math.isclose(a, b, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b)), name
            else:
                assert a == b, (name, a, b)


def test_coordinates_alone_find_the_city_and_a_city_alone_gives_its_centre(reference: Reference,
                                                                           full: pa.Table) -> None:
    by_point = reference.complete(full.select([*SWITCH_FIELDS, "latitude", "longitude"]))
    right = pc.sum(pc.equal(by_point.column("city"), full.column("city"))).as_py() / full.num_rows
    assert right > 0.99  # the nearest centre is the city for all but a few points between close cities
    by_city = reference.complete(full.select([*SWITCH_FIELDS, "city"]))
    assert by_city.column("latitude").null_count == 0
    assert reference.complete_one({**full.slice(0, 1).to_pylist()[0], "latitude": None, "longitude": None,
                                   "distance_from_home_km": None})["latitude"] == by_city.column("latitude")[0].as_py()


def test_supplied_values_win_and_nulls_are_derived(reference: Reference, full: pa.Table) -> None:
    rows = full.slice(0, 3).to_pylist()
    rows[0]["local_hour"], rows[1]["local_hour"] = 3, None
    rows[2]["category"] = "Fuel"
    completed = reference.complete(pa.Table.from_pylist(rows, schema=full.schema))
    assert completed.column("local_hour").to_pylist()[:2] == [3, full.column("local_hour")[1].as_py()]
    assert completed.column("category")[2].as_py() == "Fuel"
    assert reference.complete_one(rows[0])["local_hour"] == 3


def test_unknown_merchants_and_customers_get_missing_values_not_errors(reference: Reference, full: pa.Table) -> None:
    event = {**full.slice(0, 1).select(list(SWITCH_FIELDS) + ["city"]).to_pylist()[0],
             "merchant_id": "MER_NEW_SHOP_001", "customer_id": "CUST_NEW_0000001"}
    row = reference.complete_one(event)
    assert row["category"] == UNKNOWN_CATEGORY and math.isnan(row["merchant_reputation"])
    assert math.isnan(row["distance_from_home_km"])
    assert set(DERIVED) <= {k for k, v in row.items() if v is not None or k == "festival"}


def test_a_null_festival_means_none_and_only_an_absent_one_is_derived(reference: Reference, full: pa.Table) -> None:
    festive = full.filter(pc.is_valid(full.column("festival"))).slice(0, 4)
    assert festive.num_rows == 4
    nulled = festive.set_column(festive.schema.get_field_index("festival"), "festival",
                                pa.nulls(4, pa.string()))
    assert reference.complete(nulled).column("festival").null_count == 4  # given as null: no festival
    derived = reference.complete(nulled, festival_given=np.array([True, False, True, False]))
    assert derived.column("festival").to_pylist()[1::2] == festive.column("festival").to_pylist()[1::2]
    assert reference.complete(nulled.drop_columns(["festival"])).column("festival").equals(festive.column("festival"))
    event = nulled.to_pylist()[0]
    assert reference.complete_one(event)["festival"] is None
    del event["festival"]
    assert reference.complete_one(event)["festival"] == festive.column("festival")[0].as_py()


CONTEXT = ("day_of_week", "currency", "state", "region", *MERCHANT_CONTEXT.values(), *CUSTOMER_CONTEXT)


def test_a_raw_record_completes_to_the_generated_stored_columns(reference: Reference, txns: pa.Table) -> None:
    """The stored form: the input columns and the merchant, customer and location context, as generated."""
    whole = txns.take(pa.array(np.arange(0, txns.num_rows, 15)[:SAMPLE]))
    stored = reference.complete_record(whole.select([*SWITCH_FIELDS, "city"]), festival_given=False)
    assert stored.schema.equals(STORED_TRANSACTION_SCHEMA)
    for name in (*INPUT_COLUMNS, *CONTEXT):
        if name not in ("latitude", "longitude", "distance_from_home_km"):  # a city alone: its centre
            assert same(stored.column(name), whole.column(name)), name
    with_points = reference.complete_record(whole.select([*SWITCH_FIELDS, "city", "latitude", "longitude"]), False)
    for name in ("latitude", "longitude", "distance_from_home_km"):
        assert same(with_points.column(name), whole.column(name)), name
    assert all(stored.column(n).null_count == n_rows for n, n_rows in
               (("fraud_type", whole.num_rows), ("card_type", whole.num_rows), ("os", whole.num_rows)))
    assert reference.complete_record(whole).equals(whole.cast(STORED_TRANSACTION_SCHEMA))  # the full form as given
    assert set(LABEL_FIELDS) <= set(stored.column_names)


def test_a_record_of_unknown_merchant_customer_and_city_stores_nulls_for_what_is_unknown(
        reference: Reference, full: pa.Table) -> None:
    raw = full.slice(0, 3).select([*SWITCH_FIELDS, "city"])
    raw = raw.set_column(raw.schema.get_field_index("merchant_id"), "merchant_id", pa.array(["MER_NEW"] * 3))
    raw = raw.set_column(raw.schema.get_field_index("customer_id"), "customer_id", pa.array(["CUST_NEW"] * 3))
    raw = raw.set_column(raw.schema.get_field_index("city"), "city", pa.array(["Atlantis", None, "Atlantis"]))
    raw = raw.append_column("latitude", pa.array([None, 19.07, None], pa.float64())) \
        .append_column("longitude", pa.array([None, 72.88, None], pa.float64()))
    stored = reference.complete_record(raw, festival_given=False)
    for name in ("category", "merchant_reputation", "distance_from_home_km", *MERCHANT_CONTEXT.values(),
                 *CUSTOMER_CONTEXT):
        assert stored.column(name).null_count == 3, name
    assert stored.column("city").to_pylist() == ["Atlantis", "Mumbai", "Atlantis"]
    assert stored.column("state").to_pylist()[0::2] == [None, None] and stored.column("state")[1].as_py()
    assert stored.column("latitude").to_pylist() == [None, 19.07, None]
    assert stored.column("currency").to_pylist() == ["INR"] * 3


def test_a_newer_reference_over_an_older_keeps_its_own_rows_and_adds_the_rest(tables: dict[str, pa.Table]) -> None:
    customers, merchants = tables["customers"], tables["merchants"]
    older = Reference.of(customers.slice(0, 30), merchants.slice(0, 20))
    changed = merchants.slice(10, 20).set_column(merchants.schema.get_field_index("reputation"), "reputation",
                                                 pa.array(np.full(20, 0.125)))
    newer = Reference.of(customers.slice(20, 30), changed)
    both = newer.over(older)
    assert both.sizes() == {"customers": 50, "merchants": 30}
    assert sorted(both.merchant_ids.to_pylist()) == sorted(merchants.slice(0, 30).column("merchant_id").to_pylist())
    reputation = dict(zip(both.merchant_ids.to_pylist(), both.merchant_reputation.tolist(), strict=True))
    assert all(reputation[m] == 0.125 for m in changed.column("merchant_id").to_pylist())  # the newer's own values
    assert [reputation[m] for m in merchants.slice(0, 10).column("merchant_id").to_pylist()] == \
        merchants.slice(0, 10).column("reputation").to_pylist()
    home = dict(zip(both.customer_ids.to_pylist(), both.home_lat.tolist(), strict=True))
    assert home[customers.column("customer_id")[0].as_py()] == customers.column("home_latitude")[0].as_py()
    assert newer.over(Reference.of(customers.slice(20, 5), merchants.slice(10, 5))) is newer
