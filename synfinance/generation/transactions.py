"""Generate one shard: draw ordinary transactions vectorised, inject patterns, assemble the table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synfinance.generation.assemble import assemble
from synfinance.generation.lookalikes import apply_lookalikes
from synfinance.generation.transfers import TRANSFERS, p2p_paise, p2p_rows, pick_payee
from synfinance.patterns import inject
from synfinance.population import geography as geo
from synfinance.population.calibration import calibration
from synfinance.population.categories import CATEGORY_ONLINE_SHARE, category_index
from synfinance.population.customers import Customers
from synfinance.population.merchants import Merchants
from synfinance.population.segments import (
    SEGMENT_CATEGORY_WEIGHTS,
    SEGMENT_HOURS,
)
from synfinance.sampling import STREAM_PATTERNS, STREAM_SHARD, categorical, mix64, rng_for
from synfinance.schema import EPOCH_DATE, IST_OFFSET_S
from synfinance.world.amounts import draw_paise, median_inr
from synfinance.world.calendar import (
    CITY_ZONE,
    FESTIVAL_CATEGORY_BOOST,
    N_FESTIVALS,
    Calendar,
)
from synfinance.world.frame import Frame
from synfinance.world.payment import draw_payment
from synfinance.world.plan import GenerationPlan

PREFERRED_HOUR_P = 0.3
PREFERRED_CATEGORY_P = 0.45
FESTIVAL_PREFERRED_CATEGORY_P = 0.25
TRIP_TRAVEL_P = 0.2
ONLINE_PREF_PIVOT = 0.6  # a customer with this preference buys online at the category's base share
MAX_TRIPS = 6
MONTH_START_AMOUNT = calibration().model.p2m.month_start_amount  # salary-day purchases are larger
SECOND_USUAL_P = 0.25
BROWSE_SKEW = 1.3  # >1 favours the first (most popular) merchants of a pool when not returning to a usual one
_TRAVEL = category_index("Travel")
_CAT_WEIGHTS = (SEGMENT_CATEGORY_WEIGHTS[:, None, :] * FESTIVAL_CATEGORY_BOOST[None, :, :]).reshape(
    -1, SEGMENT_CATEGORY_WEIGHTS.shape[1]
)


def _trips(rng: np.random.Generator, c: Customers, lo: int, hi: int, days: int) -> tuple[np.ndarray, ...]:
    """Trip windows per customer of the shard: (start day, end day exclusive, destination city), -1 padded."""
    n = hi - lo
    expected = np.where(c.travels[lo:hi], 1.2 * days / 30, 0.25 * days / 90)
    count = np.minimum(rng.poisson(expected), MAX_TRIPS)
    start = rng.integers(0, days, size=(n, MAX_TRIPS))
    end = start + rng.integers(2, 7, size=(n, MAX_TRIPS))
    dest = rng.choice(len(geo.CITIES), size=(n, MAX_TRIPS), p=geo.CITY_WEIGHT)
    home = c.city[lo:hi, None]
    n_cities = len(geo.CITIES)
    elsewhere = (dest + 1 + rng.integers(0, n_cities - 1, size=dest.shape)) % n_cities
    dest = np.where(dest == home, elsewhere, dest)
    unused = np.arange(MAX_TRIPS)[None, :] >= count[:, None]
    start[unused] = -1
    end[unused] = -1
    return start, end, dest


def draw_frame(plan: GenerationPlan, shard: int, rng: np.random.Generator) -> Frame:
    """The shard's ordinary transactions, drawn column by column, in customer blocks."""
    params, customers, merchants, calendar = plan.params, plan.customers, plan.merchants, plan.calendar
    lo, hi = plan.shard_bounds[shard]
    counts = plan.counts[lo:hi]
    cust = np.repeat(np.arange(lo, hi), counts)
    n = len(cust)
    segment, home = customers.segment[cust], customers.city[cust]
    zone = CITY_ZONE[home]

    # when
    day = categorical(rng, calendar.day_weight, Calendar.key(customers.segment, customers.weekend_shopper,
                                                             CITY_ZONE[customers.city])[cust])
    hour = categorical(rng, SEGMENT_HOURS, segment)
    hour = np.where(rng.random(n) < PREFERRED_HOUR_P, customers.pref_hours[cust, rng.integers(0, 3, n)], hour)
    festival = calendar.festival[zone, day]

    # where: at home, or on a trip
    t_start, t_end, t_dest = _trips(rng, customers, lo, hi, params.days)
    local = cust - lo
    inside = (day[:, None] >= t_start[local]) & (day[:, None] < t_end[local])
    on_trip = inside.any(axis=1)
    city = np.where(on_trip, t_dest[local, inside.argmax(axis=1)], home)

    # what
    category = categorical(rng, _CAT_WEIGHTS, segment * (N_FESTIVALS + 1) + festival)
    pref_p = np.where(festival > 0, FESTIVAL_PREFERRED_CATEGORY_P, PREFERRED_CATEGORY_P)
    pref = customers.pref_categories[cust, categorical(rng, np.array([[0.5, 0.3, 0.2]]), np.zeros(n, dtype=np.int64))]
    category = np.where(rng.random(n) < pref_p, pref, category)
    category = np.where(on_trip & (rng.random(n) < TRIP_TRAVEL_P), _TRAVEL, category)
    online_p = CATEGORY_ONLINE_SHARE[category] * customers.online_pref[cust] / ONLINE_PREF_PIVOT
    online = rng.random(n) < np.clip(online_p, 0.0, 0.97)

    # or a transfer to a person, from the phone
    month_start = calendar.month_start[day]
    p2p = p2p_rows(rng, month_start, festival)
    category = np.where(p2p, TRANSFERS, category)
    online = online | p2p

    # from whom
    merchant_city = np.where(online, online_hub(cust, category), city)
    merchant = pick_merchant(rng, merchants, customers, cust, category, merchant_city, online)
    payee, payee_home = pick_payee(rng, merchants, cust[p2p], home[p2p])
    merchant[p2p], merchant_city[p2p] = payee, payee_home

    # how much, how paid
    median = median_inr(category, customers.income[cust], festival, customers.impulse[cust])
    paise = draw_paise(rng, median * np.where(month_start, MONTH_START_AMOUNT, 1.0), category)
    paise[p2p] = p2p_paise(rng, month_start[p2p])
    payment = draw_payment(rng, customers, cust, online, paise, p2p)

    # exact time and place
    epoch_day = (params.start - EPOCH_DATE).days + day
    local_s = epoch_day * 86_400 + hour * 3600 + rng.integers(0, 3600, n)
    ts_us = (local_s - IST_OFFSET_S) * 1_000_000 + rng.integers(0, 1_000_000, n)
    jitter = np.where(on_trip, 0.03, 0.015)
    lat = np.where(on_trip, geo.CITY_LAT[city], customers.home_lat[cust]) + jitter * rng.standard_normal(n)
    lon = np.where(on_trip, geo.CITY_LON[city], customers.home_lon[cust]) + jitter * rng.standard_normal(n)
    device = np.where(payment.device_slot >= 0, cust * 2 + np.maximum(payment.device_slot, 0), -1)
    cols = {
        "cust": cust, "ts": ts_us, "city": city, "lat": lat, "lon": lon, "category": category, "online": online,
        "merchant_city": merchant_city, "merchant": merchant, "paise": paise, "mode": payment.mode,
        "channel": payment.channel, "device": device, "instrument": payment.instrument,
        "card_network": payment.card_network, "status": payment.status,
    }
    return Frame.from_columns(cols, np.arange(lo, hi), counts)


