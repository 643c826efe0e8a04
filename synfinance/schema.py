"""The one definition of every table SynFinance writes: Customer, Merchant, Transaction, features, predictions.

Each field carries its type, nullability and a one-line description (Arrow field metadata key
``description``). Parquet files, CSV/JSONL readers, the SQL tables (synfinance/store/tables.py, checked
against migrations/ by a test), the API's models and the docs are derived from or tested against this.
The time constants every stage shares live here too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TypeVar

import numpy as np
import pyarrow as pa

SCHEMA_VERSION = "1.0"

IST_OFFSET_S = 19_800  # India Standard Time is UTC+05:30, no daylight saving.
US_PER_S = 1_000_000
US_PER_HOUR = 3_600 * US_PER_S
US_PER_DAY = 24 * US_PER_HOUR
EPOCH_DATE = dt.date(1970, 1, 1)  # day 0 of the microsecond timestamps
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

AMOUNT_TYPE = pa.decimal128(14, 2)
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")


def _f(name: str, type_: pa.DataType, description: str, nullable: bool = False) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


CUSTOMER_SCHEMA = pa.schema(
    [
        _f("customer_id", pa.string(), "Stable customer identifier, CUST_<7 digits>."),
        _f("age", pa.int8(), "Age in whole years (18-85)."),
        _f("gender", pa.string(), "Male, Female or Other."),
        _f("city", pa.string(), "Home city."),
        _f("state", pa.string(), "State or union territory of the home city."),
        _f("region", pa.string(), "Region of India: North, South, East, West, Central, Northeast."),
        _f("income_bracket", pa.string(), "One of six monthly-income brackets in INR."),
        _f("occupation", pa.string(), "Occupation, consistent with segment and age."),
        _f("monthly_income", pa.int64(), "Monthly income in whole INR, inside the bracket."),
        _f("segment", pa.string(), "One of seven behavioural segments."),
        _f("risk_profile", pa.string(), "Low, Medium or High appetite for risky spending."),
        _f("digital_savviness", pa.string(), "Low, Medium or High comfort with digital payments."),
        _f("avg_transaction_amount", pa.float64(), "Expected transaction amount in INR."),
        _f("monthly_transaction_count", pa.int16(), "Expected transactions per month."),
        _f("preferred_categories", pa.list_(pa.string()), "Three favourite categories, most liked first."),
        _f("preferred_payment_modes", pa.list_(pa.string()), "Two favourite payment modes, most used first."),
        _f("preferred_shopping_hours", pa.list_(pa.int8()), "Three favourite local hours (0-23, IST)."),
        _f("weekend_shopper", pa.bool_(), "Shops noticeably more on Saturdays and Sundays."),
        _f("merchant_loyalty", pa.float64(), "Probability (0-1) of returning to a usual merchant."),
        _f("brand_conscious", pa.bool_(), "Prefers chain brands over local shops."),
        _f("impulse_buyer", pa.bool_(), "Makes more, and larger, unplanned purchases."),
        _f("travels_frequently", pa.bool_(), "Takes several trips to other cities."),
        _f("online_shopping_preference", pa.float64(), "Share (0-1) of purchases made online where possible."),
        _f("home_latitude", pa.float64(), "Latitude of the geocoded home address, degrees (null: not recorded).",
           nullable=True),
        _f("home_longitude", pa.float64(), "Longitude of the geocoded home address, degrees (null: not recorded).",
           nullable=True),
    ]
)

MERCHANT_SCHEMA = pa.schema(
    [
        _f("merchant_id", pa.string(), "MER_<CAT>_<CITY>_<NNN>: category code, city code, number."),
        _f("name", pa.string(), "Trading name; chains share a name across cities."),
        _f("category", pa.string(), "Spending category."),
        _f("subcategory", pa.string(), "Subcategory inside the category."),
        _f("mcc", pa.int16(), "ISO 18245 merchant category code."),
        _f("city", pa.string(), "City the merchant is registered in."),
        _f("region", pa.string(), "Region of the merchant's city."),
        _f("city_tier", pa.int8(), "Tier of the merchant's city: 1, 2 or 3."),
        _f("merchant_type", pa.string(), "chain, local, or person (the payee of a person-to-person transfer)."),
        _f("reputation", pa.float64(), "Reputation score, 0 (poor) to 1 (excellent)."),
    ]
)

TRANSACTION_SCHEMA = pa.schema(
    [
        # identity and time
        _f("transaction_id", pa.string(), "TXN-<seed tag>-<shard>-<sequence>; unique and reproducible."),
        _f("customer_id", pa.string(), "Paying customer."),
        _f("merchant_id", pa.string(), "Receiving merchant."),
        _f("timestamp", TIMESTAMP_TYPE, "When it happened, UTC, microseconds."),
        _f("local_date", pa.date32(), "Calendar date in India (IST)."),
        _f("local_hour", pa.int8(), "Hour of day in India (IST), 0-23."),
        _f("day_of_week", pa.int8(), "IST day of week, 0 = Monday ... 6 = Sunday."),
        _f("festival", pa.string(), "Festival whose season covers this day, if any.", nullable=True),
        # money and instrument
        _f("amount_inr", AMOUNT_TYPE, "Amount in INR with exact paise."),
        _f("currency", pa.string(), "ISO 4217 currency code; always INR."),
        _f("category", pa.string(), "Spending category (the merchant's)."),
        _f("subcategory", pa.string(), "Subcategory (the merchant's)."),
        _f("mcc", pa.int16(), "Merchant category code."),
        _f("payment_mode", pa.string(), "UPI, Credit Card, Debit Card, Net Banking, Wallet, EMI or Cash."),
        _f("card_type", pa.string(), "Card network for card and EMI payments.", nullable=True),
        _f("instrument_id", pa.string(), "Token of the card, UPI handle, wallet or account used.", nullable=True),
        _f("status", pa.string(), "approved, declined, pending or reversed."),
        _f("channel", pa.string(), "Mobile App, Web, POS, QR or In-Store."),
        _f("is_online", pa.bool_(), "Card-not-present / remote purchase."),
        # merchant context
        _f("merchant_name", pa.string(), "Merchant trading name."),
        _f("merchant_type", pa.string(), "chain, local, or person (the payee of a person-to-person transfer)."),
        _f("merchant_reputation", pa.float64(), "Merchant reputation, 0-1."),
        # location
        _f("city", pa.string(), "City where the customer was."),
        _f("state", pa.string(), "State of that city."),
        _f("region", pa.string(), "Region of that city."),
        _f("merchant_city", pa.string(), "City the merchant is registered in."),
        _f("latitude", pa.float64(), "Latitude of the customer at the time, degrees."),
        _f("longitude", pa.float64(), "Longitude of the customer at the time, degrees."),
        # device
        _f("device_id", pa.string(), "Customer device used; null at a POS or for cash.", nullable=True),
        _f("device_type", pa.string(), "Mobile, Desktop or Tablet.", nullable=True),
        _f("os", pa.string(), "Operating system of the device.", nullable=True),
        _f("app_version", pa.string(), "Banking/UPI app version on the device.", nullable=True),
        # customer context
        _f("customer_segment", pa.string(), "Customer's behavioural segment."),
        _f("customer_age_group", pa.string(), "18-24, 25-34, 35-44, 45-54, 55-64 or 65+."),
        _f("customer_income_bracket", pa.string(), "Customer's income bracket."),
        # behavioural context, computed per customer in time order
        _f("distance_from_home_km", pa.float64(), "Great-circle distance from the customer's home, km."),
        _f("time_since_last_txn_s", pa.float64(), "Seconds since the customer's previous transaction.", nullable=True),
        _f("is_first_txn_with_merchant", pa.bool_(), "First time this customer pays this merchant."),
        _f("daily_txn_count", pa.int32(), "Customer's transactions so far this IST day, this one included."),
        _f("daily_txn_amount_inr", AMOUNT_TYPE, "Customer's spend so far this IST day, this one included."),
        # labels (filled by synfinance.patterns)
        _f("is_fraud", pa.bool_(), "Injected fraud."),
        _f("fraud_type", pa.string(), "Fraud pattern that produced the row.", nullable=True),
        _f("fraud_severity", pa.string(), "low, medium, high or critical.", nullable=True),
        _f("fraud_confidence", pa.float64(), "How clearly the row shows its pattern, 0-1.", nullable=True),
        _f("fraud_evidence", pa.string(), "Compact JSON of the signals behind the fraud label.", nullable=True),
        _f("is_anomaly", pa.bool_(), "Injected anomaly (unusual, not necessarily fraud)."),
        _f("anomaly_type", pa.string(), "Anomaly pattern that produced the row.", nullable=True),
        _f("anomaly_severity", pa.string(), "low, medium, high or critical.", nullable=True),
        _f("anomaly_confidence", pa.float64(), "How clearly the row shows its anomaly, 0-1.", nullable=True),
        _f("anomaly_evidence", pa.string(), "Compact JSON of the signals behind the anomaly label.", nullable=True),
    ]
)

LABEL_FIELDS = tuple(TRANSACTION_SCHEMA.names[-10:])
# Stored from a raw event (POST /v1/transactions), these columns are unknown for a merchant, customer or city the
# reference does not hold (migration 0011): nullable where stored, never null in a generated dataset.
UNKNOWABLE = ("category", "subcategory", "mcc", "merchant_name", "merchant_type", "merchant_reputation", "state",
              "region", "merchant_city", "latitude", "longitude", "customer_segment", "customer_age_group",
              "customer_income_bracket", "distance_from_home_km")
STORED_TRANSACTION_SCHEMA = pa.schema([f.with_nullable(True) if f.name in UNKNOWABLE else f
                                       for f in TRANSACTION_SCHEMA])
# Nullable columns added after files were first written (0.8.0): a file without them reads them as null.
ADDED_LATER = frozenset({"home_latitude", "home_longitude"})

SCHEMAS: dict[str, pa.Schema] = {
    "customers": CUSTOMER_SCHEMA,
    "merchants": MERCHANT_SCHEMA,
    "transactions": TRANSACTION_SCHEMA,
}


REASON_TYPE = pa.list_(pa.struct([pa.field("feature", pa.string(), nullable=False),
                                  pa.field("contribution", pa.float64(), nullable=False)]))
PREDICTION_SCHEMA = pa.schema(
    [
        _f("transaction_id", pa.string(), "The scored transaction."),
        _f("fraud_probability", pa.float64(), "The model's probability that the transaction is fraud, 0-1."),
        _f("decision", pa.string(), "approve, review or decline, by the model version's decision policy."),
        _f("reasons", REASON_TYPE, "The features that pushed the probability up most, with their contribution "
           "to the log-odds; empty when not explained (by default only reviewed and declined ones are)."),
        _f("anomaly_score", pa.float64(), "The anomaly_score feature (0-1): how unusual for this customer."),
        _f("model_version", pa.string(), "The model version that scored it (e.g. v0003)."),
        _f("scored_at", TIMESTAMP_TYPE, "When it was scored: the transaction's own time when scored offline "
           "(as at authorisation, so a seed gives the same bytes), the server's clock when scored online."),
    ],
    metadata={"description": "One row per scored transaction and model version."},
)
SCHEMAS["predictions"] = PREDICTION_SCHEMA


def description(field: pa.Field) -> str:
    """The one-line description stored on a schema field."""
    meta = field.metadata or {}
    return meta.get(b"description", b"").decode()


def fingerprint(schema: pa.Schema) -> str:
    """Short hash of names, types and nullability: changes whenever the data contract does."""
    text = "|".join(f"{f.name}:{f.type}:{f.nullable}" for f in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def conforms(actual: pa.Schema, expected: pa.Schema, nullability: bool = True) -> list[str]:
    """Every difference between two schemas (names, order, types, nullability), as sentences.

    Text formats cannot declare nullability; pass nullability=False and check the data with missing_values.
    """
    problems: list[str] = []
    exp = {f.name: f for f in expected}
    act = {f.name: f for f in actual}
    problems += [f"missing column {n!r} (expected {exp[n].type})" for n in exp if n not in act]
    problems += [f"unexpected column {n!r}" for n in act if n not in exp]
    for name in exp.keys() & act.keys():
        e, a = exp[name], act[name]
        if e.type != a.type:
            problems.append(f"column {name!r} has type {a.type}, expected {e.type}")
        if nullability and e.nullable != a.nullable:
            problems.append(f"column {name!r} nullable={a.nullable}, expected {e.nullable}")
    if not problems and actual.names != expected.names:
        problems.append(f"columns out of order: {actual.names}")
    return problems


def missing_values(table: pa.Table, expected: pa.Schema) -> list[str]:
    """Columns that the schema declares non-nullable but that hold nulls."""
    return [
        f"column {f.name!r} has {table.column(f.name).null_count} empty values, expected none"
        for f in expected
        if not f.nullable and f.name in table.column_names and table.column(f.name).null_count
    ]


def amounts_from_paise(paise: np.ndarray) -> pa.Array:
    """Exact INR decimals from integer paise, built from buffers (no per-row conversion)."""
    paise = np.ascontiguousarray(paise, dtype=np.int64)
    words = np.empty((len(paise), 2), dtype=np.int64)
    words[:, 0] = paise
    words[:, 1] = paise >> 63  # sign-extend into the high 64 bits of the 128-bit value
    return pa.Array.from_buffers(AMOUNT_TYPE, len(paise), [None, pa.py_buffer(words)])


Micros = TypeVar("Micros", np.ndarray, int)  # UTC microseconds: a column of them, or one


def ist_calendar(ts: Micros) -> tuple[Micros, Micros, Micros]:
    """Days since 1970-01-01, hour of day and weekday (0 = Monday), in India (IST), of UTC microseconds (an array,
    or one int)."""
    local_us = ts + IST_OFFSET_S * 1_000_000
    day = local_us // US_PER_DAY
    return day, (local_us % US_PER_DAY) // US_PER_HOUR, (day + 3) % 7  # 1970-01-01 was a Thursday


def ist_midnight(ts: Micros) -> Micros:
    """The start of the IST day (midnight in India) that UTC microseconds fall in, as UTC microseconds."""
    return (ts + IST_OFFSET_S * 1_000_000) // US_PER_DAY * US_PER_DAY - IST_OFFSET_S * 1_000_000


def paise_from_amounts(amounts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Integer paise from an INR decimal128(·, 2) column; nulls are not allowed."""
    if isinstance(amounts, pa.ChunkedArray):
        amounts = amounts.combine_chunks()
    if amounts.type != AMOUNT_TYPE:
        amounts = amounts.cast(AMOUNT_TYPE)
    if amounts.null_count:
        raise ValueError("amount column has nulls")
    words = np.frombuffer(amounts.buffers()[1], dtype=np.int64)
    return words[2 * amounts.offset : 2 * (amounts.offset + len(amounts)) : 2].copy()


