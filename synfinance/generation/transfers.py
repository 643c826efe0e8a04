"""Person-to-person transfers as ordinary behaviour: money home on salary days, rent, shared bills, gifts.

A share of each shard's rows (the calibration table's `p2p_share`, more of them on the first days of the month)
become transfers to people: payees of the Transfers category, mostly a few usual ones per customer (family,
landlord, friends), some in the city the customer's family lives in. Amounts follow the published P2P tickets.
"""

from __future__ import annotations

import numpy as np

from synfinance.population import geography as geo
from synfinance.population.calibration import calibration
from synfinance.population.categories import category_index
from synfinance.population.merchants import Merchants
from synfinance.sampling import mix64

TRANSFERS = category_index("Transfers")
USUAL_PAYEES = 4  # family, landlord, a friend or two
USUAL_PAYEE_WEIGHTS = np.array([0.4, 0.25, 0.2, 0.15])
USUAL_P = 0.8  # share of transfers to a usual payee
FAMILY_ELSEWHERE_P = 0.3  # customers whose family lives in another city
_P2P = calibration().model.p2p


def p2p_rows(rng: np.random.Generator, month_start: np.ndarray, festival: np.ndarray) -> np.ndarray:
    """Which rows are transfers: the table's share overall, lifted on the salary days at the start of the month
    (money home, rent) and in festival seasons (gifts)."""
    lift = np.where(month_start, _P2P.month_start_lift, 1.0) * np.where(festival > 0, _P2P.festival_lift, 1.0)
    p = calibration().model.p2p_share * lift / lift.mean() if len(lift) else lift
    return rng.random(len(month_start)) < np.clip(p, 0.0, 0.95)


def payee_city(cust: np.ndarray, home: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Where a customer's payee lives: at home, except the first usual payee (family) of some customers."""
    family_away = (mix64(cust, 17) % 1000).astype(np.int64) < FAMILY_ELSEWHERE_P * 1000
    n_cities = len(geo.CITIES)
    elsewhere = (home + 1 + (mix64(cust, 23) % np.uint64(n_cities - 1)).astype(np.int64)) % n_cities
    return np.where(family_away & (slot == 0), elsewhere, home)


def pick_payee(rng: np.random.Generator, m: Merchants, cust: np.ndarray, home: np.ndarray) -> tuple[np.ndarray, ...]:
    """(payee, payee's city) of each transfer: a usual payee most of the time, fixed per customer and slot."""
    n = len(cust)
    slot = np.searchsorted(USUAL_PAYEE_WEIGHTS.cumsum(), rng.random(n) * USUAL_PAYEE_WEIGHTS.sum())
    usual = rng.random(n) < USUAL_P
    slot = np.where(usual, slot, USUAL_PAYEES)  # a one-off payee in the home city
    city = payee_city(cust, home, slot)
    start, size = m.pool_start[city, TRANSFERS], m.pool_size[city, TRANSFERS]
    fixed = (mix64(cust, slot, 31) % size.astype(np.uint64)).astype(np.int64)
    anyone = np.floor(rng.random(n) * size).astype(np.int64)
    return start + np.where(usual, fixed, anyone), city


def p2p_paise(rng: np.random.Generator, month_start: np.ndarray) -> np.ndarray:
    """Transfer amounts: log-normal around the table's median, larger on salary days; whole rupees, often round."""
    n = len(month_start)
    inr = _P2P.median_inr * np.exp(_P2P.sigma * rng.standard_normal(n))
    inr = inr * np.where(month_start, _P2P.month_start_amount, 1.0)
    inr = np.clip(inr, 1.0, _P2P.max_inr)
    r = rng.random(n)
    rupees = np.round(inr)
    rupees = np.where((inr >= 200) & (r < 0.5), np.round(inr / 100) * 100, rupees)
    rupees = np.where((inr >= 50) & (inr < 200) & (r < 0.5), np.round(inr / 10) * 10, rupees)
    return (np.maximum(rupees, 1) * 100).astype(np.int64)
