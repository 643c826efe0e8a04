"""The raw event: what a payment switch knows at authorisation, completed to the input columns server-side.

A switch sends ids (transaction, customer, merchant, device), the timestamp, amount, payment mode, channel,
status and a location (coordinates, a city, or both). The rest of INPUT_COLUMNS is the bank's own derivation:

- local_date, local_hour: the timestamp in IST;
- festival: the festival calendar on that IST day in the customer's home festival zone (an unknown customer: the
  zone of the transaction's city);
- category, merchant_reputation: the merchant's record; an unknown merchant gets no category (the features'
  "other" bin) and no reputation (NaN: missing to the model) - a new merchant is a signal, not an error;
- is_online: the channel (Mobile App and Web are remote; POS, QR and In-Store in person);
- city: the city nearest the coordinates; latitude, longitude: the city's centre (a city not on SynFinance's map
  and no coordinates: an unknown point, NaN, so the distances are missing);
- distance_from_home_km: great-circle distance from the customer's home (an unknown customer or home: NaN).

Rule for a derivable field that is supplied: a value is used as given (the full form keeps its meaning); an
absent one is derived, and so is a null one, except the festival's, where null is a value (no festival) - only
an absent festival is derived. `complete_one` (a single score, plain Python) and `complete` (a batch, Arrow
columns) give the same values; a test holds them to each other and to the generator's.

    reference = Reference.of(customers, merchants)     # Arrow tables (a dataset's, or the database's)
    row = reference.complete_one(switch_fields)        # a dict with every input column
    table = reference.complete(table)                  # INPUT_SCHEMA, nulls in derivable columns filled
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synfinance.features.inputs import INPUT_COLUMNS, INPUT_SCHEMA
from synfinance.output.dataset import read_dataset
from synfinance.population import geography as geo
from synfinance.population import payments as pay
from synfinance.population.segments import AGE_GROUP_EDGES, AGE_GROUPS
from synfinance.schema import (
    CUSTOMER_SCHEMA,
    EPOCH,
    EPOCH_DATE,
    MERCHANT_SCHEMA,
    STORED_TRANSACTION_SCHEMA,
    ist_calendar,
)
from synfinance.world.calendar import CITY_ZONE, FESTIVAL_NAMES, festival_days

CUSTOMER_FIELDS = ("customer_id", "city", "home_latitude", "home_longitude",  # what the reference reads of each
                   "segment", "age", "income_bracket")
MERCHANT_FIELDS = ("merchant_id", "category", "reputation", "name", "merchant_type", "subcategory", "mcc", "city")
# A stored transaction's context columns from the merchant's and the customer's records (record's field: column)
MERCHANT_CONTEXT = {"name": "merchant_name", "merchant_type": "merchant_type", "subcategory": "subcategory",
                    "mcc": "mcc", "city": "merchant_city"}
CUSTOMER_CONTEXT = ("customer_segment", "customer_age_group", "customer_income_bracket")
DERIVED = ("local_date", "local_hour", "festival", "category", "merchant_reputation", "is_online", "city",
           "latitude", "longitude", "distance_from_home_km")
SWITCH_FIELDS = tuple(n for n in INPUT_COLUMNS if n not in DERIVED)
ONLINE_CHANNELS = (pay.CHANNELS[pay.MOBILE_APP], pay.CHANNELS[pay.WEB])
UNKNOWN_CATEGORY = ""  # an unknown merchant's category: outside the vocabulary, the features' "other" bin
_CITY = {name: i for i, name in enumerate(geo.CITY_NAMES)}
_CITY_NAMES = pa.array(geo.CITY_NAMES, pa.string())
_FESTIVALS = pa.array(("",) + FESTIVAL_NAMES, pa.string())


_CITY_STATES = pa.array(geo.CITY_STATES, pa.string())
_CITY_REGIONS = pa.array(geo.CITY_REGIONS, pa.string())
_AGE_GROUPS = pa.array(AGE_GROUPS, pa.string())
_CUSTOMER_ROWS = pa.schema([CUSTOMER_SCHEMA.field(n) for n in CUSTOMER_FIELDS])
_MERCHANT_ROWS = pa.schema([MERCHANT_SCHEMA.field(n) for n in MERCHANT_FIELDS])
_MERCHANT_CONTEXT = pa.schema([MERCHANT_SCHEMA.field(n).with_nullable(True) for n in MERCHANT_CONTEXT])
_CUSTOMER_CONTEXT = pa.schema([STORED_TRANSACTION_SCHEMA.field(n) for n in CUSTOMER_CONTEXT])


def _merchant_context(merchants: pa.Table) -> pa.Table:
    return pa.Table.from_arrays([merchants.column(n).combine_chunks() for n in MERCHANT_CONTEXT],
                                schema=_MERCHANT_CONTEXT)


def _customer_context(customers: pa.Table) -> pa.Table:
    """Each customer's segment, age group (the generator's bins of the age) and income bracket."""
    age = customers.column("age").combine_chunks()
    group = np.searchsorted(AGE_GROUP_EDGES, pc.fill_null(age, 0).to_numpy(zero_copy_only=False), side="right")
    return pa.Table.from_arrays([customers.column("segment").combine_chunks(),
                                 _AGE_GROUPS.take(pa.array(group, mask=~age.is_valid().to_numpy(zero_copy_only=False))),
                                 customers.column("income_bracket").combine_chunks()], schema=_CUSTOMER_CONTEXT)


def _kept(customers: pa.Table, keep: Callable[[pa.ChunkedArray], np.ndarray] | None) -> pa.Table:
    return customers if keep is None else customers.filter(pa.array(keep(customers.column("customer_id"))))


@lru_cache(maxsize=4096)
def _festival_ids(day: int) -> tuple[int, ...]:
    """Festival id (0 = none) of an IST day (days since 1970-01-01) in each festival zone."""
    return tuple(festival_days(EPOCH_DATE + dt.timedelta(days=day), 1)[0][:, 0].tolist())


def nearest_city(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Index of the city whose centre is nearest each point."""
    km = geo.haversine_km(lat[:, None], lon[:, None], geo.CITY_LAT[None, :], geo.CITY_LON[None, :])
    return np.argmin(km, axis=1)


