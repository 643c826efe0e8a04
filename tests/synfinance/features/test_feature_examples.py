"""Each feature group on a tiny example worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from feature_rows import table, txn

from synfinance.errors import SchemaError
from synfinance.features.extractor import FeatureExtractor
from synfinance.population.geography import haversine_km

DELHI = {"city": "Delhi", "latitude": 28.7041, "longitude": 77.1025, "distance_from_home_km": 1150.0}


def features(rows: list[dict[str, object]]) -> list[dict[str, float]]:
    out = FeatureExtractor().extract(table(rows))
    return [
        dict(zip(out.column_names[1:], values, strict=True))
        for values in zip(*(out.column(n).to_pylist() for n in out.column_names[1:]), strict=True)
    ]


def test_fraud_group_windows_and_movement() -> None:
    # setup: customer A pays at M1 at 0 and 30 min, M2 at 80 min, then from Delhi 2 h later on a new device
    # (windows are strict: a payment exactly an hour ago is outside the last hour)
    rows = [
        txn(1, "A", 0, "100.00"),
        txn(2, "A", 30, "250.00"),
        txn(3, "A", 80, "1000.00", merchant_id="M2", status="declined"),
        txn(4, "A", 200, "5000.00", merchant_id="M3", device_id="D-new", **DELHI),
    ]
    f = features(rows)
    # run / check: counts and sums over earlier transactions only
    assert [r["txn_count_1h"] for r in f] == [0, 1, 1, 0]
    assert [r["txn_count_6h"] for r in f] == [0, 1, 2, 3]
    assert [r["amount_sum_1h"] for r in f] == [0, 100, 250, 0]
    assert f[3]["amount_sum_24h"] == 1350
    assert f[0]["time_since_last_s"] is None and f[1]["time_since_last_s"] == 1800
    decayed = math.exp(-120 * 60 / (7 * 86_400)) * (
        1 + math.exp(-50 * 60 / (7 * 86_400)) * (1 + math.exp(-30 * 60 / (7 * 86_400)))
    )
    assert f[3]["txn_count_7d"] == pytest.approx(decayed, rel=1e-12)
    km = float(haversine_km(19.076, 72.8777, 28.7041, 77.1025))
    assert f[3]["distance_from_prev_km"] == pytest.approx(km)
    assert f[3]["speed_from_prev_kmh"] == pytest.approx(km / 2.0)
    assert [r["is_new_merchant"] for r in f] == [1, 0, 1, 1]
    assert [r["is_new_device"] for r in f] == [1, 0, 0, 1]
    assert f[3]["declined_share_7d"] == pytest.approx(1 / 3)
    assert f[3]["distinct_cities_7d"] == 2
    assert f[2]["merchant_loyalty_share"] == 0 and f[1]["merchant_loyalty_share"] == 1
    assert f[1]["amount_to_mean_ratio"] == pytest.approx(2.5)
    assert f[0]["is_weekend"] == 0 and f[0]["hour_of_day"] == 15 and f[0]["is_night"] == 0


def test_merchant_and_device_signals_cross_customers() -> None:
    # setup: three customers at merchant M9 within the hour, two of them on one device
    rows = [
        txn(1, "A", 0, "500.00", merchant_id="M9", device_id="SHARED"),
        txn(2, "B", 10, "700.00", merchant_id="M9", device_id="SHARED"),
        txn(3, "C", 20, "900.00", merchant_id="M9"),
        txn(4, "A", 75, "100.00", merchant_id="M9", device_id="SHARED"),
    ]
    f = features(rows)
    assert [r["merchant_customers_1h"] for r in f] == [1, 2, 3, 2]  # at 75 min only C (at 20) is within the hour
    assert [r["merchant_amount_1h"] for r in f] == [0, 500, 1200, 900]
    assert [r["device_customers_shared"] for r in f] == [0, 1, 0, 1]


def test_anomaly_group_against_a_steady_history() -> None:
    # setup: 12 daily grocery payments of INR 500 by UPI at 15:30 IST, then one jewellery purchase at 03:30 by card
    rows = [txn(i, "A", i * 24 * 60, "500.00") for i in range(12)]
    odd = txn(
        99,
        "A",
        12 * 24 * 60 - 720,
        "40000.00",
        category="Jewellery",
        payment_mode="Credit Card",
        channel="Web",
        merchant_id="MJ",
    )
    f = features([*rows, odd])
    steady, last = f[11], f[12]
    assert last["history_depth"] == pytest.approx(math.log1p(12))
    assert last["category_unseen"] == 1 and last["mode_unseen"] == 1 and steady["category_unseen"] == 0
    assert last["hour_circular_dev"] == pytest.approx(12.0)
    assert last["amount_log_z"] > 10 > abs(steady["amount_log_z"])
    assert last["hour_rarity"] > 0.9 > steady["hour_rarity"]
    assert last["max_dev"] == 1.0 and last["n_devs"] >= 3
    assert last["dev_streak"] == 1 and steady["dev_streak"] == 0
    assert last["anomaly_score"] > 3 * steady["anomaly_score"]


def test_interaction_group_combines_its_parts() -> None:
    rows = [txn(1, "A", 0, "100.00"), txn(2, "A", 5, "20.00"), txn(3, "A", 10, "3000.00", merchant_id="M2")]
    f = features(rows)[2]
    assert f["velocity_x_amount_dev"] == pytest.approx(f["txn_count_1h"] * f["amount_log_z_abs"])
    assert f["micro_burst_x_amount"] == pytest.approx(2 * math.log1p(3000))  # 100 and 20 are micro payments
    assert f["round_amount_x_new_merchant"] == 1.0
    assert f["distance_x_new_merchant"] == pytest.approx(math.log1p(1.0))
    assert 0 < f["risk_score"] <= 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda t: t.drop_columns(["merchant_id"]), "missing column 'merchant_id'", id="missing"),
        pytest.param(
            lambda t: t.set_column(
                t.schema.get_field_index("latitude"), "latitude", t.column("latitude").cast("float32")
            ),
            "column 'latitude' has type float",
            id="wrong-type",
        ),
        pytest.param(lambda t: t.take([1, 0, 2]), "column 'timestamp' must be in time order: row 1", id="unsorted"),
    ],
)
def test_bad_input_names_the_column(change: object, message: str) -> None:
    good = table([txn(1, "A", 0, "1.00"), txn(2, "A", 1, "2.00"), txn(3, "B", 2, "3.00")])
    extractor = FeatureExtractor()
    with pytest.raises(SchemaError, match=message):
        extractor.extract(change(good))  # type: ignore[operator]
    assert len(extractor.state.customers) == 0  # nothing was taken in


def test_online_refuses_a_transaction_from_the_past() -> None:
    extractor = FeatureExtractor()
    extractor.extract_one(txn(1, "A", 60, "10.00"))
    with pytest.raises(SchemaError, match="earlier than customer A's last one"):
        extractor.extract_one(txn(2, "A", 0, "10.00"))
    with pytest.raises(SchemaError, match="amount_inr: expected Decimal"):
        extractor.extract_one({**txn(3, "B", 0, "1.00"), "amount_inr": "lots"})
    assert np.isfinite(extractor.extract_one(txn(4, "A", 61, "10.00"))["txn_count_1h"])
