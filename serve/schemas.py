"""Request and response bodies of the HTTP API, derived from synfinance.schema (the one source of truth).

Each Arrow field becomes a pydantic field with its type, bounds and description, so the OpenAPI
schema, the validation errors and the Parquet/PostgreSQL layouts cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

import pyarrow as pa
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from synfinance.features.inputs import INPUT_COLUMNS
from synfinance.features.reference import DERIVED, SWITCH_FIELDS
from synfinance.model.policy import DECISIONS
from synfinance.population.categories import CATEGORY_NAMES
from synfinance.population.payments import CHANNELS, MODES, STATUSES
from synfinance.schema import CUSTOMER_SCHEMA, MERCHANT_SCHEMA, TRANSACTION_SCHEMA, description
from synfinance.world.catalogue import FRAUD_NAMES

MAX_BATCH = 10_000
EARLIEST, LATEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# Text without NUL (PostgreSQL text cannot hold it) and of a sane length.
TEXT_MAX = 128
Text = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX, pattern=r"^[^\x00]*$")]
CHOICES: dict[str, tuple[str, ...]] = {
    "category": CATEGORY_NAMES, "payment_mode": MODES, "channel": CHANNELS, "status": STATUSES, "currency": ("INR",),
}
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "local_hour": (0, 23), "day_of_week": (0, 6), "merchant_reputation": (0, 1), "latitude": (-90, 90),
    "longitude": (-180, 180), "distance_from_home_km": (0, 20_100), "fraud_confidence": (0, 1),
    "anomaly_confidence": (0, 1), "time_since_last_txn_s": (0, None), "daily_txn_count": (1, None),
    "mcc": (0, 9999), "amount_inr": (0.01, None), "daily_txn_amount_inr": (0, None),
}
LABEL_DEFAULTS = {"is_fraud": False, "is_anomaly": False}


def _in_range(stamp: dt.datetime) -> dt.datetime:
    """A time in the years 2000-2099 as written (its own zone): what the schema's pattern says."""
    if not EARLIEST.year <= stamp.year < LATEST.year:
        raise ValueError(f"a time from {EARLIEST.date()} to before {LATEST.date()}")
    return stamp


def _date_in_range(day: dt.date) -> dt.date:
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"a date from {EARLIEST.date()} to before {LATEST.date()}")
    return day


IN_RANGE = r"^20[0-9]{2}-"  # the years 2000-2099
Timestamp = Annotated[AwareDatetime, AfterValidator(_in_range), WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": IN_RANGE,
     "description": "ISO 8601 with a zone, in the years 2000-2099."})]
Day = Annotated[dt.date, AfterValidator(_date_in_range), WithJsonSchema(
    {"type": "string", "format": "date", "pattern": IN_RANGE})]


def _annotation(field: pa.Field) -> Any:
    t, (low, high) = field.type, BOUNDS.get(field.name, (None, None))
    if field.name in CHOICES:
        return Literal[CHOICES[field.name]]
    if pa.types.is_string(t):
        return Text
    if pa.types.is_timestamp(t):
        return Timestamp
    if pa.types.is_date(t):
        return Day
    if pa.types.is_boolean(t):
        return bool
    if pa.types.is_integer(t):
        bits = t.bit_width - 1
        return Annotated[int, Field(ge=-(2**bits) if low is None else low, le=2**bits - 1 if high is None else high)]
    if pa.types.is_decimal(t):
        return Annotated[Decimal, Field(max_digits=t.precision, decimal_places=t.scale, ge=low, le=high),
                         WithJsonSchema(_decimal_schema(t.precision - t.scale, t.scale, low, field))]
    if pa.types.is_floating(t):
        return Annotated[float, Field(ge=low, le=high, allow_inf_nan=False)]
    if pa.types.is_list(t):
        return list[_annotation(pa.field(field.name, t.value_type))]  # type: ignore[misc]
    raise TypeError(f"no API type for {field.name}: {t}")