@dataclass(frozen=True)
class Reference:
    """What the bank knows of its merchants and customers, for completing raw events."""

    merchant_ids: pa.Array
    merchant_category: pa.Array
    merchant_reputation: np.ndarray
    customer_ids: pa.Array
    home_lat: np.ndarray  # NaN where unknown
    home_lon: np.ndarray
    home_zone: np.ndarray  # festival zone of the home city
    merchant_context: pa.Table  # MERCHANT_CONTEXT's columns, row by row with merchant_ids
    customer_context: pa.Table  # CUSTOMER_CONTEXT's columns, row by row with customer_ids (nulls where unknown)

    @classmethod
    def of(cls, customers: pa.Table, merchants: pa.Table) -> Reference:
        """From customer rows (customer_id, city, home_latitude, home_longitude) and merchant rows (merchant_id,
        category, reputation), as a dataset or the database holds them."""
        city = pc.fill_null(pc.index_in(customers.column("city"), value_set=_CITY_NAMES), 0)
        zone = CITY_ZONE[city.to_numpy(zero_copy_only=False)]

        def coordinate(name: str) -> np.ndarray:
            if name not in customers.column_names:  # rows stored before homes were recorded
                return np.full(customers.num_rows, np.nan)
            return pc.fill_null(customers.column(name).cast(pa.float64()), np.nan).to_numpy()

        return cls(merchants.column("merchant_id").combine_chunks(), merchants.column("category").combine_chunks(),
                   merchants.column("reputation").to_numpy(), customers.column("customer_id").combine_chunks(),
                   coordinate("home_latitude"), coordinate("home_longitude"), zone,
                   _merchant_context(merchants), _customer_context(customers))

    @classmethod
    def of_rows(cls, customers: list[dict[str, Any]], merchants: list[dict[str, Any]],
                keep: Callable[[pa.ChunkedArray], np.ndarray] | None = None) -> Reference:
        """From rows of CUSTOMER_FIELDS and MERCHANT_FIELDS (as the database returns them); customers `keep` marks."""
        people = pa.Table.from_pylist(customers, schema=_CUSTOMER_ROWS)
        return cls.of(_kept(people, keep), pa.Table.from_pylist(merchants, schema=_MERCHANT_ROWS))

    @classmethod
    def of_dataset(cls, directory: Path, keep: Callable[[pa.ChunkedArray], np.ndarray] | None = None) -> Reference:
        """A dataset's customers (those `keep` marks, given their ids) and all its merchants."""
        tables = read_dataset(directory, verify=False, only=("customers", "merchants"))
        return cls.of(_kept(tables["customers"], keep), tables["merchants"])

    @classmethod
    def empty(cls) -> Reference:
        none = pa.array([], pa.string())
        return cls(none, none, np.zeros(0), none, np.zeros(0), np.zeros(0), np.zeros(0, np.int64),
                   _MERCHANT_CONTEXT.empty_table(), _CUSTOMER_CONTEXT.empty_table())

    def over(self, base: Reference) -> Reference:
        """This reference, and the customers and merchants of base it does not hold (the database's over a
        warm-up dataset's)."""
        merchants = pc.invert(pc.is_in(base.merchant_ids, value_set=self.merchant_ids))
        customers = pc.invert(pc.is_in(base.customer_ids, value_set=self.customer_ids))
        if not pc.any(merchants).as_py() and not pc.any(customers).as_py():
            return self
        m, c = merchants.to_numpy(zero_copy_only=False), customers.to_numpy(zero_copy_only=False)
        return Reference(pa.concat_arrays([self.merchant_ids, base.merchant_ids.filter(merchants)]),
                         pa.concat_arrays([self.merchant_category, base.merchant_category.filter(merchants)]),
                         np.concatenate([self.merchant_reputation, base.merchant_reputation[m]]),
                         pa.concat_arrays([self.customer_ids, base.customer_ids.filter(customers)]),
                         np.concatenate([self.home_lat, base.home_lat[c]]),
                         np.concatenate([self.home_lon, base.home_lon[c]]),
                         np.concatenate([self.home_zone, base.home_zone[c]]),
                         pa.concat_tables([self.merchant_context, base.merchant_context.filter(merchants)]),
                         pa.concat_tables([self.customer_context, base.customer_context.filter(customers)]))

    @cached_property
    def _merchant(self) -> dict[str, int]:
        return {m: i for i, m in enumerate(self.merchant_ids.to_pylist())}

    @cached_property
    def _customer(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.customer_ids.to_pylist())}

    @cached_property
    def _category(self) -> list[str]:
        return self.merchant_category.to_pylist()

    def sizes(self) -> dict[str, int]:
        return {"customers": len(self.customer_ids), "merchants": len(self.merchant_ids)}

    # -- one event, plain Python (a single score) ----------------------------------------------------------------
    def complete_one(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The event with every input column: supplied values kept, absent or null derivable ones derived. Values
        are checked later, by the feature code (row_from_mapping), which names any bad field."""
        row: dict[str, Any] = {name: event.get(name) for name in INPUT_COLUMNS}
        festival_given = "festival" in event
        if festival_given and all(row[name] is not None for name in DERIVED if name != "festival"):
            return row
        stamp = row["timestamp"]
        if isinstance(stamp, str):
            stamp = dt.datetime.fromisoformat(stamp)
        day = hour = None
        if isinstance(stamp, dt.datetime) and stamp.tzinfo is not None:
            day, hour, _ = ist_calendar((stamp - EPOCH) // dt.timedelta(microseconds=1))
        if row["local_date"] is None and day is not None:
            row["local_date"] = EPOCH_DATE + dt.timedelta(days=day)
        if row["local_hour"] is None and hour is not None:
            row["local_hour"] = hour
        m = self._merchant.get(row["merchant_id"])
        if row["category"] is None:
            row["category"] = UNKNOWN_CATEGORY if m is None else self._category[m]
        if row["merchant_reputation"] is None:
            row["merchant_reputation"] = math.nan if m is None else float(self.merchant_reputation[m])
        if row["is_online"] is None and isinstance(row["channel"], str):
            row["is_online"] = row["channel"] in ONLINE_CHANNELS
        lat, lon = row["latitude"], row["longitude"]
        if row["city"] is None and lat is not None and lon is not None:
            row["city"] = geo.CITY_NAMES[int(nearest_city(np.array([float(lat)]), np.array([float(lon)]))[0])]
        city = _CITY.get(row["city"]) if isinstance(row["city"], str) else None
        if lat is None or lon is None:  # the city's centre; a city not on the map: an unknown point (NaN)
            row["latitude"] = float(geo.CITY_LAT[city]) if city is not None else math.nan
            row["longitude"] = float(geo.CITY_LON[city]) if city is not None else math.nan
        c = self._customer.get(row["customer_id"])
        if not festival_given and day is not None:
            zone = int(self.home_zone[c]) if c is not None else int(CITY_ZONE[city]) if city is not None else 0
            festival = _festival_ids(day)[zone]
            row["festival"] = FESTIVAL_NAMES[festival - 1] if festival else None
        if row["distance_from_home_km"] is None and row["latitude"] is not None and row["longitude"] is not None:
            row["distance_from_home_km"] = math.nan if c is None else float(geo.haversine_km(
                np.array([float(row["latitude"])]), np.array([float(row["longitude"])]),
                self.home_lat[c:c + 1], self.home_lon[c:c + 1])[0])
        return row

    # -- a batch, Arrow columns ----------------------------------------------------------------------------------
    def complete(self, table: pa.Table, festival_given: np.ndarray | bool = True) -> pa.Table:
        """INPUT_SCHEMA columns: derivable columns absent or holding nulls are filled row by row as complete_one
        fills them (a column given whole is not derived at all). A festival column is taken as given (null: no
        festival) where festival_given holds, a row mask or one flag; elsewhere, and when the column is absent,
        the calendar's is derived. The switch's own columns must be there."""
        n = table.num_rows
        given = {name: table.column(name).combine_chunks() for name in DERIVED if name in table.column_names}
        festival_given = np.broadcast_to(np.asarray(festival_given, bool), (n,)) if "festival" in given \
            else np.zeros(n, bool)
        if festival_given.all() and all(name in given and not given[name].null_count
                                        for name in DERIVED if name != "festival"):
            return table.select(list(INPUT_COLUMNS))
        columns: dict[str, pa.Array] = {}

        def fill(name: str, derive: Any) -> pa.Array:
            have = given.get(name)
            if have is not None and not have.null_count:
                columns[name] = have
            elif have is None or have.null_count == len(have):
                columns[name] = derive()
            else:
                columns[name] = pc.if_else(have.is_valid(), have, derive())
            return columns[name]

        ts = table.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy()
        day, hour, _ = ist_calendar(ts)
        fill("local_date", lambda: pa.array(day.astype(np.int32), pa.date32()))
        fill("local_hour", lambda: pa.array(hour.astype(np.int8)))
        merchant = pc.index_in(table.column("merchant_id"), value_set=self.merchant_ids)
        known_m = merchant.is_valid().to_numpy(zero_copy_only=False)
        m = pc.fill_null(merchant, 0).to_numpy(zero_copy_only=False)
        fill("category", lambda: pc.if_else(pa.array(known_m), self.merchant_category.take(pa.array(m)),
                                            UNKNOWN_CATEGORY) if len(self.merchant_ids)
             else pa.array([UNKNOWN_CATEGORY] * n, pa.string()))
        fill("merchant_reputation", lambda: pa.array(
            np.where(known_m, self.merchant_reputation[m], np.nan) if len(self.merchant_ids) else np.full(n, np.nan)))
        fill("is_online", lambda: pc.is_in(table.column("channel"), value_set=pa.array(ONLINE_CHANNELS)))

        def coordinate(name: str) -> np.ndarray:
            have = given.get(name)
            return np.full(n, np.nan) if have is None else pc.fill_null(have.cast(pa.float64()), np.nan).to_numpy()

        lat, lon = coordinate("latitude"), coordinate("longitude")
        located = ~np.isnan(lat) & ~np.isnan(lon)

        def cities() -> pa.Array:
            near = np.zeros(n, np.int64)
            if located.any():
                near[located] = nearest_city(lat[located], lon[located])
            return pc.if_else(pa.array(located), _CITY_NAMES.take(pa.array(near)), pa.nulls(n, pa.string()))

        city = pc.index_in(fill("city", cities), value_set=_CITY_NAMES)
        known_city = city.is_valid().to_numpy(zero_copy_only=False)
        ci = pc.fill_null(city, 0).to_numpy(zero_copy_only=False)
        centre = ~located & known_city  # no coordinates given: the city's centre
        lat, lon = np.where(centre, geo.CITY_LAT[ci], lat), np.where(centre, geo.CITY_LON[ci], lon)
        columns["latitude"], columns["longitude"] = pa.array(lat), pa.array(lon)
        customer = pc.index_in(table.column("customer_id"), value_set=self.customer_ids)
        known_c = customer.is_valid().to_numpy(zero_copy_only=False)
        c = pc.fill_null(customer, 0).to_numpy(zero_copy_only=False)
        has = len(self.customer_ids) > 0
        zone = np.where(known_c, self.home_zone[c] if has else 0, np.where(known_city, CITY_ZONE[ci], 0))
        derived = self._festivals(day, zone)
        columns["festival"] = pc.if_else(pa.array(festival_given), given["festival"], derived) \
            if festival_given.any() else derived
        home_lat = np.where(known_c, self.home_lat[c] if has else np.nan, np.nan)
        home_lon = np.where(known_c, self.home_lon[c] if has else np.nan, np.nan)
        fill("distance_from_home_km", lambda: pa.array(geo.haversine_km(lat, lon, home_lat, home_lon)))
        arrays = [columns[f.name] if f.name in columns else table.column(f.name).combine_chunks() for f in INPUT_SCHEMA]
        return pa.Table.from_arrays([a.cast(f.type) for a, f in zip(arrays, INPUT_SCHEMA, strict=True)],
                                    schema=INPUT_SCHEMA)

    # -- a stored record (POST /v1/transactions) -----------------------------------------------------------------
    def complete_record(self, table: pa.Table, festival_given: np.ndarray | bool = True) -> pa.Table:
        """STORED_TRANSACTION_SCHEMA columns of records whose derivable columns may be absent or null: the input
        columns as `complete` fills them, then the stored context - day of week, currency, the merchant's name,
        type, subcategory, MCC and city, the city's state and region, the customer's segment, age group and income
        bracket - where not given. Unknown as null (a merchant, customer or city the reference does not hold: no
        category, reputation, point or distance). Behavioural columns (synfinance.store.behaviour) and the rest
        are as given, null when absent."""
        n = table.num_rows
        inputs = self.complete(table, festival_given)
        columns: dict[str, pa.Array] = {name: inputs.column(name).combine_chunks() for name in INPUT_COLUMNS}
        columns["category"] = pc.if_else(pc.equal(columns["category"], UNKNOWN_CATEGORY),
                                         pa.nulls(n, pa.string()), columns["category"])
        for name in ("merchant_reputation", "latitude", "longitude", "distance_from_home_km"):
            values = columns[name].to_numpy(zero_copy_only=False)
            columns[name] = pa.array(values, mask=np.isnan(values))
        _, _, weekday = ist_calendar(table.column("timestamp").combine_chunks().cast(pa.int64()).to_numpy())
        derived = {"day_of_week": pa.array(weekday.astype(np.int8)), "currency": pa.array(["INR"] * n, pa.string())}
        merchant = pc.index_in(table.column("merchant_id"), value_set=self.merchant_ids)
        for field, name in MERCHANT_CONTEXT.items():
            derived[name] = self.merchant_context.column(field).take(merchant)
        city = pc.index_in(columns["city"], value_set=_CITY_NAMES)
        derived["state"], derived["region"] = _CITY_STATES.take(city), _CITY_REGIONS.take(city)
        customer = pc.index_in(table.column("customer_id"), value_set=self.customer_ids)
        for name in CUSTOMER_CONTEXT:
            derived[name] = self.customer_context.column(name).take(customer)
        for name, values in derived.items():
            columns[name] = pc.coalesce(table.column(name), values) if name in table.column_names else values
        arrays = [columns[f.name] if f.name in columns else table.column(f.name) if f.name in table.column_names
                  else pa.nulls(n, f.type) for f in STORED_TRANSACTION_SCHEMA]
        return pa.Table.from_arrays([a.cast(f.type) for a, f in zip(arrays, STORED_TRANSACTION_SCHEMA, strict=True)],
                                    schema=STORED_TRANSACTION_SCHEMA)

    @staticmethod
    def _festivals(day: np.ndarray, zone: np.ndarray) -> pa.Array:
        if not len(day):
            return pa.nulls(0, pa.string())
        first = int(day.min())
        ids, _ = festival_days(EPOCH_DATE + dt.timedelta(days=first), int(day.max()) - first + 1)
        festival = ids[zone, day - first].astype(np.int64)
        return _FESTIVALS.take(pa.array(festival, mask=festival == 0))