def online_hub(cust: np.ndarray, category: np.ndarray) -> np.ndarray:
    """The city whose chains serve a customer's online orders in a category."""
    hubs = np.array(geo.ONLINE_HUBS)
    return hubs[(cust + category) % len(hubs)]


def pick_merchant(
    rng: np.random.Generator, m: Merchants, c: Customers, cust: np.ndarray, category: np.ndarray,
    merchant_city: np.ndarray, online: np.ndarray,
) -> np.ndarray:
    """Online orders go to a hub city's chains; in person, loyal customers return to their usual shops."""
    n = len(cust)
    start = m.pool_start[merchant_city, category]
    size = m.pool_size[merchant_city, category]
    chains = m.pool_chains[merchant_city, category]
    # Usual merchants depend only on who, what and where (two per pool, the first used most),
    # so a loyal customer really does come back to the same shop.
    usual_span = np.where((online | c.brand_conscious[cust]) & (chains > 0), chains, size)
    slot = (rng.random(n) < SECOND_USUAL_P).astype(np.int64)
    usual = (mix64(cust, category, merchant_city, slot) % usual_span.astype(np.uint64)).astype(np.int64)
    chain_only = (online | (c.brand_conscious[cust] & (rng.random(n) < 0.6))) & (chains > 0)
    span = np.where(chain_only, chains, size)
    browse = np.floor(span * rng.random(n) ** BROWSE_SKEW).astype(np.int64)
    return start + np.where(rng.random(n) < c.loyalty[cust], usual, browse)


def generate_shard(plan: GenerationPlan, shard: int) -> pa.Table:
    """All transactions of one shard, patterns injected, time-ordered, as a TRANSACTION_SCHEMA table."""
    rng = rng_for(plan.params.seed, STREAM_SHARD, shard)
    frame = draw_frame(plan, shard, rng)
    apply_lookalikes(plan, shard, frame)
    if plan.params.patterns:
        inject(plan, shard, frame, rng_for(plan.params.seed, STREAM_PATTERNS, shard))
    return assemble(plan, shard, frame)
