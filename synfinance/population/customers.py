"""Build the customer population: plausible attributes, drawn vectorised from one seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.population import segments as seg
from synfinance.population.calibration import calibration
from synfinance.population.categories import CATEGORY_MEDIAN_INR, CATEGORY_NAMES, CATEGORY_SIGMA
from synfinance.sampling import STREAM_POPULATION, categorical, format_ids, mix64, rng_for, take, top_k
from synfinance.schema import CUSTOMER_SCHEMA


@dataclass(frozen=True)
class Customers:
    """The customer table plus the integer codes the generator works with."""

    table: pa.Table
    segment: np.ndarray
    city: np.ndarray
    income: np.ndarray
    monthly_income: np.ndarray  # INR
    savviness: np.ndarray
    age: np.ndarray
    rate: np.ndarray  # relative transaction rate
    loyalty: np.ndarray
    online_pref: np.ndarray
    weekend_shopper: np.ndarray
    brand_conscious: np.ndarray
    impulse: np.ndarray
    travels: np.ndarray
    pref_categories: np.ndarray  # (n, 3)
    pref_modes: np.ndarray  # (n, 2)
    pref_hours: np.ndarray  # (n, 3)
    home_lat: np.ndarray
    home_lon: np.ndarray
    has_credit_card: np.ndarray
    credit_network: np.ndarray
    debit_network: np.ndarray
    mobile_type: np.ndarray  # index into DEVICE_TYPES (Mobile or Tablet)
    mobile_os: np.ndarray
    desktop_os: np.ndarray  # -1: no desktop
    app_version: np.ndarray
    ids: pa.Array
    instrument_ids: pa.Array  # n * len(INSTRUMENT_KINDS), row-major by customer
    device_ids: pa.Array  # n * 2: mobile then desktop

    def __len__(self) -> int:
        return len(self.segment)


def _in_range(rng: np.random.Generator, bounds: np.ndarray) -> np.ndarray:
    lo, hi = bounds[..., 0], bounds[..., 1]
    return lo + (hi - lo) * rng.random(len(lo))


def build_customers(seed: int, n: int) -> Customers:
    """n customers for a seed; the same (seed, n) always gives the same population."""
    rng = rng_for(seed, STREAM_POPULATION)
    segment = rng.choice(len(seg.SEGMENTS), size=n, p=seg.SEGMENT_SHARE)
    city = rng.choice(len(geo.CITIES), size=n, p=geo.CITY_WEIGHT)
    ages = np.array([s.age for s in seg.SEGMENTS])
    age = np.floor(_in_range(rng, ages[segment].astype(float) + [0, 1])).astype(np.int8)
    income = categorical(rng, seg.stacked("income"), segment)
    # Higher tiers earn more: shift a third of tier-1 customers up one bracket where their segment allows.
    up = (geo.CITY_TIER[city] == 1) & (rng.random(n) < 0.33) & (income < 5)
    up &= seg.stacked("income")[segment, np.minimum(income + 1, 5)] > 0.01
    income = income + up
    occupation = categorical(rng, seg.stacked("occupation"), segment)
    savviness = categorical(rng, seg.stacked("savviness"), segment)
    risk = categorical(rng, seg.stacked("risk"), segment)
    gender = rng.choice(3, size=n, p=seg.GENDER_WEIGHTS)
    monthly_income = np.round(_in_range(rng, seg.INCOME_RANGE_INR[income].astype(float)), -2).astype(np.int64)

    def trait(attr: str, spread: float) -> np.ndarray:
        mean = np.array([getattr(s, attr) for s in seg.SEGMENTS])[segment]
        return np.clip(mean + spread * rng.standard_normal(n), 0.02, 0.98)

    loyalty = trait("loyalty", 0.15)
    online_pref = trait("online_pref", 0.15)
    online_pref = np.clip(online_pref + 0.08 * (savviness - 1), 0.02, 0.98)

    def flag(attr: str) -> np.ndarray:
        return rng.random(n) < np.array([getattr(s, attr) for s in seg.SEGMENTS])[segment]

    weekend_shopper, brand = flag("weekend_shopper_p"), flag("brand_p")
    impulse, travels = flag("impulse_p"), flag("travel_p")
    travels |= (income >= 4) & (rng.random(n) < 0.4)

    pref_categories = top_k(rng, seg.SEGMENT_CATEGORY_WEIGHTS[segment], 3)
    has_cc = rng.random(n) < pay.CREDIT_CARD_SHARE[income]
    # usual modes: drawn from the calibrated mix of merchant payments (UPI first for nearly everyone)
    mix = calibration().mode_weights(online=False).mean(axis=0) + calibration().mode_weights(online=True).mean(axis=0)
    mode_w = np.tile(mix, (n, 1))
    mode_w[~has_cc, pay.CREDIT] = 0.0
    mode_w[~has_cc, pay.EMI] = 0.0
    pref_modes = top_k(rng, mode_w, 2)
    pref_hours = top_k(rng, seg.SEGMENT_HOURS[segment], 3)

    lo, hi = np.array([s.monthly_txns for s in seg.SEGMENTS]).T
    monthly = rng.integers(lo[segment], hi[segment] + 1)
    monthly = np.round(monthly * np.where(savviness == 2, 1.15, 1.0) * np.where(impulse, 1.1, 1.0)).astype(np.int16)
    like = seg.SEGMENT_CATEGORY_WEIGHTS[segment]
    mean_ticket = CATEGORY_MEDIAN_INR * np.exp(CATEGORY_SIGMA**2 / 2)
    avg_amount = np.round((like @ mean_ticket) * seg.INCOME_AMOUNT_MULTIPLIER[income], 2)

    home_lat = geo.CITY_LAT[city] + rng.normal(0, 0.04, n)
    home_lon = geo.CITY_LON[city] + rng.normal(0, 0.04, n)
    credit_network = rng.choice(4, size=n, p=pay.CREDIT_NETWORK_WEIGHTS)
    debit_network = rng.choice(4, size=n, p=pay.DEBIT_NETWORK_WEIGHTS)
    mobile_type = np.where(rng.random(n) < 0.06, 2, 0)
    ios_share = np.where(income >= 3, 0.45, 0.12)
    mobile_os = (rng.random(n) < ios_share).astype(np.int8)
    desktop_os = np.where(
        rng.random(n) < pay.DESKTOP_SHARE[savviness], 2 + rng.choice(3, size=n, p=[.8, .15, .05]), -1
    )
    app_version = categorical(rng, pay.APP_VERSION_WEIGHTS, savviness)

    idx = np.arange(n)
    ids = format_ids("CUST_", idx, 7)
    kinds = len(pay.INSTRUMENT_KINDS)
    token = (idx[:, None] * kinds + np.arange(kinds)).ravel()
    prefixes = np.tile(np.array([f"{k}-" for k in pay.INSTRUMENT_KINDS]), n)
    instrument_ids = format_ids(pa.array(prefixes), _token_digits(seed, token), 12)
    device_prefixes = pa.array(np.tile(np.array(["DEV-M-", "DEV-D-"]), n))
    device_ids = format_ids(device_prefixes, _token_digits(seed + 1, np.arange(2 * n)), 12)

    def v(names: tuple[str, ...]) -> pa.Array:
        return pa.array(names, pa.string())

    cats = v(CATEGORY_NAMES)
    table = pa.Table.from_arrays(
        [
            ids,
            pa.array(age, pa.int8()),
            take(v(seg.GENDERS), gender),
            take(v(geo.CITY_NAMES), city),
            take(v(geo.CITY_STATES), city),
            take(v(geo.CITY_REGIONS), city),
            take(v(seg.INCOME_BRACKETS), income),
            take(v(seg.OCCUPATIONS), occupation),
            pa.array(monthly_income),
            take(v(seg.SEGMENT_NAMES), segment),
            take(v(seg.LEVELS), risk),
            take(v(seg.LEVELS), savviness),
            pa.array(avg_amount),
            pa.array(monthly, pa.int16()),
            _lists(take(cats, pref_categories.ravel()), 3),
            _lists(take(v(pay.MODES), pref_modes.ravel()), 2),
            _lists(pa.array(pref_hours.ravel().astype(np.int8)), 3),
            pa.array(weekend_shopper),
            pa.array(np.round(loyalty, 4)),
            pa.array(brand),
            pa.array(impulse),
            pa.array(travels),
            pa.array(np.round(online_pref, 4)),
            pa.array(home_lat),
            pa.array(home_lon),
        ],
        schema=CUSTOMER_SCHEMA,
    )
    return Customers(
        table=table, segment=segment, city=city, income=income, monthly_income=monthly_income,
        savviness=savviness, age=age,
        rate=monthly.astype(float), loyalty=loyalty, online_pref=online_pref, weekend_shopper=weekend_shopper,
        brand_conscious=brand, impulse=impulse, travels=travels, pref_categories=pref_categories,
        pref_modes=pref_modes, pref_hours=pref_hours, home_lat=home_lat, home_lon=home_lon,
        has_credit_card=has_cc, credit_network=credit_network, debit_network=debit_network,
        mobile_type=mobile_type, mobile_os=mobile_os, desktop_os=desktop_os, app_version=app_version,
        ids=ids, instrument_ids=instrument_ids, device_ids=device_ids,
    )


def _token_digits(seed: int, keys: np.ndarray) -> np.ndarray:
    """Opaque, stable 12-digit tokens for instrument and device ids."""
    return mix64(np.full(len(keys), seed), keys) % np.uint64(10**12)


def _lists(values: pa.Array, width: int) -> pa.Array:
    offsets = pa.array(np.arange(0, len(values) + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, values)
