"""Fraud campaigns: a YAML timeline that schedules and shapes fraud types over a dataset's dates.

A campaign is a list of entries. Each entry names a fraud type, the days it runs (dates, or days from the
dataset's first day; `end` inclusive), how much of it there is (a multiplier on the type's stationary rate, or
an absolute number of fraud rows), whom or where it hits (a target) and how the fraudsters adapt from a date on.
Outside its entries a type keeps its stationary rate; types a campaign does not name are untouched.

    campaign = load_campaign(Path("config/campaigns/novel_collect_request.yaml"))
    problems = campaign.problems(start, days)      # dates outside the range, overlaps, unknown merchants
    campaign.entries_for("card_testing", start)    # the entries of one type, as day offsets

A broken file is a ConfigError naming the file, the entry (by its name) and the field, with what was expected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synfinance._bundled import resource_dir
from synfinance.errors import ConfigError, ParameterError, Problem
from synfinance.population.categories import CATEGORY_NAMES, category_index
from synfinance.population.geography import CITY_NAMES
from synfinance.population.segments import SEGMENT_NAMES
from synfinance.sampling import mix64
from synfinance.world.catalogue import FRAUD_NAMES, NETWORK_TYPES

if TYPE_CHECKING:
    from synfinance.world.plan import GenerationPlan

MAX_MULTIPLIER = 1000.0
MAX_COUNT = 10_000_000
Day = dt.date | int  # a date, or days from the dataset's first day (0: the first day)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _one_of(allowed: tuple[str, ...], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{what}: one of {', '.join(allowed)}")
        return value

    return AfterValidator(check)


CityName = Annotated[str, _one_of(CITY_NAMES, "a city")]
CategoryName = Annotated[str, _one_of(CATEGORY_NAMES, "a merchant category")]
SegmentName = Annotated[str, _one_of(SEGMENT_NAMES, "a customer segment")]


class Merchants(_Strict):
    """The merchants an attack runs through: by id, or the first `count` of a city's category (chains first)."""

    ids: tuple[str, ...] = ()
    city: CityName | None = None
    category: CategoryName | None = None
    count: int = Field(1, ge=1, le=100)

    @model_validator(mode="after")
    def _either(self) -> Merchants:
        if bool(self.ids) == (self.city is not None or self.category is not None):
            raise ValueError("either ids (merchant ids) or city and category")
        if not self.ids and (self.city is None or self.category is None):
            raise ValueError("both city and category (or ids)")
        return self


class Target(_Strict):
    """Whom the entry hits: customers of a city, of a segment, a fixed share of all customers; and/or the
    merchants the attack runs through. Conditions given together all hold."""

    city: CityName | None = None
    segment: SegmentName | None = None
    customer_share: float | None = Field(None, gt=0, le=1)
    merchants: Merchants | None = None


class Adapt(_Strict):
    """From a date on, the fraudsters change tactics: `share` of the entry's rows move below an amount the
    fraud team reviews at, and/or the attack moves to another merchant category."""

    from_: Day = Field(alias="from")
    below_inr: float | None = Field(None, gt=1)
    share: float = Field(1.0, ge=0, le=1)
    category: CategoryName | None = None

    @model_validator(mode="after")
    def _something(self) -> Adapt:
        if self.below_inr is None and self.category is None:
            raise ValueError("below_inr (an amount in INR) and/or category (a merchant category)")
        return self