LOCATED: dict[str, Any] = {"anyOf": [
    {"required": ["city"], "properties": {"city": {"type": "string"}}},
    {"required": ["latitude", "longitude"],
     "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}}}]}


class Located(BaseModel):
    """A raw event's location: a city, or latitude and longitude, or all three (OpenAPI: anyOf)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=LOCATED)

    @model_validator(mode="after")
    def _located(self) -> Located:
        city, lat, lon = (getattr(self, n) for n in ("city", "latitude", "longitude"))
        if city is None and (lat is None or lon is None):
            missing = "longitude" if lat is not None else "latitude" if lon is not None else "city"
            raise ValueError(f"{missing}: a location - a city, or latitude and longitude (or all three)")
        return self


def _decimal_schema(whole: int, scale: int, low: float | None, field: pa.Field) -> dict[str, Any]:
    """An amount as the server takes it: text of at most `whole` digits and `scale` decimals, not below `low`
    (0.01: positive; 0: zero allowed). JSON numbers are accepted too, but binary floats cannot promise exact paise,
    so the schema documents text."""
    digits = rf"[0-9]{{1,{whole}}}(\.[0-9]{{1,{scale}}})?"
    if low is not None and low > 0:  # at least one paisa: not all zeros
        pattern = rf"^(?=.*[1-9]){digits}$"
    else:
        pattern = rf"^{'' if low is not None else '-?'}{digits}$"
    return {"type": "string", "pattern": pattern, "description": description(field),
            "examples": ["249.00"]}


def model_of(name: str, schema: pa.Schema, fields: tuple[str, ...], optional: tuple[str, ...] = (),
             doc: str = "", base: type[BaseModel] | None = None) -> type[BaseModel]:
    """A pydantic model of the named Arrow fields: nullable (or `optional`) fields default to null."""
    spec: dict[str, Any] = {}
    for field in (schema.field(n) for n in fields):
        annotation = _annotation(field)
        if field.nullable or field.name in optional:
            default = LABEL_DEFAULTS.get(field.name)
            spec[field.name] = (annotation if default is not None else annotation | None,
                                Field(default, description=description(field)))
        else:
            spec[field.name] = (annotation, Field(description=description(field)))
    if base is not None:
        return create_model(name, __base__=base, __doc__=doc, **spec)
    made: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), __doc__=doc, **spec)
    return made


TransactionIn = model_of(
    "TransactionIn", TRANSACTION_SCHEMA, INPUT_COLUMNS, optional=DERIVED, base=Located,
    doc="One transaction as a payment switch knows it at authorisation: ids, timestamp, amount, payment mode, "
        "channel, status and a location (a city, or latitude and longitude). The other fields are derived by the "
        "server from the calendar and its reference data (docs/api.md); a value supplied for one is used as given.")
TransactionRecord = model_of(
    "TransactionRecord", TRANSACTION_SCHEMA, tuple(TRANSACTION_SCHEMA.names),
    optional=tuple(n for n in TRANSACTION_SCHEMA.names if n not in SWITCH_FIELDS), base=Located,
    doc="A transaction to store: the raw event (the switch's fields and a location) or the whole record. Fields "
        "left out are derived by the server as for scoring, the stored context (merchant, customer, state and "
        "region) from its reference and the behavioural columns from the customer's stored history (docs/api.md); a "
        "supplied value is used as given; labels left out mean not fraud, not an anomaly.")
Customer = model_of("Customer", CUSTOMER_SCHEMA, tuple(CUSTOMER_SCHEMA.names), doc="A customer profile.")
Merchant = model_of("Merchant", MERCHANT_SCHEMA, tuple(MERCHANT_SCHEMA.names), doc="A merchant.")


class Transactions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transactions: list[TransactionIn] = Field(  # type: ignore[valid-type]
        description=f"Up to {MAX_BATCH:,} transactions, any order (each customer's are scored oldest first).")


class Records(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transactions: list[TransactionRecord] = Field(  # type: ignore[valid-type]
        description=f"Up to {MAX_BATCH:,} transactions to store.")


class FeedbackIn(BaseModel):
    """What the bank learned later about a scored transaction: a chargeback, a confirmed case, a cleared alert."""

    model_config = ConfigDict(extra="forbid")
    transaction_id: Text
    is_fraud: bool = Field(description="True when it turned out to be fraud.")
    fraud_type: Literal[FRAUD_NAMES] | None = Field(  # type: ignore[valid-type]
        None, description="Which fraud, when is_fraud and known; null for a legitimate transaction.")

    @field_validator("fraud_type")
    @classmethod
    def _only_for_fraud(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("is_fraud") is False:
            raise ValueError("null when is_fraud is false")
        return value


class FeedbackBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feedback: list[FeedbackIn] = Field(min_length=1, max_length=MAX_BATCH,
                                       description=f"Up to {MAX_BATCH:,} outcomes, one per transaction.")


class FeedbackResult(BaseModel):
    received: int
    counted: int = Field(description="Outcomes recorded now; a transaction's second feedback is not counted again.")
    outcomes: dict[str, int] = Field(description="Counted outcomes by confusion cell (tp, fp, fn, tn); a review "
                                                 "or decline is a positive.")


class CacheWarm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str | None = Field(None, min_length=1, max_length=4096,
                                description="A dataset directory on the API's machine whose transactions are replayed "
                                            "into the online features; null: those the database stored after what "
                                            "the shards hold.")


class CacheClear(BaseModel):
    model_config = ConfigDict(extra="forbid")
    features: bool = Field(True, description="Forget every customer's, merchant's and device's online state.")
    model: bool = Field(False, description="Drop the loaded model; the next score reads the registry again.")


class Reason(BaseModel):
    feature: str
    contribution: float = Field(description="Push on the log-odds of fraud (positive: towards fraud).")


class Score(BaseModel):
    """One prediction: the fields of synfinance.schema.PREDICTION_SCHEMA (a test keeps them in step), and timing."""

    transaction_id: str
    fraud_probability: float = Field(ge=0, le=1)
    decision: Literal[DECISIONS] = Field(  # type: ignore[valid-type]
        description="By the model version's decision policy (see GET /v1/model).")
    reasons: list[Reason] = Field(description="The features that pushed the probability up most; by default "
                                              "only reviewed and declined transactions are explained.")
    anomaly_score: float = Field(description="How unusual the transaction is for this customer, 0-1.")
    model_version: str
    scored_at: dt.datetime = Field(description="When the server scored it (UTC).")
    processing_time_ms: float
    features: dict[str, float | None] | None = Field(None, description="The 69 features, with ?features=true.")


class Scores(BaseModel):
    scores: list[Score]
    processing_time_ms: float


class Stored(BaseModel):
    stored: int
    scores: list[Score] | None = None


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class ErrorDetail(BaseModel):
    field: str = Field(description="JSON path of the offending value, e.g. $.transactions[3].amount_inr.")
    expected: str
    got: Any = None


class ErrorBody(BaseModel):
    error: str = Field(description="Error kind, e.g. validation, not_found, unavailable.")
    message: str
    request_id: str
    details: list[ErrorDetail] = []
