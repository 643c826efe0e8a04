"""Generation parameters, their validation, and the plan that fixes shards before any work starts."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from synfinance.errors import ParameterError, Problem
from synfinance.population.calibration import calibration
from synfinance.population.customers import Customers, build_customers
from synfinance.population.devices import Devices, build_devices
from synfinance.population.households import build_households
from synfinance.population.merchants import N_POOLS, Merchants, build_merchants
from synfinance.sampling import STREAM_ALLOCATION, rng_for
from synfinance.schema import EPOCH_DATE, IST_OFFSET_S, US_PER_DAY, US_PER_S
from synfinance.world.calendar import FIRST_YEAR, LAST_YEAR, Calendar, build_calendar
from synfinance.world.campaign import Campaign, target_customers, target_merchants
from synfinance.world.catalogue import ANOMALY_NAMES, FRAUD_NAMES, NAMES, type_shares, unknown_types
from synfinance.world.difficulty import DIFFICULTIES
from synfinance.world.lookalikes import LookalikeRates
from synfinance.world.networks import Networks, build_networks

MAX_TXNS_PER_CUSTOMER_DAY = 50
TARGET_ROWS_PER_SHARD = 200_000
MAX_COUNT = 10_000_000_000
MAX_CUSTOMERS = 5_000_000
MAX_MERCHANTS = 1_000_000
MIN_RATE, MAX_RATE = 1e-6, 0.2  # fraud: from real-world prevalence to training-friendly oversampling
CALENDAR_START = dt.date(FIRST_YEAR, 1, 1)
CALENDAR_END = dt.date(LAST_YEAR + 1, 1, 1)  # exclusive


@dataclass(frozen=True)
class GenerationParams:
    """What to generate. customers/merchants None means "sized from count"."""

    count: int
    seed: int = 42
    customers: int | None = None
    merchants: int | None = None
    start: dt.date = dt.date(2025, 10, 1)
    days: int = 92
    shard_size: int = 1000  # most customers in one shard
    fraud_rate: float = 0.02
    anomaly_rate: float = 0.05
    difficulty: str = "realistic"
    fraud_types: tuple[str, ...] | None = None  # None: every fraud type
    fraud_weights: tuple[tuple[str, float], ...] | None = None  # relative weight per fraud type (default: class shares)
    anomaly_weights: tuple[tuple[str, float], ...] | None = None
    patterns: bool = True  # False: ordinary transactions only (labels all empty)
    lookalikes: tuple[tuple[str, float], ...] | None = None  # rate per benign look-alike (default: LookalikeRates)
    campaign: Campaign | None = None  # fraud types scheduled and shaped over the dates (world/campaign.py)

    def resolved(self) -> GenerationParams:
        """These parameters validated, with automatic sizes filled in; raises ParameterError listing every problem."""
        problems = self._problems()
        if problems:
            raise ParameterError(problems)
        customers = self.customers
        if customers is None:
            floor = math.ceil(self.count / (MAX_TXNS_PER_CUSTOMER_DAY * self.days))
            customers = min(MAX_CUSTOMERS, max(100, self.count // 100, floor))
        merchants = self.merchants if self.merchants is not None else min(200_000, max(2000, customers // 10))
        resolved = replace(self, customers=customers, merchants=merchants)
        per_day = self.count / (customers * self.days)
        if per_day > MAX_TXNS_PER_CUSTOMER_DAY:
            need = math.ceil(self.count / (MAX_TXNS_PER_CUSTOMER_DAY * self.days))
            raise ParameterError.single(
                "customers", customers,
                f"at least {need} for {self.count} transactions over {self.days} days "
                f"(at most {MAX_TXNS_PER_CUSTOMER_DAY} transactions per customer per day)",
            )
        return resolved

    def _problems(self) -> list[Problem]:
        p: list[Problem] = []

        def check_int(name: str, value: object, lo: int, hi: int) -> None:
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                p.append(Problem(name, value, f"an integer from {lo} to {hi}"))

        check_int("count", self.count, 1, MAX_COUNT)
        check_int("seed", self.seed, 0, 2**63 - 1)
        check_int("days", self.days, 1, (CALENDAR_END - CALENDAR_START).days)
        check_int("shard_size", self.shard_size, 1, 1_000_000)
        if self.customers is not None:
            check_int("customers", self.customers, 1, MAX_CUSTOMERS)
        if self.merchants is not None:
            check_int("merchants", self.merchants, N_POOLS, MAX_MERCHANTS)
        if self.patterns:
            p.extend(self._pattern_problems())
        if not isinstance(self.start, dt.date):
            p.append(Problem("start", self.start, "a date YYYY-MM-DD"))
        elif not CALENDAR_START <= self.start < CALENDAR_END:
            p.append(Problem("start", self.start.isoformat(), f"a date from {CALENDAR_START} to {LAST_YEAR}-12-31"))
        elif isinstance(self.days, int) and self.start + dt.timedelta(days=self.days) > CALENDAR_END:
            last = (self.start + dt.timedelta(days=self.days - 1)).isoformat()
            expected = f"a range ending by {LAST_YEAR}-12-31 (the festival calendar), it ends {last}"
            p.append(Problem("days", self.days, expected))
        elif self.campaign is not None and isinstance(self.days, int) and self.days >= 1:
            if not self.patterns:
                p.append(Problem("campaign", self.campaign.name, "no campaign when patterns are off"))
            p.extend(self.campaign.problems(self.start, self.days))
        return p

    def _pattern_problems(self) -> list[Problem]:
        p: list[Problem] = []
        if not isinstance(self.fraud_rate, int | float) or not MIN_RATE <= self.fraud_rate <= MAX_RATE:
            p.append(Problem("fraud_rate", self.fraud_rate, f"a share from {MIN_RATE:g} (one per million, real-world "
                             f"prevalence) to {MAX_RATE:g} (oversampled for training)"))
        if not isinstance(self.anomaly_rate, int | float) or not 0.0 <= self.anomaly_rate <= MAX_RATE:
            p.append(Problem("anomaly_rate", self.anomaly_rate, f"a share from 0 to {MAX_RATE:g}"))
        if self.difficulty not in DIFFICULTIES:
            p.append(Problem("difficulty", self.difficulty, f"one of {', '.join(DIFFICULTIES)}"))
        for kind, weights in (("fraud", self.fraud_weights), ("anomaly", self.anomaly_weights)):
            for name, weight in weights or ():
                if unknown_types(kind, (name,)):
                    p.append(Problem(f"{kind}_weights", name, f"a {kind} type ({', '.join(NAMES[kind])})"))
                elif not isinstance(weight, int | float) or weight < 0:
                    p.append(Problem(f"{kind}_weights.{name}", weight, "a weight >= 0"))
        for name, rate in self.lookalikes or ():
            if name not in LookalikeRates.names():
                p.append(Problem("lookalikes", name, f"a look-alike ({', '.join(LookalikeRates.names())})"))
            elif not isinstance(rate, int | float) or not 0 <= rate <= 1:
                p.append(Problem(f"lookalikes.{name}", rate, "a share from 0 to 1"))
        if self.fraud_types is not None:
            unknown = unknown_types("fraud", self.fraud_types)
            if unknown or not self.fraud_types:
                p.append(Problem("fraud_types", ",".join(unknown) or "", f"names from: {', '.join(FRAUD_NAMES)}"))
        return p

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GenerationParams:
        """The parameters to_json wrote (a dataset manifest's "parameters")."""
        d = dict(d)
        d["start"] = dt.date.fromisoformat(d["start"])
        d["fraud_types"] = tuple(d["fraud_types"]) if d.get("fraud_types") is not None else None
        for key in ("fraud_weights", "anomaly_weights", "lookalikes"):
            d[key] = tuple(d[key].items()) if d.get(key) else None
        d["campaign"] = Campaign.model_validate(d["campaign"]) if d.get("campaign") else None
        return cls(**d)

    def prevalence(self) -> dict[str, float]:
        """The fraud rate against the published one (config/calibration.yaml), and the rows it expects."""
        published = calibration().model.published_fraud_rate
        return {"fraud_rate": self.fraud_rate, "published_fraud_rate": published,
                "oversampling": round(self.fraud_rate / published, 6),
                "expected_fraud_rows": round(self.count * self.fraud_rate, 3)}

    def next_period(self) -> GenerationParams:
        """The same population and stationary rates over the `days` that follow: what these customers do next
        (a campaign belongs to its own dates and is left behind)."""
        return replace(self, start=self.start + dt.timedelta(days=self.days), campaign=None)

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["fraud_types"] = list(self.fraud_types) if self.fraud_types is not None else None
        for key in ("fraud_weights", "anomaly_weights", "lookalikes"):
            d[key] = dict(getattr(self, key)) if getattr(self, key) else None
        d["campaign"] = None if self.campaign is None else self.campaign.to_json()
        return d


class GenerationPlan:
    """Everything fixed before generation: population, merchants, per-customer counts, shards.

    Shards are blocks of consecutive customers whose size depends only on the parameters,
    never on how many processes run them; that is what makes output independent of parallelism.
    """

    def __init__(self, params: GenerationParams) -> None:
        self.params = params.resolved()
        self.campaign_merchants  # noqa: B018 - unknown merchant ids refused before anything is generated

    @cached_property
    def customers(self) -> Customers:
        assert self.params.customers is not None
        return build_customers(self.params.seed, self.params.customers)

    @cached_property
    def merchants(self) -> Merchants:
        assert self.params.merchants is not None
        return build_merchants(self.params.seed, self.params.merchants)

    @cached_property
    def calendar(self) -> Calendar:
        return build_calendar(self.params.start, self.params.days)

    @cached_property
    def counts(self) -> np.ndarray:
        """Transactions per customer, summing exactly to count."""
        rate = self.customers.rate
        rng = rng_for(self.params.seed, STREAM_ALLOCATION)
        return rng.multinomial(self.params.count, rate / rate.sum()).astype(np.int64)

    @cached_property
    def shard_bounds(self) -> list[tuple[int, int]]:
        """[first, last) customer index of every shard."""
        n = len(self.customers)
        mean = self.params.count / n
        per_shard = min(self.params.shard_size, max(1, int(TARGET_ROWS_PER_SHARD // max(mean, 1.0))))
        return [(lo, min(lo + per_shard, n)) for lo in range(0, n, per_shard)]

    @cached_property
    def devices(self) -> Devices:
        return build_devices(self.params.seed, self.customers)

    @property
    def first_us(self) -> int:
        """First instant of the date range (midnight IST of the start date), UTC microseconds."""
        return (self.params.start - EPOCH_DATE).days * US_PER_DAY - IST_OFFSET_S * US_PER_S

    @property
    def end_us(self) -> int:
        """First instant after the date range, UTC microseconds."""
        return self.first_us + self.params.days * US_PER_DAY

    @cached_property
    def lookalike_rates(self) -> LookalikeRates:
        """The benign look-alikes' rates at this difficulty (none without patterns: nothing to look like)."""
        rates = LookalikeRates().given(self.params.lookalikes).scaled(self.params.difficulty)
        if not self.params.patterns:
            return LookalikeRates(**dict.fromkeys(LookalikeRates.names(), 0.0))
        return rates if "collect_request" in self.fraud_types_present else replace(rates, new_payees=0.0)

    @cached_property
    def campaign_merchants(self) -> dict[str, np.ndarray | None]:
        """Per campaign entry, the merchants its attack runs through (None: where its pattern goes)."""
        entries = () if self.params.campaign is None else self.params.campaign.entries
        return {e.name: target_merchants(self, e) for e in entries}

    @cached_property
    def campaign_customers(self) -> dict[str, np.ndarray | None]:
        """Per campaign entry, the customers it may pick (a mask over the population; None: anyone)."""
        entries = () if self.params.campaign is None else self.params.campaign.entries
        return {e.name: target_customers(self, e) for e in entries}

    @cached_property
    def fraud_shares(self) -> dict[str, float]:
        """Each fraud type's stationary share of the fraud rate (0 for types only a campaign brings)."""
        p = self.params
        return type_shares("fraud", p.fraud_types, p.fraud_weights)

    @cached_property
    def fraud_types_present(self) -> tuple[str, ...]:
        """Fraud types this dataset can hold: those with a stationary share and those the campaign schedules."""
        named = () if self.params.campaign is None else self.params.campaign.fraud_types
        return tuple(sorted(set(self.fraud_shares) | set(named)))

    def campaign_share(self, fraud_type: str) -> float:
        """The share a campaign's multiplier scales: the type's stationary share, or for a type held out of the
        dataset, the share it would have were every type enabled."""
        p = self.params
        return self.fraud_shares.get(fraud_type) or type_shares("fraud", FRAUD_NAMES, p.fraud_weights)[fraud_type]

    @cached_property
    def households(self) -> np.ndarray:
        """Each customer's household head (itself when living alone); households never cross a shard."""
        return build_households(self.params.seed, self.customers.city, self.shard_bounds,
                                self.lookalike_rates.households)

    @cached_property
    def networks(self) -> Networks:
        """Fraud rings, mule networks and coordinated attacks: fixed with the population."""
        return build_networks(self)

    @property
    def fraud_type_names(self) -> tuple[str, ...]:
        return FRAUD_NAMES

    @property
    def anomaly_type_names(self) -> tuple[str, ...]:
        return ANOMALY_NAMES

    @property
    def n_shards(self) -> int:
        return len(self.shard_bounds)

    def shard_rows(self, shard: int) -> int:
        lo, hi = self.shard_bounds[shard]
        return int(self.counts[lo:hi].sum())