class Entry(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    fraud_type: str
    start: Day
    end: Day  # inclusive
    multiplier: float | None = Field(None, ge=0, le=MAX_MULTIPLIER)
    count: int | None = Field(None, ge=0, le=MAX_COUNT)
    amount_scale: float = Field(1.0, gt=0, le=100)
    target: Target | None = None
    adapt: Adapt | None = None
    note: str = ""

    @field_validator("fraud_type")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in FRAUD_NAMES:
            raise ValueError(f"a fraud type: one of {', '.join(FRAUD_NAMES)}")
        if v in NETWORK_TYPES:
            raise ValueError(f"a fraud type whose cases fill a row budget (not {', '.join(NETWORK_TYPES)}: "
                             "their cases are fixed with the population's networks)")
        return v

    @model_validator(mode="after")
    def _amount(self) -> Entry:
        if (self.multiplier is None) == (self.count is None):
            raise ValueError("exactly one of multiplier (times the type's stationary rate) or count (fraud rows)")
        return self


class Campaign(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    description: str = Field(min_length=1)
    entries: tuple[Entry, ...] = Field(min_length=1)

    @field_validator("entries")
    @classmethod
    def unique_names(cls, entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
        names = [e.name for e in entries]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"entry names used once each (twice: {', '.join(twice)})")
        return entries

    @property
    def fraud_types(self) -> tuple[str, ...]:
        return tuple(sorted({e.fraud_type for e in self.entries}))

    def entries_for(self, fraud_type: str, start: dt.date) -> tuple[Scheduled, ...]:
        """The entries of one type with their days as offsets from `start`, in time order."""
        found = [Scheduled(e, _offset(e.start, start), _offset(e.end, start) + 1,
                           None if e.adapt is None else _offset(e.adapt.from_, start))
                 for e in self.entries if e.fraud_type == fraud_type]
        return tuple(sorted(found, key=lambda s: s.first_day))

    def problems(self, start: dt.date, days: int) -> list[Problem]:
        """What the campaign asks that this date range cannot give: days outside it, entries of one type that
        overlap, an adaptation outside its entry. Fields are named campaign.entries[<name>].<field>."""
        p: list[Problem] = []
        last = start + dt.timedelta(days=days - 1)
        for fraud_type in self.fraud_types:
            scheduled = self.entries_for(fraud_type, start)
            for s in scheduled:
                where = f"campaign.entries[{s.entry.name}]"
                for key, value, offset in (("start", s.entry.start, s.first_day), ("end", s.entry.end, s.end_day - 1)):
                    if not 0 <= offset < days:
                        p.append(Problem(f"{where}.{key}", _show(value),
                                         f"a day of the dataset's range {start} to {last} (or 0 to {days - 1})"))
                if s.end_day <= s.first_day:
                    p.append(Problem(f"{where}.end", _show(s.entry.end), f"on or after start ({_show(s.entry.start)})"))
                if s.adapt_day is not None and not s.first_day <= s.adapt_day < s.end_day:
                    assert s.entry.adapt is not None
                    p.append(Problem(f"{where}.adapt.from", _show(s.entry.adapt.from_),
                                     "a day inside the entry (from its start to its end)"))
            for a, b in zip(scheduled, scheduled[1:], strict=False):
                if b.first_day < a.end_day:
                    p.append(Problem(f"campaign.entries[{b.entry.name}].start", _show(b.entry.start),
                                     f"a day after entry {a.entry.name} of the same type ends ({_show(a.entry.end)}): "
                                     "entries of one fraud type must not overlap"))
        return p

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


@dataclass(frozen=True)
class Scheduled:
    """An entry placed on the dataset's days: [first_day, end_day), adapting from adapt_day (None: never)."""

    entry: Entry
    first_day: int
    end_day: int
    adapt_day: int | None


def _offset(day: Day, start: dt.date) -> int:
    return day if isinstance(day, int) else (day - start).days


def _show(day: Day) -> str | int:
    return day if isinstance(day, int) else day.isoformat()


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """A pydantic error location as campaign.entries[<entry name>].field.sub (the entry's position if unnamed)."""
    parts: list[str] = ["campaign"]
    i = 0
    while i < len(loc):
        key = loc[i]
        if key == "entries" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = int(loc[i + 1])
            entries = raw.get("entries") if isinstance(raw, dict) else None
            entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            parts.append(f"entries[{name if isinstance(name, str) else index}]")
            i += 2
            continue
        parts.append(str(key).removesuffix("_"))
        i += 1
    return ".".join(parts)


def parse_campaign(raw: Any, origin: str) -> Campaign:
    """A campaign from parsed YAML; ConfigError naming origin, entry and field of every problem."""
    try:
        return Campaign.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        # an entry that failed leaves the list shorter: its own errors say why, not "too short"
        errors = [e for e in errors if not (e["type"] == "too_short" and len(errors) > 1)]
        raise ConfigError([Problem(f"{origin}: {_where(tuple(e['loc']), raw)}",
                                   "(missing)" if e["type"] == "missing" else e.get("input"),
                                   e["msg"].removeprefix("Value error, ")) for e in errors]) from exc


def load_campaign(path: Path) -> Campaign:
    """The campaign file at path (or a shipped scenario's name), validated."""
    if not path.suffix and not path.exists():
        shipped = resource_dir("config") / "campaigns" / f"{path.name}.yaml"
        if shipped.is_file():
            path = shipped
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([Problem(str(path), None, f"a readable YAML campaign file ({exc})")]) from exc
    return parse_campaign(raw, str(path))


def shipped_campaigns() -> dict[str, Path]:
    """The scenarios shipped in config/campaigns, by name."""
    folder = resource_dir("config") / "campaigns"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def target_customers(plan: GenerationPlan, entry: Entry) -> np.ndarray | None:
    """Customers the entry may pick (a mask over the population), or None for anyone."""
    t = entry.target
    if t is None or (t.city is None and t.segment is None and t.customer_share is None):
        return None
    c = plan.customers
    mask = np.ones(len(c), dtype=bool)
    if t.city is not None:
        mask &= c.city == CITY_NAMES.index(t.city)
    if t.segment is not None:
        mask &= c.segment == SEGMENT_NAMES.index(t.segment)
    if t.customer_share is not None:  # a fixed set of customers per seed and entry, whatever the shard
        key = mix64(np.arange(len(c)), plan.params.seed, int.from_bytes(entry.name.encode()[:7], "little"))
        mask &= (key % np.uint64(1_000_000)).astype(np.int64) < round(t.customer_share * 1_000_000)
    return mask


def target_merchants(plan: GenerationPlan, entry: Entry) -> np.ndarray | None:
    """The merchants the attack runs through (indices), or None."""
    t = entry.target
    if t is None or t.merchants is None:
        return None
    m, pick = plan.merchants, t.merchants
    where = f"campaign.entries[{entry.name}].target.merchants"
    if pick.ids:
        ids = m.table.column("merchant_id")
        index = pc.index_in(pa.array(pick.ids), value_set=ids).to_numpy(zero_copy_only=False)
        unknown = [i for i, k in zip(pick.ids, index, strict=True) if k is None or np.isnan(k)]
        if unknown:
            raise ParameterError([Problem(f"{where}.ids", ",".join(unknown), "merchant ids of this dataset's "
                                          "merchants (synfinance generate merchants)")])
        return np.asarray(index, dtype=np.int64)
    assert pick.city is not None and pick.category is not None
    city, category = CITY_NAMES.index(pick.city), category_index(pick.category)
    size = int(m.pool_size[city, category])
    if size == 0:
        raise ParameterError([Problem(f"{where}", f"{pick.city}/{pick.category}", "a city and category with "
                                      "merchants in this dataset")])
    return int(m.pool_start[city, category]) + np.arange(min(pick.count, size), dtype=np.int64)
