"""Every row is internally consistent: time order, IST fields, context, merchant and payment facts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from synfinance.population.payments import EMI_MIN_INR
from synfinance.schema import paise_from_amounts

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


@pytest.fixture(scope="module")
def sample(txns: pa.Table) -> list[dict[str, object]]:
    """The first 20,000 rows as Python dicts: small enough for a plain, obviously-correct re-computation."""
    first_shard = pc.starts_with(txns.column("transaction_id"), pattern=txns.column("transaction_id")[0].as_py()[:17])
    return txns.filter(first_shard).slice(0, 20_000).to_pylist()


def test_ids_are_unique_and_follow_the_pattern(txns: pa.Table) -> None:
    ids = txns.column("transaction_id")
    assert len(ids.unique()) == txns.num_rows
    assert pc.all(pc.match_substring_regex(ids, r"^TXN-[0-9a-f]{6}-\d{5}-\d{8}$")).as_py()


def test_rows_are_time_ordered_within_each_shard(txns: pa.Table) -> None:
    shard = pc.utf8_slice_codeunits(txns.column("transaction_id"), 11, 16).to_numpy(zero_copy_only=False)
    ts = txns.column("timestamp").cast(pa.int64()).to_numpy()
    same_shard = shard[1:] == shard[:-1]
    assert (np.diff(ts)[same_shard] >= 0).all()


def test_ist_fields_follow_the_utc_timestamp(sample: list[dict[str, object]]) -> None:
    for row in sample[:5000]:
        local = row["timestamp"].astimezone(IST)  # type: ignore[attr-defined]
        assert (row["local_date"], row["local_hour"], row["day_of_week"]) == (local.date(), local.hour, local.weekday())


def test_context_fields_match_a_plain_recomputation(sample: list[dict[str, object]]) -> None:
    last_ts: dict[object, dt.datetime] = {}
    seen: set[tuple[object, object]] = set()
    daily: dict[tuple[object, object], list[int]] = defaultdict(lambda: [0, 0])
    for row in sample:
        cust = row["customer_id"]
        gap = row["time_since_last_txn_s"]
        if cust in last_ts:
            assert gap == pytest.approx((row["timestamp"] - last_ts[cust]).total_seconds(), abs=1e-6)  # type: ignore[operator]
        else:
            assert gap is None
        last_ts[cust] = row["timestamp"]  # type: ignore[assignment]
        pair = (cust, row["merchant_id"])
        assert row["is_first_txn_with_merchant"] == (pair not in seen)
        seen.add(pair)
        day = daily[(cust, row["local_date"])]
        day[0] += 1
        day[1] += int(row["amount_inr"] * 100)  # type: ignore[operator]
        assert row["daily_txn_count"] == day[0]
        assert int(row["daily_txn_amount_inr"] * 100) == day[1]  # type: ignore[operator]


def test_merchant_fields_match_the_merchant_table(txns: pa.Table, tables: dict[str, pa.Table]) -> None:
    merchants = tables["merchants"].rename_columns(
        [
            "merchant_id",
            "m_name",
            "m_category",
            "m_subcategory",
            "m_mcc",
            "m_city",
            "m_region",
            "m_tier",
            "m_type",
            "m_reputation",
        ]
    )
    joined = txns.select(
        [
            "merchant_id",
            "merchant_name",
            "category",
            "subcategory",
            "mcc",
            "merchant_city",
            "merchant_type",
            "merchant_reputation",
        ]
    ).join(merchants, "merchant_id")
    assert joined.num_rows == txns.num_rows
    for mine, theirs in [
        ("merchant_name", "m_name"),
        ("category", "m_category"),
        ("subcategory", "m_subcategory"),
        ("mcc", "m_mcc"),
        ("merchant_city", "m_city"),
        ("merchant_type", "m_type"),
        ("merchant_reputation", "m_reputation"),
    ]:
        assert pc.all(pc.equal(joined.column(mine), joined.column(theirs))).as_py(), mine


def test_customer_context_matches_the_customer_table(txns: pa.Table, tables: dict[str, pa.Table]) -> None:
    customers = tables["customers"].select(["customer_id", "segment", "income_bracket", "age"])
    joined = txns.select(["customer_id", "customer_segment", "customer_income_bracket", "customer_age_group"]).join(
        customers, "customer_id"
    )
    assert pc.all(pc.equal(joined.column("customer_segment"), joined.column("segment"))).as_py()
    assert pc.all(pc.equal(joined.column("customer_income_bracket"), joined.column("income_bracket"))).as_py()
    bounds = {
        "18-24": (18, 24),
        "25-34": (25, 34),
        "35-44": (35, 44),
        "45-54": (45, 54),
        "55-64": (55, 64),
        "65+": (65, 120),
    }
    for age, group in zip(
        joined.column("age").to_pylist(), joined.column("customer_age_group").to_pylist(), strict=True
    ):
        lo, hi = bounds[group]
        assert lo <= age <= hi, (age, group)


def _where(t: pa.Table, mask: pa.Array) -> pa.Table:
    return t.filter(mask)


def test_payment_channel_device_instrument_are_consistent(txns: pa.Table) -> None:
    mode, online, channel = txns.column("payment_mode"), txns.column("is_online"), txns.column("channel")
    cash = pc.equal(mode, "Cash")
    assert not pc.any(pc.and_(cash, online)).as_py(), "cash online"
    assert pc.all(pc.equal(_where(txns, cash).column("channel"), "In-Store")).as_py()
    assert not pc.any(pc.and_(pc.equal(mode, "Net Banking"), pc.invert(online))).as_py(), "net banking offline"
    emi = _where(txns, pc.equal(mode, "EMI"))
    assert pc.min(emi.column("amount_inr").cast(pa.float64())).as_py() >= EMI_MIN_INR
    cards = pc.is_in(mode, pa.array(["Credit Card", "Debit Card", "EMI"]))
    assert pc.all(pc.equal(cards, pc.is_valid(txns.column("card_type")))).as_py()
    assert pc.all(pc.equal(cash, pc.is_null(txns.column("instrument_id")))).as_py()
    in_person = pc.is_in(channel, pa.array(["POS", "In-Store"]))
    assert pc.all(pc.equal(in_person, pc.is_null(txns.column("device_id")))).as_py()
    assert pc.all(pc.equal(pc.is_in(channel, pa.array(["Mobile App", "Web"])), online)).as_py()
    app = pc.is_valid(txns.column("app_version"))
    assert not pc.any(pc.and_(app, pc.equal(channel, "Web"))).as_py()


def test_location_is_near_home_unless_travelling(txns: pa.Table, tables: dict[str, pa.Table]) -> None:
    homes = tables["customers"].select(["customer_id", "city"]).rename_columns(["customer_id", "home_city"])
    joined = txns.select(["customer_id", "city", "distance_from_home_km"]).join(homes, "customer_id")
    at_home = pc.equal(joined.column("city"), joined.column("home_city"))
    home_km = joined.filter(at_home).column("distance_from_home_km").to_numpy()
    away_km = joined.filter(pc.invert(at_home)).column("distance_from_home_km").to_numpy()
    assert np.quantile(home_km, 0.999) < 25
    assert len(away_km) > 0 and away_km.min() > 40  # nearest pair of distinct cities is ~140 km apart


def test_amounts_are_positive_with_exact_paise(txns: pa.Table) -> None:
    paise = paise_from_amounts(txns.column("amount_inr"))
    assert paise.min() >= 100
    assert (paise % 100 != 0).mean() > 0.2  # many amounts carry paise ...
    assert (paise % 10_000 == 0).mean() > 0.05  # ... and some are round hundreds
    assert txns.column("currency").unique().to_pylist() == ["INR"]
