"""Turn a shard's frame into the Transaction table: order by time, derive local fields, add context."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from synfinance.generation.context import customer_context
from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.population.segments import AGE_GROUP_EDGES, AGE_GROUPS, INCOME_BRACKETS, SEGMENT_NAMES
from synfinance.sampling import format_ids, seed_tag, take
from synfinance.schema import EPOCH_DATE, TIMESTAMP_TYPE, TRANSACTION_SCHEMA, amounts_from_paise, ist_calendar
from synfinance.world.calendar import CITY_ZONE, FESTIVAL_NAMES
from synfinance.world.frame import SEVERITIES, Frame, Labels, order_by

if TYPE_CHECKING:
    from synfinance.world.plan import GenerationPlan


def _v(names: tuple[str, ...]) -> pa.Array:
    return pa.array(names, pa.string())


VOCAB = {
    "city": _v(geo.CITY_NAMES), "state": _v(geo.CITY_STATES), "region": _v(geo.CITY_REGIONS),
    "festival": _v(("",) + FESTIVAL_NAMES), "mode": _v(pay.MODES), "network": _v(pay.CARD_NETWORKS),
    "status": _v(pay.STATUSES), "channel": _v(pay.CHANNELS), "device": _v(pay.DEVICE_TYPES),
    "os": _v(pay.OS_NAMES), "app": _v(pay.APP_VERSIONS), "segment": _v(SEGMENT_NAMES),
    "age_group": _v(AGE_GROUPS), "income": _v(INCOME_BRACKETS), "currency": _v(("INR",)),
    "severity": _v(SEVERITIES),
}


def assemble(plan: GenerationPlan, shard: int, frame: Frame) -> pa.Table:
    c, m, devices = plan.customers, plan.merchants, plan.devices
    frame.permute(order_by(frame["ts"], frame["cust"]))
    f = frame.cols
    n = len(frame)
    cust, merchant, ts = f["cust"], f["merchant"], f["ts"]
    day, hour, weekday = ist_calendar(ts)
    first_day = (plan.params.start - EPOCH_DATE).days
    in_range = np.clip(day - first_day, 0, plan.calendar.days - 1)
    festival = plan.calendar.festival[CITY_ZONE[c.city[cust]], in_range]
    ctx = customer_context(cust, ts, day, merchant, f["paise"])
    has_device = f["device"] >= 0
    dev = np.maximum(f["device"], 0)
    app_valid = has_device & (f["channel"] != pay.WEB)
    age_group = np.searchsorted(AGE_GROUP_EDGES, c.age[cust], side="right")
    mt = m.table
    gap = ctx.time_since_last_s
    columns = [
        format_ids(f"TXN-{seed_tag(plan.params.seed)}-{shard:05d}-", np.arange(n), 8),
        c.ids.take(pa.array(cust)),
        mt.column("merchant_id").take(merchant),
        pa.array(ts, TIMESTAMP_TYPE),
        pa.array(day.astype(np.int32), pa.date32()),
        pa.array(hour.astype(np.int8)),
        pa.array(weekday.astype(np.int8)),
        take(VOCAB["festival"], festival, festival > 0),
        amounts_from_paise(f["paise"]),
        take(VOCAB["currency"], np.zeros(n, dtype=np.int64)),
        mt.column("category").take(merchant),
        mt.column("subcategory").take(merchant),
        mt.column("mcc").take(merchant),
        take(VOCAB["mode"], f["mode"]),
        take(VOCAB["network"], np.maximum(f["card_network"], 0), f["card_network"] >= 0),
        take(c.instrument_ids, np.maximum(f["instrument"], 0), f["instrument"] >= 0),
        take(VOCAB["status"], f["status"]),
        take(VOCAB["channel"], f["channel"]),
        pa.array(f["online"]),
        mt.column("name").take(merchant),
        mt.column("merchant_type").take(merchant),
        mt.column("reputation").take(merchant),
        take(VOCAB["city"], f["city"]),
        take(VOCAB["state"], f["city"]),
        take(VOCAB["region"], f["city"]),
        take(VOCAB["city"], m.city[merchant]),
        pa.array(f["lat"]),
        pa.array(f["lon"]),
        take(devices.ids, dev, has_device),
        take(VOCAB["device"], devices.device_type[dev], has_device),
        take(VOCAB["os"], devices.os[dev], has_device),
        take(VOCAB["app"], devices.app_version[dev], app_valid),
        take(VOCAB["segment"], c.segment[cust]),
        take(VOCAB["age_group"], age_group),
        take(VOCAB["income"], c.income[cust]),
        pa.array(geo.haversine_km(f["lat"], f["lon"], c.home_lat[cust], c.home_lon[cust])),
        pa.array(gap, mask=np.isnan(gap)),
        pa.array(ctx.first_with_merchant),
        pa.array(ctx.daily_count),
        amounts_from_paise(ctx.daily_paise),
        *_labels(frame.fraud, plan.fraud_type_names),
        *_labels(frame.anomaly, plan.anomaly_type_names),
    ]
    return pa.Table.from_arrays(columns, schema=TRANSACTION_SCHEMA)


def _labels(labels: Labels, type_names: tuple[str, ...]) -> list[pa.Array]:
    flagged = labels.flagged
    confidence = np.round(labels.confidence, 4)
    return [
        pa.array(flagged),
        take(_v(type_names) if type_names else _v(("",)), np.maximum(labels.type, 0), flagged),
        take(VOCAB["severity"], np.maximum(labels.severity, 0), flagged),
        pa.array(np.where(flagged, confidence, 0.0), mask=~flagged),
        labels.evidence_column(),
    ]
