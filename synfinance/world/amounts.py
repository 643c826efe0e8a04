"""Ticket sizes: log-normal by category and income, festival and impulse lifts, realistic rounding."""

from __future__ import annotations

import numpy as np

from synfinance.population.categories import CATEGORY_MEDIAN_INR, CATEGORY_SIGMA, category_index
from synfinance.population.segments import INCOME_AMOUNT_MULTIPLIER
from synfinance.world.calendar import FESTIVAL_AMOUNT_BOOST

IMPULSE_LIFT = 1.15
MIN_PAISE = 100  # ₹1
MAX_PAISE = 100_000_000  # ₹10 lakh per transaction
_FUEL = category_index("Fuel")


def median_inr(category: np.ndarray, income: np.ndarray, festival: np.ndarray, impulse: np.ndarray) -> np.ndarray:
    """The median ticket of each row's distribution, before rounding."""
    return (
        CATEGORY_MEDIAN_INR[category]
        * INCOME_AMOUNT_MULTIPLIER[income]
        * FESTIVAL_AMOUNT_BOOST[festival, category]
        * np.where(impulse, IMPULSE_LIFT, 1.0)
    )


def draw_paise(rng: np.random.Generator, median: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Amounts in paise: long-tailed around median, rounded the way people pay."""
    n = len(median)
    inr = median * np.exp(CATEGORY_SIGMA[category] * rng.standard_normal(n))
    r = rng.random(n)
    whole_rupees = (inr < 500) & (r < 0.6)  # small UPI payments are mostly whole rupees
    hundreds = ((category == _FUEL) & (r < 0.5)) | ((inr >= 5000) & (r < 0.35))
    tens = (inr >= 500) & (inr < 5000) & (r < 0.25)
    paise = np.round(inr * 100)
    paise = np.where(whole_rupees, np.round(inr) * 100, paise)
    paise = np.where(tens, np.round(inr / 10) * 1000, paise)
    paise = np.where(hundreds, np.round(inr / 100) * 10_000, paise)
    return np.clip(paise, MIN_PAISE, MAX_PAISE).astype(np.int64)
