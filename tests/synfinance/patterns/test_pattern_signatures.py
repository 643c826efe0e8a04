"""Each pattern's labelled rows show its signature (checked on the default 1M-row run)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pattern_rows import group, labelled

from synfinance.population.geography import haversine_km

Rows = list[dict[str, Any]]
HOUR = dt.timedelta(hours=1)


def inr(row: dict[str, Any]) -> float:
    return float(row["amount_inr"])


def span(rows: Rows) -> dt.timedelta:
    return rows[-1]["timestamp"] - rows[0]["timestamp"]


# -- fraud ---------------------------------------------------------------------------------------
def test_card_testing_micro_burst_then_one_large_on_the_same_card(million: pa.Table) -> None:
    cases = group(labelled(million, "fraud", "card_testing"), "customer_id", "ev.card")
    assert len(cases) > 50
    for (_, card), rows in cases.items():
        assert {r["instrument_id"] for r in rows} == {card}
        probes, last = rows[:-1], rows[-1]
        assert len(probes) >= 4 and all(inr(r) <= 50 for r in probes)
        assert last["ev"]["stage"] == "cash_out" and inr(last) > 50
        assert span(probes) < HOUR


def test_card_cloning_is_card_present_far_from_home(million: pa.Table) -> None:
    rows = labelled(million, "fraud", "card_cloning")
    assert all(r["channel"] == "POS" and r["payment_mode"] in ("Credit Card", "Debit Card") for r in rows)
    assert all(r["distance_from_home_km"] > 450 and r["instrument_id"] == r["ev"]["card"] for r in rows)


def test_account_takeover_uses_a_device_the_customer_never_used(million: pa.Table) -> None:
    rows = labelled(million, "fraud", "account_takeover")
    victims = pa.array(sorted({r["customer_id"] for r in rows}))
    theirs = million.filter(
        pc.and_(pc.is_in(million.column("customer_id"), victims), pc.invert(million.column("is_fraud")))
    )
    own = {
        (c, d)
        for c, d in zip(theirs.column("customer_id").to_pylist(), theirs.column("device_id").to_pylist(), strict=True)
    }
    assert all(r["is_online"] and (r["customer_id"], r["device_id"]) not in own for r in rows)
    assert all(r["device_id"] == r["ev"]["new_device"] for r in rows)


def test_merchant_collusion_rings_hit_many_customers_through_few_merchants(million: pa.Table) -> None:
    rings = group(labelled(million, "fraud", "merchant_collusion"), "ev.ring")
    assert len(rings) >= 5
    for rows in rings.values():
        assert len({r["merchant_id"] for r in rows}) <= 2
        assert len({r["customer_id"] for r in rows}) >= 10
        assert all(r["merchant_type"] == "local" or r["merchant_id"] == r["ev"]["merchant"] for r in rows)


def test_velocity_abuse_is_many_payments_within_an_hour(million: pa.Table) -> None:
    for rows in group(labelled(million, "fraud", "velocity_abuse"), "customer_id", "ev.velocity_1h").values():
        assert len(rows) >= 8 and span(rows) <= HOUR


def test_amount_manipulation_sits_just_under_a_limit(million: pa.Table) -> None:
    for r in labelled(million, "fraud", "amount_manipulation"):
        limit = r["ev"]["limit_inr"]
        assert 0.969 * limit <= inr(r) < limit


def test_refund_fraud_is_one_purchase_then_reversals_of_the_same_amount(million: pa.Table) -> None:
    for rows in group(labelled(million, "fraud", "refund_fraud"), "customer_id", "ev.merchant").values():
        statuses = [r["status"] for r in rows]
        assert statuses.count("approved") == 1 and statuses.count("reversed") >= 2
        assert len({r["amount_inr"] for r in rows}) == 1 and rows[0]["status"] == "approved"


def test_stolen_card_escalates_in_person_at_home(million: pa.Table) -> None:
    for rows in group(labelled(million, "fraud", "stolen_card"), "customer_id", "ev.card").values():
        amounts = [inr(r) for r in rows]
        assert amounts == sorted(amounts) and all(r["channel"] == "POS" for r in rows)
        assert all(r["distance_from_home_km"] < 30 for r in rows) and span(rows) < 6 * HOUR


def test_synthetic_identity_busts_out_at_the_end(million: pa.Table, customers_by_id: dict[str, Any]) -> None:
    rows = labelled(million, "fraud", "synthetic_identity")
    end = max(million.column("local_date").to_pylist())
    for r in rows:
        assert (end - r["local_date"]).days <= 11
        assert r["payment_mode"] in ("Credit Card", "EMI")
        assert inr(r) >= 0.25 * customers_by_id[r["customer_id"]]["monthly_income"]


def test_first_party_fraud_borrows_beyond_income(million: pa.Table, customers_by_id: dict[str, Any]) -> None:
    for (cust,), rows in group(labelled(million, "fraud", "first_party_fraud"), "customer_id").items():
        assert all(r["payment_mode"] in ("EMI", "Credit Card") for r in rows)
        assert sum(inr(r) for r in rows) >= 1.2 * customers_by_id[cust]["monthly_income"]


def test_friendly_fraud_is_an_ordinary_online_purchase_disputed(million: pa.Table) -> None:
    rows = labelled(million, "fraud", "friendly_fraud")
    assert all(r["is_online"] and r["merchant_type"] == "chain" and r["ev"]["dispute"] for r in rows)


def test_transaction_replay_repeats_an_earlier_genuine_payment(million: pa.Table) -> None:
    rows = labelled(million, "fraud", "transaction_replay")
    customers = pa.array(sorted({r["customer_id"] for r in rows}))
    theirs = million.filter(pc.is_in(million.column("customer_id"), customers)).to_pylist()
    genuine: dict[tuple[object, ...], list[dt.datetime]] = {}  # the same payment recurs (₹500 home every week)
    for r in theirs:
        if r["fraud_type"] != "transaction_replay":
            key = (r["customer_id"], r["merchant_id"], r["amount_inr"], r["instrument_id"])
            genuine.setdefault(key, []).append(r["timestamp"])
    for r in rows:
        originals = genuine.get((r["customer_id"], r["merchant_id"], r["amount_inr"], r["instrument_id"]), [])
        assert any(dt.timedelta(0) < r["timestamp"] - t < HOUR for t in originals), r["transaction_id"]


def test_mule_networks_follow_their_typology(million: pa.Table) -> None:
    networks = group(labelled(million, "fraud", "mule_account"), "ev.network")
    assert {rows[0]["ev"]["typology"] for rows in networks.values()} == {"fan_in", "fan_out", "cycle", "scatter_gather"}
    for rows in networks.values():
        assert all(r["category"] == "Transfers" and r["payment_mode"] == "UPI" for r in rows)
        senders, receivers = {r["customer_id"] for r in rows}, {r["ev"]["to"] for r in rows}
        typology = rows[0]["ev"]["typology"]
        if typology == "fan_in":
            assert len(receivers) == 1 and len(senders) >= 3
        elif typology == "fan_out":
            assert len(senders) == 1 and len(receivers) >= 3
        elif typology == "cycle" and len(rows) == len(senders):  # a full cycle: everyone pays the next
            assert senders == receivers
        elif typology == "scatter_gather":
            sinks = {r["ev"]["to"] for r in rows if r["ev"]["role"] == "hop"}
            assert len(sinks) <= 1


def test_shipping_fraud_orders_away_from_home(million: pa.Table) -> None:
    rows = labelled(million, "fraud", "shipping_fraud")
    assert all(r["is_online"] and r["distance_from_home_km"] > 250 and r["city"] == r["ev"]["ship_to"] for r in rows)


def test_loyalty_abuse_splits_just_over_a_threshold(million: pa.Table) -> None:
    for rows in group(labelled(million, "fraud", "loyalty_abuse"), "customer_id", "ev.merchant").values():
        threshold = rows[0]["ev"]["threshold_inr"]
        assert len(rows) >= 4 and all(threshold < inr(r) < threshold + 25 for r in rows)
        assert rows[0]["merchant_type"] == "chain"


def test_chained_attack_runs_takeover_testing_cash_out_on_one_device(million: pa.Table) -> None:
    order = {"takeover": 0, "testing": 1, "cash_out": 2}
    for rows in group(labelled(million, "fraud", "chained_attack"), "customer_id", "ev.device").values():
        stages = [order[r["ev"]["stage"]] for r in rows]
        assert stages == sorted(stages) and stages[0] == 0 and stages[-1] == 2
        assert len({r["device_id"] for r in rows}) == 1


def test_coordinated_attack_is_one_device_one_merchant_many_customers(million: pa.Table) -> None:
    attacks = group(labelled(million, "fraud", "coordinated_attack"), "ev.attack")
    assert any(len({r["customer_id"] for r in rows}) >= 10 for rows in attacks.values())
    for rows in attacks.values():
        assert len({r["device_id"] for r in rows}) == 1 and len({r["merchant_id"] for r in rows}) == 1
        assert span(rows) <= 2 * HOUR


def test_progressive_escalation_grows_over_days(million: pa.Table) -> None:
    for rows in group(labelled(million, "fraud", "progressive_escalation"), "customer_id", "ev.card").values():
        amounts = [inr(r) for r in rows]
        assert amounts == sorted(amounts) and amounts[-1] > amounts[0]
        assert span(rows) >= dt.timedelta(days=2)


# -- anomalies -----------------------------------------------------------------------------------
def test_impossible_travel_implies_more_than_800_kmh(million: pa.Table) -> None:
    rows = labelled(million, "anomaly", "impossible_travel")
    customers = pa.array(sorted({r["customer_id"] for r in rows}))
    theirs = million.filter(pc.is_in(million.column("customer_id"), customers))
    theirs = theirs.sort_by([("customer_id", "ascending"), ("timestamp", "ascending")]).to_pylist()
    previous = {}
    for before, after in zip(theirs, theirs[1:], strict=False):
        if before["customer_id"] == after["customer_id"]:
            previous[after["transaction_id"]] = before
    for r in rows:
        p = previous[r["transaction_id"]]
        km = float(haversine_km(p["latitude"], p["longitude"], r["latitude"], r["longitude"]))
        hours = (r["timestamp"] - p["timestamp"]).total_seconds() / 3600
        assert km / max(hours, 1e-9) > 800


@pytest.mark.parametrize(
    ("name", "check"),
    [
        pytest.param("location_jump", lambda r, c: r["distance_from_home_km"] > 450, id="location_jump"),
        pytest.param("unusual_hour", lambda r, c: 1 <= r["local_hour"] <= 4, id="unusual_hour"),
        pytest.param("micro_amount", lambda r, c: 10 <= inr(r) <= 50, id="micro_amount"),
        pytest.param("round_amount", lambda r, c: r["amount_inr"] % Decimal(5000) == 0, id="round_amount"),
        pytest.param("amount_spike", lambda r, c: r["ev"]["multiple_of_median"] >= 10, id="amount_spike"),
        pytest.param("spending_spike", lambda r, c: inr(r) >= 2.9 * c["avg_transaction_amount"], id="spending_spike"),
        pytest.param(
            "category_deviation", lambda r, c: r["category"] not in c["preferred_categories"], id="category_deviation"
        ),
        pytest.param(
            "payment_mode_switch",
            lambda r, c: r["payment_mode"] not in c["preferred_payment_modes"],
            id="payment_mode_switch",
        ),
    ],
)
def test_anomaly_row_signature(million: pa.Table, customers_by_id: dict[str, Any], name: str, check: Any) -> None:
    rows = labelled(million, "anomaly", name)
    assert len(rows) > 1000
    bad = [r["transaction_id"] for r in rows if not check(r, customers_by_id[r["customer_id"]])]
    assert bad == []


def test_bursts_are_several_payments_within_ten_minutes(million: pa.Table) -> None:
    for rows in group(labelled(million, "anomaly", "burst"), "customer_id", "ev.burst").values():
        assert len(rows) >= 4 and span(rows) <= dt.timedelta(minutes=10)


@pytest.mark.parametrize("name", ["category_deviation", "spending_spike", "payment_mode_switch", "unusual_hour"])
def test_history_anomalies_fire_only_after_enough_history(million: pa.Table, name: str) -> None:
    rows = labelled(million, "anomaly", name)
    customers = pa.array(sorted({r["customer_id"] for r in rows}))
    theirs = million.filter(pc.is_in(million.column("customer_id"), customers))
    theirs = theirs.sort_by([("customer_id", "ascending"), ("timestamp", "ascending")])
    ids, cust = theirs.column("transaction_id").to_pylist(), theirs.column("customer_id").to_pylist()
    rank, seen = {}, {}
    for tid, c in zip(ids, cust, strict=True):
        rank[tid] = seen.get(c, 0)
        seen[c] = rank[tid] + 1
    # other patterns may move a few of the customer's earlier payments: allow 2 % below the bar
    below = sum(rank[r["transaction_id"]] < 10 for r in rows)
    assert below <= 0.02 * len(rows)
