"""A campaign's part in injection: a type's row budget cut into segments over time, and the entry's shaping.

A fraud type a campaign names is injected segment by segment: one per entry (its days, its budget: the
multiplier times the type's rate over the shard's rows in those days, or the entry's count in proportion to
the shard's rows) and the stationary rest (the days between entries, at the type's own rate). A segment places
its cases in its days in proportion to the day's transactions, so its realised rate per day follows the file.
After the pattern has rewritten a segment's rows, `shape` applies what the entry adds: the merchants the attack
runs through, an amount scale, the fraudsters' adaptation from its date on, and evidence naming campaign and entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.patterns.base import Injection
from synfinance.population.categories import category_index
from synfinance.schema import US_PER_DAY
from synfinance.world.campaign import Scheduled
from synfinance.world.frame import Frame

if TYPE_CHECKING:
    from synfinance.patterns.context import PatternContext
    from synfinance.world.plan import GenerationPlan


@dataclass(frozen=True)
class Segment:
    """Part of a type's injection: the UTC-microsecond windows [lo, hi) its cases fall in, its row budget, and
    the entry that shapes it (None: the type's stationary rate between entries)."""

    windows: np.ndarray  # (k, 2) int64
    budget: float  # rows expected (rounded at random when applied)
    scheduled: Scheduled | None


def in_windows(ts: np.ndarray, windows: np.ndarray, end_us: int, margin_us: int = 0) -> np.ndarray:
    """Which times fall in the windows; the margin is kept free only before the end of the date range (end_us):
    a case that starts on a window's last day may run past it, as a real campaign tails off."""
    inside = np.zeros(len(ts), dtype=bool)
    for lo, hi in windows:
        end = hi - margin_us if hi == end_us and hi - lo > 2 * margin_us else hi
        inside |= (ts >= lo) & (ts < end)
    return inside


def segments(plan: GenerationPlan, frame: Frame, fraud_type: str, stationary_rate: float,
             tail_days: float) -> list[Segment]:
    """The stationary rest first, then each entry of the type in time order. A budget counts the rows its cases
    can start among: none start in the pattern's last tail_days of the range."""
    assert plan.params.campaign is not None
    ts, n = frame["ts"], len(frame)
    margin_us = int(tail_days * US_PER_DAY)
    day_us = plan.first_us + np.arange(plan.params.days + 1, dtype=np.int64) * US_PER_DAY
    out: list[Segment] = []
    edges = [plan.first_us]
    base_rate = plan.params.fraud_rate * plan.campaign_share(fraud_type)
    for s in plan.params.campaign.entries_for(fraud_type, plan.params.start):
        window = np.array([[day_us[s.first_day], day_us[s.end_day]]], dtype=np.int64)
        e = s.entry
        if e.multiplier is not None:
            budget = base_rate * e.multiplier * int(in_windows(ts, window, plan.end_us, margin_us).sum())
        else:
            budget = (e.count or 0) * n / plan.params.count
        out.append(Segment(window, budget, s))
        edges += [int(window[0, 0]), int(window[0, 1])]
    edges.append(plan.end_us)
    rest = np.array(edges, dtype=np.int64).reshape(-1, 2)
    rest = rest[rest[:, 1] > rest[:, 0]]
    rows_in_rest = int(in_windows(ts, rest, plan.end_us, margin_us).sum())
    return [Segment(rest, stationary_rate * rows_in_rest, None), *out]


def shape(frame: Frame, ctx: PatternContext, inj: Injection, s: Scheduled) -> Injection:
    """The entry's merchants, amount scale and adaptation applied to the rows a pattern wrote, and its evidence."""
    e, rows = s.entry, inj.rows
    if e.amount_scale != 1.0:
        ctx.set_amount(frame, rows, np.round(frame["paise"][rows] * e.amount_scale, -2))
    through = ctx.plan.campaign_merchants[e.name]
    if through is not None:
        merchant = through[ctx.rng.integers(0, len(through), len(rows))]
        ctx.set_merchant(frame, rows, merchant)
        in_person = ~frame["online"][rows]
        ctx.place(frame, rows[in_person], ctx.merchants.city[merchant[in_person]])
    adapted = np.zeros(len(rows), dtype=bool)
    severity = inj.severity
    if e.adapt is not None and s.adapt_day is not None:
        late = frame["ts"][rows] >= ctx.plan.first_us + s.adapt_day * US_PER_DAY
        adapted = late & (ctx.rng.random(len(rows)) < e.adapt.share)
        moved = rows[adapted]
        if e.adapt.below_inr is not None:
            cap = e.adapt.below_inr * 100
            over = frame["paise"][moved] >= cap
            under = np.floor(cap * ctx.rng.uniform(0.75, 0.99, int(over.sum())) / 100) * 100
            ctx.set_amount(frame, moved[over], np.minimum(under, cap - 100))
        if e.adapt.category is not None:
            category = category_index(e.adapt.category)
            ctx.set_merchant(frame, moved, ctx.merchant_in(frame["merchant_city"][moved], category))
        severity = np.where(adapted, np.minimum(severity, ctx.severity(frame["paise"][rows])), severity)
    campaign = ctx.plan.params.campaign
    assert campaign is not None
    tag = f',"campaign":"{campaign.name}","entry":"{e.name}"'  # names are [a-z0-9_]: nothing to escape
    suffix = pa.array(np.where(adapted, tag + ',"adapted":true}', tag + "}"), pa.string())
    body = pc.utf8_slice_codeunits(inj.evidence, 0, -1)  # the object without its closing brace
    empty = pc.equal(body, "{")
    joined = pc.binary_join_element_wise(body, pc.if_else(empty, pc.utf8_slice_codeunits(suffix, 1), suffix), "")
    return Injection(rows, severity.astype(np.int8), inj.confidence, joined)
