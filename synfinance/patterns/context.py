"""What patterns work with: the shard's plan, a random stream, and vectorised row-rewriting helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from synfinance.patterns.campaign import Segment, in_windows, shape
from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.population.categories import category_index
from synfinance.schema import US_PER_DAY, US_PER_S, ist_midnight
from synfinance.world.amounts import MAX_PAISE, MIN_PAISE
from synfinance.world.catalogue import NAMES
from synfinance.world.difficulty import DIFFICULTIES
from synfinance.world.frame import Frame
from synfinance.world.payment import channel_for, instrument_for, network_for, ordinary_mode
from synfinance.world.running import running_group_count

if TYPE_CHECKING:
    from synfinance.patterns.base import Injection
    from synfinance.world.plan import GenerationPlan

GROCERIES, FOOD, FUEL, FASHION, ELECTRONICS, JEWELLERY, TRAVEL, ENTERTAINMENT, TRANSFERS = (
    category_index(n) for n in ("Groceries", "Food & Dining", "Fuel", "Fashion", "Electronics", "Jewellery",
                                "Travel", "Entertainment", "Transfers")
)
CITY_KM = geo.haversine_km(geo.CITY_LAT[:, None], geo.CITY_LON[:, None], geo.CITY_LAT[None, :], geo.CITY_LON[None, :])
SEVERITY_EDGES_INR = np.array([2_000, 20_000, 100_000])  # low | medium | high | critical


class PatternContext:
    """One shard's injection state: what is taken, what is left, and how to rewrite rows consistently."""

    def __init__(self, plan: GenerationPlan, shard: int, frame: Frame, rng: np.random.Generator) -> None:
        self.plan, self.shard, self.rng = plan, shard, rng
        self.customers, self.merchants, self.devices = plan.customers, plan.merchants, plan.devices
        self.difficulty = DIFFICULTIES[plan.params.difficulty]
        self.t0, self.t1 = plan.first_us, plan.end_us  # the date range, UTC microseconds
        self.lo, self.hi = plan.shard_bounds[shard]
        self.history = frame.time_rank()  # prior transactions of the customer, as generated
        self.free_rows = frame.free()  # neither labelled nor referred to by another pattern's evidence
        self._cust_local = frame["cust"] - self.lo
        self._free_counts: dict[int, np.ndarray] = {}  # min_history -> free rows per customer
        self.counts: dict[str, int] = {}
        self.avg_inr = self.customers.table.column("avg_transaction_amount").to_numpy()  # each customer's usual ticket
        self.ts = frame["ts"]
        self.segment: Segment | None = None  # a campaign's part of a type's injection, while it runs
        self._target: np.ndarray | None = None  # customers the segment's entry may pick
        self._reserved: list[np.ndarray] | None = None  # rows reserved inside a time-keeping segment

    # -- a campaign's segment ----------------------------------------------------------------
    @contextmanager
    def within(self, segment: Segment, keeps_time: bool) -> Iterator[None]:
        """Run a pattern inside a segment: cases anchored in its windows, victims from its target. A pattern that
        keeps its rows' times (keeps_time) takes only rows already inside the windows."""
        saved_free = self.free_rows
        self.segment = segment
        self._target = None if segment.scheduled is None else self.plan.campaign_customers[segment.scheduled.entry.name]
        reserved: list[np.ndarray] = []
        if keeps_time:
            self.free_rows = saved_free & self._in_windows(segment.windows)
            self._free_counts = {}
            self._reserved = reserved
        try:
            yield
        finally:
            if keeps_time:
                for rows in reserved:
                    saved_free[rows] = False
                self.free_rows, self._free_counts = saved_free, {}  # counted again from the rows left free
                self._reserved = None
            self.segment, self._target = None, None

    def _in_windows(self, windows: np.ndarray, margin_us: int = 0) -> np.ndarray:
        return in_windows(self.ts, windows, self.t1, margin_us)

    def shape(self, frame: Frame, injection: Injection) -> Injection:
        """What the running segment's campaign entry adds to a pattern's rows (nothing outside a campaign)."""
        if self.segment is None or self.segment.scheduled is None:
            return injection
        return shape(frame, self, injection, self.segment.scheduled)

    # -- choosing victims and rows ---------------------------------------------------------
    def free(self, frame: Frame) -> np.ndarray:
        return self.free_rows

    def reserve(self, rows: np.ndarray) -> None:
        """Keep rows as they are: another row's evidence points at them (or they carry a label)."""
        if self._reserved is not None:
            self._reserved.append(rows)
        rows = rows[self.free_rows[rows]]
        self.free_rows[rows] = False
        for min_history, counts in self._free_counts.items():
            np.subtract.at(counts, self._cust_local[rows[self.history[rows] >= min_history]], 1)

    def free_counts(self, min_history: int) -> np.ndarray:
        """Free rows past min_history, per customer of the shard (kept current by reserve)."""
        if min_history not in self._free_counts:
            usable = self.free_rows & (self.history >= min_history)
            self._free_counts[min_history] = np.bincount(self._cust_local[usable], minlength=self.hi - self.lo)
        return self._free_counts[min_history]

    def victims(self, frame: Frame, count: int, need: int, min_history: int = 0,
                eligible: np.ndarray | None = None) -> np.ndarray:
        """Up to count customers of this shard with at least need free rows (past min_history)."""
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        ok = self.free_counts(min_history) >= need
        if eligible is not None:
            ok &= eligible[self.lo : self.hi]
        if self._target is not None:
            ok &= self._target[self.lo : self.hi]
        pool = np.flatnonzero(ok) + self.lo
        if len(pool) == 0:
            return pool
        return np.sort(self.rng.choice(pool, size=min(count, len(pool)), replace=False))

    def rows_of(self, frame: Frame, victims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All rows of the victims (their customer blocks) and each row's victim index."""
        local = victims - self.lo
        first, count = frame.starts[local], frame.counts[local]
        block_offset = np.repeat(first - (np.cumsum(count) - count), count)
        return block_offset + np.arange(count.sum()), np.repeat(np.arange(len(victims)), count)

    def take_rows(self, frame: Frame, victims: np.ndarray, k: int | np.ndarray,
                  min_history: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """k free rows of each victim: (rows, index of each row's victim), grouped by victim.

        A block's rows were drawn independently of their position, so its first k free rows
        are already a random sample of the customer's transactions: no shuffle is needed.
        """
        need = np.broadcast_to(np.asarray(k), victims.shape)
        cand, owner = self.rows_of(frame, victims)
        usable = self.free(frame)[cand] & (self.history[cand] >= min_history)
        cand, owner = cand[usable], owner[usable]
        starts = np.ones(len(cand), dtype=bool)
        starts[1:] = owner[1:] != owner[:-1]
        keep = running_group_count(starts) <= need[owner]
        return cand[keep], owner[keep]

    # -- time ------------------------------------------------------------------------------
    def anchors(self, count: int, night: np.ndarray | None = None, margin_days: float = 1.0) -> np.ndarray:
        """Random instants in the range (leaving room for what follows); at night (IST 0-4h) where asked.

        Inside a campaign's segment, instants of the segment's own transactions, spread evenly over them
        (systematic sampling): the cases follow the days' volumes, so the segment's rate holds day by day."""
        if self.segment is not None:
            ts = self._segment_anchors(count, int(margin_days * US_PER_DAY))
        else:
            span = max(self.t1 - self.t0 - int(margin_days * US_PER_DAY), US_PER_DAY // 2)
            ts = self.t0 + (self.rng.random(count) * span).astype(np.int64)
        if night is not None:
            day_start = ist_midnight(ts)
            night_ts = day_start + (self.rng.random(count) * 4 * 3600 * US_PER_S).astype(np.int64)
            ts = np.where(night, night_ts, ts)
        return ts

    def _segment_anchors(self, count: int, margin_us: int) -> np.ndarray:
        assert self.segment is not None
        times = np.sort(self.ts[self._in_windows(self.segment.windows, margin_us)])
        if count == 0 or len(times) == 0:
            lo, hi = self.segment.windows[0]
            return lo + (self.rng.random(count) * (hi - lo)).astype(np.int64)
        at = ((self.rng.random() + np.arange(count)) * (len(times) / count)).astype(np.int64)
        return self.rng.permutation(times[np.minimum(at, len(times) - 1)])

    def sequence(self, anchor: np.ndarray, owner: np.ndarray, gap_s: np.ndarray) -> np.ndarray:
        """Times anchor[owner] + running sum of gaps within each owner's rows (rows grouped by owner)."""
        starts = np.ones(len(owner), dtype=bool)
        starts[1:] = owner[1:] != owner[:-1]
        total = np.cumsum(gap_s)
        idx = np.arange(len(owner))
        first = np.maximum.accumulate(np.where(starts, idx, 0))
        offset = total - total[first]  # the first row of a case sits at the anchor
        return np.clip(anchor[owner] + (offset * US_PER_S).astype(np.int64), self.t0, self.t1 - 1)

    def position(self, owner: np.ndarray) -> np.ndarray:
        """0, 1, 2, ... within each owner's rows."""
        starts = np.ones(len(owner), dtype=bool)
        starts[1:] = owner[1:] != owner[:-1]
        return running_group_count(starts) - 1

    # -- place, merchant, payment, amount ---------------------------------------------------
    def place(self, frame: Frame, rows: np.ndarray, city: np.ndarray | None = None) -> None:
        """At the customer's home (city None), or somewhere in the given cities."""
        cust = frame["cust"][rows]
        n = len(rows)
        if city is None:
            frame["city"][rows] = self.customers.city[cust]
            frame["lat"][rows] = self.customers.home_lat[cust] + 0.015 * self.rng.standard_normal(n)
            frame["lon"][rows] = self.customers.home_lon[cust] + 0.015 * self.rng.standard_normal(n)
        else:
            frame["city"][rows] = city
            frame["lat"][rows] = geo.CITY_LAT[city] + 0.03 * self.rng.standard_normal(n)
            frame["lon"][rows] = geo.CITY_LON[city] + 0.03 * self.rng.standard_normal(n)

    def far_city(self, home: np.ndarray, min_km: float = 500.0) -> np.ndarray:
        """A city at least min_km from each home city (by population), for cloned cards and jumps."""
        weights = (CITY_KM[home] >= min_km) * geo.CITY_WEIGHT[None, :]
        cdf = np.cumsum(weights, axis=1)
        u = self.rng.random(len(home)) * cdf[:, -1]
        return (cdf < u[:, None]).sum(axis=1)

    def merchant_in(self, city: np.ndarray, category: np.ndarray | int, chains_only: bool = False,
                    worst: bool = False) -> np.ndarray:
        """A merchant of the category in the city: any, chains only, or among the least reputable."""
        category = np.broadcast_to(np.asarray(category), city.shape)
        start = self.merchants.pool_start[city, category]
        size = self.merchants.pool_size[city, category]
        chains = self.merchants.pool_chains[city, category]
        span = np.where(chains_only & (chains > 0), chains, size)
        offset = np.floor(self.rng.random(len(city)) * span).astype(np.int64)
        if worst:  # locals sit after the chains; their reputations are lower
            local = size - self.merchants.pool_chains[city, category]
            pick_local = local > 0
            offset = np.where(pick_local, self.merchants.pool_chains[city, category]
                              + np.floor(self.rng.random(len(city)) * np.maximum(local, 1)), offset).astype(np.int64)
        return start + offset

    def set_merchant(self, frame: Frame, rows: np.ndarray, merchant: np.ndarray) -> None:
        frame["merchant"][rows] = merchant
        frame["category"][rows] = self.merchants.category[merchant]
        frame["merchant_city"][rows] = self.merchants.city[merchant]

    def set_payment(self, frame: Frame, rows: np.ndarray, mode: np.ndarray | int, online: np.ndarray | bool,
                    device: np.ndarray | None = None) -> None:
        """Set mode and channel with everything that must agree with them: device, instrument, network."""
        n = len(rows)
        cust = frame["cust"][rows]
        mode = np.broadcast_to(np.asarray(mode), (n,)).copy()
        online = np.broadcast_to(np.asarray(online), (n,)).copy()
        no_cc = ~self.customers.has_credit_card[cust]
        mode[no_cc & ((mode == pay.CREDIT) | (mode == pay.EMI))] = pay.DEBIT
        mode[online & (mode == pay.CASH)] = pay.UPI
        mode[~online & (mode == pay.NETBANKING)] = pay.UPI
        mode[(mode == pay.EMI) & (frame["paise"][rows] < pay.EMI_MIN_INR * 100)] = pay.CREDIT
        mode[no_cc & (mode == pay.CREDIT)] = pay.DEBIT
        channel = channel_for(self.rng, mode, online)
        own = cust * 2 + np.where((channel == pay.WEB) & (self.customers.desktop_os[cust] >= 0), 1, 0)
        chosen = own if device is None else device
        in_person = (channel == pay.POS) | (channel == pay.IN_STORE)
        frame["mode"][rows] = mode
        frame["online"][rows] = online
        frame["channel"][rows] = channel
        frame["device"][rows] = np.where(in_person, -1, chosen)
        frame["instrument"][rows] = instrument_for(cust, mode)
        frame["card_network"][rows] = network_for(self.customers, cust, mode)

    def usual_mode(self, frame: Frame, rows: np.ndarray, online: np.ndarray | bool) -> np.ndarray:
        """How the customer would pay these amounts anyway (mostly UPI): fraud that needs no card hides in it."""
        online = np.broadcast_to(np.asarray(online), rows.shape)
        return ordinary_mode(self.rng, self.customers, frame["cust"][rows], online, frame["paise"][rows])

    def card_mode(self, cust: np.ndarray) -> np.ndarray:
        """The customer's credit card if they hold one, else their debit card."""
        return np.where(self.customers.has_credit_card[cust], pay.CREDIT, pay.DEBIT)

    def typical_paise(self, cust: np.ndarray) -> np.ndarray:
        return np.round(self.avg_inr[cust] * 100)

    def amounts(self, cust: np.ndarray, low: float, high: float) -> np.ndarray:
        """The customer's typical ticket times a difficulty-scaled lift, in whole rupees (paise)."""
        return np.round(self.typical_paise(cust) * self.lift(low, high, len(cust)), -2)

    def set_amount(self, frame: Frame, rows: np.ndarray, paise: np.ndarray) -> None:
        """New amounts; EMI below its minimum becomes a plain credit-card payment (same card)."""
        paise = np.clip(np.asarray(paise, dtype=np.int64), MIN_PAISE, MAX_PAISE)
        frame["paise"][rows] = paise
        emi = (frame["mode"][rows] == pay.EMI) & (paise < pay.EMI_MIN_INR * 100)
        frame["mode"][rows[emi]] = pay.CREDIT

    def pick(self, options: tuple[int, ...], n: int) -> np.ndarray:
        return self.rng.choice(np.array(options), size=n)

    def lift(self, low: float, high: float, n: int) -> np.ndarray:
        """A multiplier between low and high, pulled towards 1 as difficulty rises."""
        raw = low + (high - low) * self.rng.random(n)
        return np.exp(np.log(raw) * self.difficulty.intensity)

    def tell(self, n: int) -> np.ndarray:
        """Rows that show an optional give-away (the rest stay camouflaged at normal values)."""
        return self.rng.random(n) >= self.difficulty.camouflage

    # -- labels ----------------------------------------------------------------------------
    def code(self, kind: str, name: str) -> int:
        """The label code of a pattern (its index among its kind's names)."""

        return NAMES[kind].index(name)

    def severity(self, paise: np.ndarray, floor: int = 0) -> np.ndarray:
        return np.maximum(np.searchsorted(SEVERITY_EDGES_INR * 100, paise, side="right"), floor).astype(np.int8)

    def confidence(self, n: int) -> np.ndarray:
        base = self.difficulty.confidence
        return np.clip(base + 0.08 * self.rng.standard_normal(n), 0.05, 1.0)

    def customer_ids(self, cust: np.ndarray) -> pa.Array:
        return self.customers.ids.take(pa.array(cust))

    def instrument_ids(self, rows: np.ndarray, frame: Frame) -> pa.Array:
        inst = frame["instrument"][rows]
        return self.customers.instrument_ids.take(pa.array(np.maximum(inst, 0), mask=inst < 0))

    def device_ids(self, device: np.ndarray) -> pa.Array:
        return self.devices.ids.take(pa.array(np.maximum(device, 0), mask=device < 0))

    def city_names(self, city: np.ndarray) -> pa.Array:
        return pa.array(np.array(geo.CITY_NAMES, dtype=object)[city], pa.string())
