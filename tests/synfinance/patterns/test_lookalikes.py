"""Benign look-alikes: each appears in legitimate rows at about its rate, scales with difficulty, and keeps
households, shops and devices consistent (the default million-row run, realistic)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import synfinance
from synfinance.errors import ParameterError
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.world.lookalikes import LookalikeRates

MILLION = {"count": 1_000_000, "seed": 42}  # the conftest's default run

RATES = LookalikeRates()


def _legit(table: pa.Table) -> pa.Table:
    return table.filter(pc.and_(pc.invert(table.column("is_fraud")), pc.invert(table.column("is_anomaly"))))


def _np(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


def _close(got: float, rate: float, n: int) -> bool:
    """Within 4 binomial standard errors plus 15 % of the rate (other behaviour shares some of these rows)."""
    return abs(got - rate) <= 4 * math.sqrt(rate * (1 - rate) / max(n, 1)) + 0.15 * rate


@pytest.fixture(scope="module")
def legit(million: pa.Table) -> pa.Table:
    return _legit(million)


def test_household_members_share_a_device_and_a_city(legit: pa.Table) -> None:
    plan = GenerationPlan(GenerationParams(**MILLION))
    with_device = legit.filter(pc.is_valid(legit.column("device_id")))
    devices, customers = _np(with_device, "device_id"), _np(with_device, "customer_id")
    pairs = np.unique(np.stack([devices, customers]).astype(str), axis=1)
    shared = np.unique(pairs[0], return_counts=True)
    assert (shared[1] > 1).sum() > 1000  # family devices: thousands, with no fraud anywhere near them
    index = {cid: i for i, cid in enumerate(plan.customers.ids.to_pylist())}
    by_device: dict[str, list[int]] = {}
    for device, customer in zip(pairs[0], pairs[1], strict=True):
        by_device.setdefault(device, []).append(index[customer])
    users = [np.array(u) for u in by_device.values() if len(u) > 1]
    head = plan.households
    assert all(len(set(head[u])) == 1 for u in users)  # only a household shares
    assert all(len(set(plan.customers.city[u])) == 1 for u in users)
    assert max(len(u) for u in users) <= 6


def test_a_shop_has_one_place_and_repeat_visits_are_there(legit: pa.Table) -> None:
    table = legit.filter(pc.invert(legit.column("is_online")))
    order = pc.sort_indices(table, [("customer_id", "ascending"), ("timestamp", "ascending")])
    t = table.take(order)
    customer, merchant = _np(t, "customer_id"), _np(t, "merchant_id")
    lat, lon = _np(t, "latitude"), _np(t, "longitude")
    again = (customer[1:] == customer[:-1]) & (merchant[1:] == merchant[:-1])
    same_place = (lat[1:] == lat[:-1]) & (lon[1:] == lon[:-1])
    share = same_place[again].mean()
    both = RATES.merchant_location ** 2  # each of the two payments located at the shop
    assert again.sum() > 10_000 and abs(share - both) < 0.05


def _micro_share(legit: pa.Table) -> tuple[float, int]:
    """Share of in-person UPI food and grocery payments of ₹50 or less, and how many such payments."""
    where = pc.and_(pc.and_(pc.invert(legit.column("is_online")), pc.equal(legit.column("payment_mode"), "UPI")),
                    pc.is_in(legit.column("category"), pa.array(["Food & Dining", "Groceries"])))
    rows = legit.filter(where)
    micro = pc.less_equal(pc.cast(rows.column("amount_inr"), pa.float64()), 50.0).to_numpy(zero_copy_only=False)
    return float(micro.mean()), rows.num_rows


def test_micro_payments_at_tea_stalls_and_kiranas(legit: pa.Table) -> None:
    # the calibrated tickets already hold small payments; the look-alike turns its rate of the rest into ₹5-₹50
    off, _ = _micro_share(_legit(synfinance.generate(count=200_000, seed=42, lookalikes=(("micro_payments", 0.0),))))
    got, n = _micro_share(legit)
    expected = RATES.micro_payments + (1 - RATES.micro_payments) * off
    assert _close(got, expected, n), (got, expected)


def test_refunds_that_are_not_fraud(legit: pa.Table) -> None:
    where = pc.and_(legit.column("is_online"), pc.is_in(legit.column("category"), pa.array(["Fashion", "Electronics"])))
    rows = legit.filter(where)
    reversed_ = pc.equal(rows.column("status"), "reversed").to_numpy(zero_copy_only=False).mean()
    assert RATES.refunds <= reversed_ <= RATES.refunds + 0.01  # plus the ordinary reversal rate


def test_a_declined_booking_retried_minutes_later(legit: pa.Table) -> None:
    order = pc.sort_indices(legit, [("customer_id", "ascending"), ("timestamp", "ascending")])
    t = legit.take(order)
    same = (_np(t, "customer_id")[1:] == _np(t, "customer_id")[:-1])
    status, merchant = _np(t, "status"), _np(t, "merchant_id")
    amount = pc.cast(t.column("amount_inr"), pa.float64()).to_numpy()
    gap = _np(t, "time_since_last_txn_s")[1:]
    retried = same & (status[:-1] == "declined") & (status[1:] == "approved") & (merchant[1:] == merchant[:-1]) \
        & (amount[1:] == amount[:-1]) & (gap >= 30) & (gap <= 300)
    online = _np(t, "is_online").sum()
    expected = RATES.retries * online / 2  # odd rows of each customer's block
    assert 0.6 * expected <= retried.sum() <= 1.4 * expected, (retried.sum(), expected)


def test_rates_scale_with_difficulty() -> None:
    easy, hard = RATES.scaled("easy"), RATES.scaled("hard")
    assert easy.households == pytest.approx(RATES.households / 4) and hard.sprees == pytest.approx(2 * RATES.sprees)
    assert easy.merchant_location == hard.merchant_location == RATES.merchant_location  # facts, not difficulty
    shared = {}
    for difficulty in ("easy", "hard"):
        table = _legit(synfinance.generate(count=60_000, seed=3, difficulty=difficulty))
        with_device = table.filter(pc.is_valid(table.column("device_id")))
        pairs = np.unique(np.stack([_np(with_device, "device_id"), _np(with_device, "customer_id")]).astype(str),
                          axis=1)
        shared[difficulty] = (np.unique(pairs[0], return_counts=True)[1] > 1).sum()
    assert shared["hard"] > 3 * shared["easy"] > 0


def test_a_look_alike_rate_is_a_parameter() -> None:
    def micro(rate: float) -> float:
        table = synfinance.generate(count=40_000, seed=3, lookalikes=(("micro_payments", rate),))
        return _micro_share(_legit(table))[0]

    off, half = micro(0.0), micro(0.5)
    assert half == pytest.approx(0.5 + 0.5 * off, abs=0.04)  # tea-stall payments come from the look-alike's rate
    with pytest.raises(ParameterError, match="lookalikes"):
        synfinance.generate(count=1000, lookalikes=(("teleport", 0.1),))


def test_a_rare_large_purchase_of_a_month_or_two_of_income(legit: pa.Table) -> None:
    plan = GenerationPlan(GenerationParams(**MILLION))
    income = dict(zip(plan.customers.table.column("customer_id").to_pylist(), plan.customers.monthly_income.tolist(),
                      strict=True))
    big = legit.filter(pc.is_in(legit.column("category"),
                                pa.array(["Electronics", "Jewellery", "Travel", "Healthcare", "Education"])))
    amount = pc.cast(big.column("amount_inr"), pa.float64()).to_numpy()
    months = amount / np.array([income[c] for c in big.column("customer_id").to_pylist()])
    large = (months >= 0.5) & (months <= 2.0) & (amount % 1000 == 0) & (amount >= 1000)
    assert _close(large.mean(), RATES.large_purchases, big.num_rows), large.mean()
