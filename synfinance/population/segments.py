"""Customer segments and the attribute tables that keep a customer's traits mutually plausible."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synfinance.population.categories import N_CATEGORIES as _N_CATEGORIES

INCOME_BRACKETS = ("Low", "Lower Middle", "Middle", "Upper Middle", "High", "Very High")
INCOME_RANGE_INR = np.array(
    [[8_000, 25_000], [25_000, 50_000], [50_000, 100_000], [100_000, 200_000], [200_000, 500_000], [500_000, 1_500_000]]
)
# How ticket sizes scale with income, relative to the Middle bracket.
INCOME_AMOUNT_MULTIPLIER = np.array([0.45, 0.7, 1.0, 1.45, 2.1, 3.2])

OCCUPATIONS = (
    "Salaried (Private)", "Government Employee", "IT Professional", "Business Owner",
    "Self-Employed Professional", "Homemaker", "Student", "Retired", "Freelancer", "Daily Wage Worker",
)
LEVELS = ("Low", "Medium", "High")
GENDERS = ("Male", "Female", "Other")
GENDER_WEIGHTS = np.array([0.52, 0.47, 0.01])
AGE_GROUPS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_GROUP_EDGES = np.array([25, 35, 45, 55, 65])


def _occ(**weights: float) -> np.ndarray:
    names = {o.split(" ")[0].lower().strip("(),"): i for i, o in enumerate(OCCUPATIONS)}
    out = np.zeros(len(OCCUPATIONS))
    for key, w in weights.items():
        out[names[key]] = w
    return out / out.sum()


_BASE_HOURS = np.array(
    [.15, .08, .04, .03, .03, .08, .3, .7, 1.0, 1.2, 1.3, 1.4,
     1.7, 1.6, 1.3, 1.2, 1.3, 1.5, 1.9, 2.2, 2.2, 1.8, 1.1, .5]
)


def _hours(boosts: dict[tuple[int, int], float]) -> np.ndarray:
    h = _BASE_HOURS.copy()
    for (lo, hi), factor in boosts.items():
        idx = np.arange(lo, hi + 1) % 24
        h[idx] *= factor
    return h / h.sum()


@dataclass(frozen=True)
class Segment:
    name: str
    share: float
    age: tuple[int, int]
    income: np.ndarray  # weights over INCOME_BRACKETS
    occupation: np.ndarray  # weights over OCCUPATIONS
    savviness: np.ndarray  # weights over LEVELS
    risk: np.ndarray  # weights over LEVELS
    monthly_txns: tuple[int, int]
    categories: np.ndarray  # relative liking per category (order of CATEGORIES)
    hours: np.ndarray  # hour-of-day profile, IST
    weekend_shopper_p: float
    travel_p: float
    online_pref: float
    loyalty: float
    brand_p: float
    impulse_p: float


def _w(*xs: float) -> np.ndarray:
    a = np.array(xs, dtype=float)
    return a / a.sum()


SEGMENTS: tuple[Segment, ...] = (
    Segment("Young Professional", 0.20, (23, 34), _w(.02, .15, .38, .30, .12, .03),
            _occ(salaried=.4, it=.35, **{"self-employed": .1}, freelancer=.1, government=.05),
            _w(.05, .35, .60), _w(.25, .5, .25), (35, 70),
            _w(1.0, 1.6, .8, 1.0, .5, .1, .7, 1.0, .7, .3, .2, .3),
            _hours({(22, 25): 1.2, (10, 16): 0.8}), .45, .30, .60, .50, .50, .35),
    Segment("Family Oriented", 0.22, (32, 52), _w(.05, .25, .40, .22, .07, .01),
            _occ(salaried=.35, government=.2, business=.15, homemaker=.2, **{"self-employed": .1}),
            _w(.25, .5, .25), _w(.55, .35, .10), (30, 60),
            _w(2.0, 1.0, 1.0, .9, .4, .25, .3, .5, 1.0, .7, .8, .5),
            _hours({(10, 13): 1.2, (17, 20): 1.2, (23, 28): 0.6}), .60, .15, .35, .70, .40, .20),
    Segment("Budget Conscious", 0.18, (25, 60), _w(.45, .40, .13, .02, 1e-9, 1e-9),
            _occ(daily=.25, salaried=.3, homemaker=.15, **{"self-employed": .1}, business=.1, government=.1),
            _w(.45, .40, .15), _w(.6, .3, .1), (20, 45),
            _w(2.2, .8, .7, .5, .15, .05, .15, .3, 1.0, .6, .4, .3),
            _hours({}), .40, .05, .20, .75, .15, .10),
    Segment("Tech-Savvy Millennial", 0.12, (22, 38), _w(.03, .15, .35, .32, .13, .02),
            _occ(it=.55, freelancer=.2, salaried=.2, business=.05),
            _w(1e-9, .15, .85), _w(.2, .45, .35), (50, 100),
            _w(.9, 1.8, .5, 1.1, .9, .1, .6, 1.3, .8, .3, .4, .2),
            _hours({(21, 25): 1.5}), .50, .35, .80, .40, .55, .45),
    Segment("Affluent Shopper", 0.08, (30, 60), _w(1e-9, 1e-9, .05, .25, .45, .25),
            _occ(business=.45, **{"self-employed": .25}, salaried=.2, it=.1),
            _w(.1, .4, .5), _w(.25, .45, .3), (40, 80),
            _w(1.0, 1.3, .8, 1.5, .9, .9, 1.2, .8, .7, .4, .4, .6),
            _hours({(11, 16): 1.2, (19, 22): 1.2}), .55, .60, .55, .55, .85, .50),
    Segment("Senior Conservative", 0.12, (60, 82), _w(.3, .35, .25, .08, .02, 1e-9),
            _occ(retired=.8, business=.1, homemaker=.1),
            _w(.65, .30, .05), _w(.8, .18, .02), (12, 30),
            _w(2.0, .5, .4, .3, .1, .2, .2, .2, 1.2, 1.6, .05, .5),
            _hours({(6, 11): 1.6, (19, 23): 0.6, (0, 5): 0.3}), .30, .10, .15, .85, .30, .05),
    Segment("Student", 0.08, (18, 24), _w(.85, .15, 1e-9, 1e-9, 1e-9, 1e-9),
            _occ(student=1.0),
            _w(.05, .35, .60), _w(.3, .45, .25), (20, 50),
            _w(.5, 2.0, .3, .8, .3, 1e-9, .3, 1.5, .6, .2, 1.0, .2),
            _hours({(22, 26): 2.0, (6, 9): 0.5}), .50, .10, .70, .40, .45, .45),
)

SEGMENT_NAMES = tuple(s.name for s in SEGMENTS)
SEGMENT_SHARE = np.array([s.share for s in SEGMENTS])
# Categories without ordinary demand (transfers) get weight 0 and are never drawn for spending.
SEGMENT_CATEGORY_WEIGHTS = np.stack([s.categories for s in SEGMENTS])
SEGMENT_CATEGORY_WEIGHTS = np.hstack(
    [SEGMENT_CATEGORY_WEIGHTS, np.zeros((len(SEGMENTS), _N_CATEGORIES - SEGMENT_CATEGORY_WEIGHTS.shape[1]))]
)
SEGMENT_HOURS = np.stack([s.hours for s in SEGMENTS])


def stacked(attr: str) -> np.ndarray:
    """One segment attribute as a (segments, ...) array, e.g. stacked("income")."""
    return np.stack([np.asarray(getattr(s, attr), dtype=float) for s in SEGMENTS])
