"""The one definition of every table SynFinance writes: Customer, Merchant, Transaction.

Each field carries its type, nullability and a one-line description (Arrow field
metadata key ``description``). Parquet files, CSV/JSONL readers, the docs and, later,
SQL migrations, API models and quality checks are derived from or tested against this.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

SCHEMA_VERSION = "1.0"

IST_OFFSET_S = 19_800  # India Standard Time is UTC+05:30, no daylight saving.

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
        _f("merchant_type", pa.string(), "chain or local."),
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
        _f("merchant_type", pa.string(), "chain or local."),
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

SCHEMAS: dict[str, pa.Schema] = {
    "customers": CUSTOMER_SCHEMA,
    "merchants": MERCHANT_SCHEMA,
    "transactions": TRANSACTION_SCHEMA,
}


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