def _feature(name: str, group: str, description: str) -> pa.Field:
    return pa.field(name, pa.float64(), nullable=True, metadata={"description": description, "group": group})


# The 69 model features, in model order. Every one is computed from observable transaction fields
# and the customer's (merchant's, device's) earlier transactions; none reads a label.
FEATURE_FIELDS = [
    # fraud signals (32)
    _feature("txn_count_1h", "fraud", "Customer's earlier transactions in the last hour."),
    _feature("txn_count_6h", "fraud", "Customer's earlier transactions in the last 6 hours."),
    _feature("txn_count_24h", "fraud", "Customer's earlier transactions in the last 24 hours."),
    _feature("txn_count_7d", "fraud", "Earlier transactions, exponentially decayed with a 7-day time constant."),
    _feature("txn_count_30d", "fraud", "Earlier transactions, exponentially decayed with a 30-day time constant."),
    _feature("amount_sum_1h", "fraud", "INR spent in the last hour (earlier transactions)."),
    _feature("amount_sum_6h", "fraud", "INR spent in the last 6 hours."),
    _feature("amount_sum_24h", "fraud", "INR spent in the last 24 hours."),
    _feature("amount_sum_7d", "fraud", "INR spent, decayed with a 7-day time constant."),
    _feature("amount_sum_30d", "fraud", "INR spent, decayed with a 30-day time constant."),
    _feature("amount_velocity_1h", "fraud", "This hour's spend (this one included) over the usual hourly spend."),
    _feature("amount_to_mean_ratio", "fraud", "Amount over the customer's running mean amount (null without history)."),
    _feature("amount_zscore", "fraud", "Amount's z-score against the customer's running mean and spread."),
    _feature("distance_from_home_km", "fraud", "Distance from the customer's home, km."),
    _feature("distance_from_prev_km", "fraud", "Distance from the customer's previous transaction, km."),
    _feature("speed_from_prev_kmh", "fraud", "Implied travel speed from the previous transaction, km/h."),
    _feature("distinct_cities_7d", "fraud", "Distinct cities in the last 7 days, this one included."),
    _feature("hour_of_day", "fraud", "Local hour (IST)."),
    _feature("is_weekend", "fraud", "Saturday or Sunday (IST)."),
    _feature("is_holiday_or_festival", "fraud", "National holiday or festival season."),
    _feature("is_night", "fraud", "Between midnight and 6 a.m. IST."),
    _feature("is_new_merchant", "fraud", "Merchant not among the customer's recent transactions."),
    _feature("is_new_device", "fraud", "Device not among the customer's recent transactions."),
    _feature("category_diversity_30d", "fraud", "Distinct categories in the last 30 days, this one included."),
    _feature("merchant_loyalty_share", "fraud", "Share of recent transactions at this merchant."),
    _feature("merchant_reputation", "fraud", "Merchant reputation, 0-1."),
    _feature("declined_share_7d", "fraud", "Share of the last 7 days' transactions that were declined."),
    _feature("refund_share_30d", "fraud", "Share of the last 30 days' transactions that were reversed."),
    _feature("time_since_last_s", "fraud", "Seconds since the customer's previous transaction (null if none)."),
    _feature("merchant_customers_1h", "fraud", "Distinct customers at this merchant in the last hour, this one too."),
    _feature("merchant_amount_1h", "fraud", "INR paid at this merchant in the last hour by anyone (earlier)."),
    _feature("device_customers_shared", "fraud", "Other customers seen on this device recently."),
    # anomaly signals (26)
    _feature("amount_log_z", "anomaly", "Log-amount z-score against the customer's decayed history."),
    _feature("amount_log_z_abs", "anomaly", "Absolute log-amount z-score."),
    _feature("hour_rarity", "anomaly", "1 - smoothed share of the customer's history at this hour."),
    _feature("hour_circular_dev", "anomaly", "Hours between this hour and the customer's circular mean hour."),
    _feature("category_rarity", "anomaly", "1 - smoothed share of the customer's history in this category."),
    _feature("category_unseen", "anomaly", "Category absent from the customer's history."),
    _feature("mode_rarity", "anomaly", "1 - smoothed share of the customer's history with this payment mode."),
    _feature("mode_unseen", "anomaly", "Payment mode absent from the customer's history."),
    _feature("location_dev_km", "anomaly", "Distance from the customer's decayed mean location, km."),
    _feature("location_z", "anomaly", "Location deviation over the customer's usual deviation."),
    _feature("city_unseen", "anomaly", "City absent from the customer's recent transactions."),
    _feature("gap_log_z", "anomaly", "Z-score of the log time gap against the customer's usual gaps."),
    _feature("frequency_ratio_24h", "anomaly", "Last 24 hours' count over the customer's usual daily count."),
    _feature("online_rarity", "anomaly", "1 - smoothed share of history that is online (or in person) like this one."),
    _feature("channel_rarity", "anomaly", "1 - smoothed share of history through this channel."),
    _feature("max_dev", "anomaly", "Largest normalised deviation (amount, hour, category, mode, place, gap)."),
    _feature("mean_dev", "anomaly", "Mean of the six normalised deviations."),
    _feature("n_devs", "anomaly", "How many of the six normalised deviations exceed 0.8."),
    _feature("amount_x_hour_dev", "anomaly", "Amount deviation x hour deviation."),
    _feature("location_x_gap_dev", "anomaly", "Location deviation x gap deviation."),
    _feature("category_x_mode_dev", "anomaly", "Category deviation x payment-mode deviation."),
    _feature("dev_streak", "anomaly", "Consecutive deviating transactions ending with this one."),
    _feature("recent_devs_24h", "anomaly", "Deviating transactions among the last 24 hours' (earlier)."),
    _feature("recent_devs_7d", "anomaly", "Deviating transactions among the last 7 days' (earlier)."),
    _feature("history_depth", "anomaly", "log(1 + earlier transactions of the customer)."),
    _feature("anomaly_score", "anomaly", "Overall anomaly score, 0-1: deviations weighted by history depth."),
    # interactions (11)
    _feature("velocity_x_amount_dev", "interaction", "Last hour's count x absolute log-amount z-score."),
    _feature("new_merchant_night_high_amount", "interaction", "New merchant, at night, amount over 3x the mean."),
    _feature("geo_risk_x_speed", "interaction", "log(1 + km from home) x log(1 + speed from previous)."),
    _feature("new_device_x_amount_ratio", "interaction", "New device x amount-to-mean ratio."),
    _feature("merchant_velocity_x_low_reputation", "interaction", "Merchant's customers this hour x (1 - reputation)."),
    _feature("micro_burst_x_amount", "interaction", "Micro (<= INR 100) payments in the last hour x log(1 + amount)."),
    _feature("declined_x_velocity", "interaction", "Declined share (7 days) x last 24 hours' count."),
    _feature("shared_device_x_new_device", "interaction", "Other customers on the device x new device."),
    _feature("round_amount_x_new_merchant", "interaction", "Round amount (multiple of INR 1,000) at a new merchant."),
    _feature("distance_x_new_merchant", "interaction", "log(1 + km from home) x new merchant."),
    _feature("risk_score", "interaction", "Weighted risk score, 0-1, over velocity, amount, device, place, merchant."),
]
FEATURE_SCHEMA = pa.schema(FEATURE_FIELDS)
FEATURE_NAMES = tuple(FEATURE_SCHEMA.names)
FEATURE_TABLE_SCHEMA = pa.schema(
    [_f("transaction_id", pa.string(), "Transaction the features describe."), *FEATURE_FIELDS]
)
SCHEMAS["features"] = FEATURE_TABLE_SCHEMA


def feature_group(field: pa.Field) -> str:
    return (field.metadata or {}).get(b"group", b"").decode()
