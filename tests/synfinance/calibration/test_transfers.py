"""Person-to-person transfers as ordinary behaviour: people as payees, a few usual ones per customer, more on salary
days and in festivals, and the mule networks' transfers among them."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.generation.transfers import USUAL_P
from synfinance.population.calibration import calibration

Z = 5.0


def _np(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def test_transfers_go_to_people_and_only_transfers_do(million: pa.Table) -> None:
    person = _np(million, "merchant_type") == "person"
    transfers = _np(million, "category") == "Transfers"
    assert (person == transfers).all()
    assert set(_np(million, "mcc")[person].tolist()) <= {4829, 6540}
    legit = ~_np(million, "is_fraud")
    share = person[legit].mean()
    p2p = calibration().model.p2p_share
    assert abs(share - p2p) < 0.05 * p2p, share  # the table's share, lifted on some days, of legitimate rows


def test_customers_send_mostly_to_a_few_usual_payees(million: pa.Table) -> None:
    t = million.filter(pc.and_(pc.equal(million.column("merchant_type"), "person"),
                               pc.invert(million.column("is_fraud"))))
    pairs = t.group_by(["customer_id", "merchant_id"]).aggregate([([], "count_all")])
    per_customer = pairs.group_by("customer_id").aggregate([("count_all", "max"), ("count_all", "sum")])
    top = _np(per_customer, "count_all_max").sum() / _np(per_customer, "count_all_sum").sum()
    assert top > 0.3  # the first usual payee (family) takes the largest part
    assert len(pairs) < 0.5 * t.num_rows  # payees repeat: most transfers go to someone paid before
    assert USUAL_P > 0.5


def test_more_transfers_on_salary_days_and_in_festivals(million: pa.Table) -> None:
    legit = million.filter(pc.invert(million.column("is_fraud")))
    person = _np(legit, "merchant_type") == "person"
    day = pc.day(legit.column("local_date")).to_numpy()
    festival = pc.is_valid(legit.column("festival")).to_numpy(zero_copy_only=False)
    ordinary = (day > 5) & ~festival
    groups = {"salary days": (day <= 5) & ~festival, "festival days": festival & (day > 5)}
    base = person[ordinary].mean()
    for name, rows in groups.items():
        share = person[rows].mean()
        se = math.sqrt(base * (1 - base) / rows.sum() + base * (1 - base) / ordinary.sum())
        assert share - base > Z * se, (name, share, base)


def test_mule_transfers_hide_among_real_ones(million: pa.Table) -> None:
    mule = pc.equal(million.column("fraud_type"), "mule_account").to_numpy(zero_copy_only=False)
    mule = np.asarray(mule, dtype=bool) & _np(million, "is_fraud")
    assert mule.sum() > 500
    assert (_np(million, "merchant_type")[mule] == "person").all()
    payees = set(_np(million, "merchant_id")[mule].tolist())
    legit_payees = set(_np(million, "merchant_id")[(_np(million, "merchant_type") == "person")
                                                   & ~_np(million, "is_fraud")].tolist())
    assert len(payees & legit_payees) > 0.9 * len(payees)  # the same people real customers pay
