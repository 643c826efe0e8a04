"""Generate one shard of transactions: draw every column vectorised, order by time, add context."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from synfinance.generate.amounts import draw_paise, median_inr
from synfinance.generate.calendar import (
    CITY_ZONE,
    FESTIVAL_CATEGORY_BOOST,
    FESTIVAL_NAMES,
    N_FESTIVALS,
    Calendar,
)
from synfinance.generate.context import customer_context
from synfinance.generate.payment import Payment, draw_payment
from synfinance.generate.plan import GenerationPlan
from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.population.categories import CATEGORY_ONLINE_SHARE, category_index
from synfinance.population.customers import Customers
from synfinance.population.segments import (
    AGE_GROUP_EDGES,
    AGE_GROUPS,
    INCOME_BRACKETS,
    SEGMENT_CATEGORY_WEIGHTS,
    SEGMENT_HOURS,
    SEGMENT_NAMES,
)
from synfinance.sampling import STREAM_SHARD, categorical, format_ids, mix64, rng_for, seed_tag, take
from synfinance.schema import IST_OFFSET_S, TIMESTAMP_TYPE, TRANSACTION_SCHEMA, amounts_from_paise

PREFERRED_HOUR_P = 0.3
PREFERRED_CATEGORY_P = 0.45
FESTIVAL_PREFERRED_CATEGORY_P = 0.25
TRIP_TRAVEL_P = 0.2
ONLINE_PREF_PIVOT = 0.6  # a customer with this preference buys online at the category's base share
MAX_TRIPS = 6
SECOND_USUAL_P = 0.25
BROWSE_SKEW = 1.3  # >1 favours the first (most popular) merchants of a pool when not returning to a usual one
_TRAVEL = category_index("Travel")
_CAT_WEIGHTS = (SEGMENT_CATEGORY_WEIGHTS[:, None, :] * FESTIVAL_CATEGORY_BOOST[None, :, :]).reshape(
    -1, SEGMENT_CATEGORY_WEIGHTS.shape[1]
)
_EPOCH = dt.date(1970, 1, 1)


def _v(names: tuple[str, ...]) -> pa.Array:
    return pa.array(names, pa.string())


_VOCAB = {
    "city": _v(geo.CITY_NAMES), "state": _v(geo.CITY_STATES), "region": _v(geo.CITY_REGIONS),
    "festival": _v(("",) + FESTIVAL_NAMES), "mode": _v(pay.MODES), "network": _v(pay.CARD_NETWORKS),
    "status": _v(pay.STATUSES), "channel": _v(pay.CHANNELS), "device": _v(pay.DEVICE_TYPES),
    "os": _v(pay.OS_NAMES), "app": _v(pay.APP_VERSIONS), "segment": _v(SEGMENT_NAMES),
    "age_group": _v(AGE_GROUPS), "income": _v(INCOME_BRACKETS), "currency": _v(("INR",)),
}


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


def generate_shard(plan: GenerationPlan, shard: int) -> pa.Table:
    """All transactions of one shard, time-ordered, as a table of TRANSACTION_SCHEMA."""
    p, c, m, cal = plan.params, plan.customers, plan.merchants, plan.calendar
    lo, hi = plan.shard_bounds[shard]
    rng = rng_for(p.seed, STREAM_SHARD, shard)
    cust = np.repeat(np.arange(lo, hi), plan.counts[lo:hi])
    n = len(cust)
    segment, home = c.segment[cust], c.city[cust]
    zone = CITY_ZONE[home]

    # when
    day = categorical(rng, cal.day_weight, Calendar.key(c.segment, c.weekend_shopper, CITY_ZONE[c.city])[cust])
    hour = categorical(rng, SEGMENT_HOURS, segment)
    hour = np.where(rng.random(n) < PREFERRED_HOUR_P, c.pref_hours[cust, rng.integers(0, 3, n)], hour)
    festival = cal.festival[zone, day]

    # where: at home, or on a trip
    t_start, t_end, t_dest = _trips(rng, c, lo, hi, p.days)
    local = cust - lo
    inside = (day[:, None] >= t_start[local]) & (day[:, None] < t_end[local])
    on_trip = inside.any(axis=1)
    city = np.where(on_trip, t_dest[local, inside.argmax(axis=1)], home)

    # what
    category = categorical(rng, _CAT_WEIGHTS, segment * (N_FESTIVALS + 1) + festival)
    pref_p = np.where(festival > 0, FESTIVAL_PREFERRED_CATEGORY_P, PREFERRED_CATEGORY_P)
    pref = c.pref_categories[cust, categorical(rng, np.array([[0.5, 0.3, 0.2]]), np.zeros(n, dtype=np.int64))]
    category = np.where(rng.random(n) < pref_p, pref, category)
    category = np.where(on_trip & (rng.random(n) < TRIP_TRAVEL_P), _TRAVEL, category)
    online_p = CATEGORY_ONLINE_SHARE[category] * c.online_pref[cust] / ONLINE_PREF_PIVOT
    online = rng.random(n) < np.clip(online_p, 0.0, 0.97)

    # from whom: online from a hub city's chains; offline locally, loyal customers returning
    hubs = np.array(geo.ONLINE_HUBS)
    merchant_city = np.where(online, hubs[(cust + category) % len(hubs)], city)
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
    offset = np.where(rng.random(n) < c.loyalty[cust], usual, browse)
    merchant = start + offset

    # how much, how paid
    paise = draw_paise(rng, median_inr(category, c.income[cust], festival, c.impulse[cust]), category)
    payment = draw_payment(rng, c, cust, online, paise)

    # exact time, then order everything by it
    epoch_day = (p.start - _EPOCH).days + day
    local_s = epoch_day * 86_400 + hour * 3600 + rng.integers(0, 3600, n)
    ts_us = (local_s - IST_OFFSET_S) * 1_000_000 + rng.integers(0, 1_000_000, n)
    jitter = np.where(on_trip, 0.03, 0.015)
    lat = np.where(on_trip, geo.CITY_LAT[city], c.home_lat[cust]) + jitter * rng.standard_normal(n)
    lon = np.where(on_trip, geo.CITY_LON[city], c.home_lon[cust]) + jitter * rng.standard_normal(n)

    order = np.lexsort((cust, ts_us))
    cols = {
        "cust": cust, "day": epoch_day, "hour": hour, "festival": festival, "city": city, "category": category,
        "online": online, "merchant_city": merchant_city, "merchant": merchant, "paise": paise, "ts": ts_us,
        "lat": lat, "lon": lon,
    }
    s = {k: v[order] for k, v in cols.items()}
    pay_sorted = Payment(*(getattr(payment, f)[order] for f in Payment.__dataclass_fields__))
    return _assemble(plan, shard, s, pay_sorted)


def _assemble(plan: GenerationPlan, shard: int, s: dict[str, np.ndarray], payment: Payment) -> pa.Table:
    c, m = plan.customers, plan.merchants
    n = len(s["cust"])
    cust, merchant = s["cust"], s["merchant"]
    ctx = customer_context(cust, s["ts"], s["day"], merchant, s["paise"])
    has_device = payment.device_slot >= 0
    slot = np.maximum(payment.device_slot, 0)
    device_type = np.where(slot == 1, 1, c.mobile_type[cust])
    os_idx = np.where(slot == 1, c.desktop_os[cust], c.mobile_os[cust])
    app_valid = has_device & (payment.channel != pay.WEB)
    age_group = np.searchsorted(AGE_GROUP_EDGES, c.age[cust], side="right")
    mt = m.table
    tag = seed_tag(plan.params.seed)
    gap = ctx.time_since_last_s
    columns = [
        format_ids(f"TXN-{tag}-{shard:05d}-", np.arange(n), 8),
        c.ids.take(pa.array(cust)),
        mt.column("merchant_id").take(merchant),
        pa.array(s["ts"], TIMESTAMP_TYPE),
        pa.array(s["day"].astype(np.int32), pa.date32()),
        pa.array(s["hour"].astype(np.int8)),
        pa.array(((s["day"] + 3) % 7).astype(np.int8)),  # 1970-01-01 was a Thursday
        take(_VOCAB["festival"], s["festival"], s["festival"] > 0),
        amounts_from_paise(s["paise"]),
        take(_VOCAB["currency"], np.zeros(n, dtype=np.int64)),
        mt.column("category").take(merchant),
        mt.column("subcategory").take(merchant),
        mt.column("mcc").take(merchant),
        take(_VOCAB["mode"], payment.mode),
        take(_VOCAB["network"], np.maximum(payment.card_network, 0), payment.card_network >= 0),
        take(c.instrument_ids, np.maximum(payment.instrument, 0), payment.instrument >= 0),
        take(_VOCAB["status"], payment.status),
        take(_VOCAB["channel"], payment.channel),
        pa.array(s["online"]),
        mt.column("name").take(merchant),
        mt.column("merchant_type").take(merchant),
        mt.column("reputation").take(merchant),
        take(_VOCAB["city"], s["city"]),
        take(_VOCAB["state"], s["city"]),
        take(_VOCAB["region"], s["city"]),
        take(_VOCAB["city"], s["merchant_city"]),
        pa.array(s["lat"]),
        pa.array(s["lon"]),
        take(c.device_ids, cust * 2 + slot, has_device),
        take(_VOCAB["device"], device_type, has_device),
        take(_VOCAB["os"], np.maximum(os_idx, 0), has_device),
        take(_VOCAB["app"], c.app_version[cust], app_valid),
        take(_VOCAB["segment"], c.segment[cust]),
        take(_VOCAB["age_group"], age_group),
        take(_VOCAB["income"], c.income[cust]),
        pa.array(geo.haversine_km(s["lat"], s["lon"], c.home_lat[cust], c.home_lon[cust])),
        pa.array(gap, mask=np.isnan(gap)),
        pa.array(ctx.first_with_merchant),
        pa.array(ctx.daily_count),
        amounts_from_paise(ctx.daily_paise),
        *_empty_labels(n),
    ]
    return pa.Table.from_arrays(columns, schema=TRANSACTION_SCHEMA)


def _empty_labels(n: int) -> list[pa.Array]:
    no = pa.array(np.zeros(n, dtype=bool))
    text, score = pa.nulls(n, pa.string()), pa.nulls(n, pa.float64())
    return [no, text, text, score, text, no, text, text, score, text]
