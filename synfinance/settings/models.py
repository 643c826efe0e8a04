"""Typed settings: one root model, one section per concern; every field typed, bounded and described."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from synfinance.settings.quality import QualityConfig

RESTART_ONLY: dict[str, Any] = {"restart_only": True}  # json_schema_extra marker: applied only at start-up
LIVE: dict[str, Any] = {"live": True}  # json_schema_extra marker: a running service applies it in place
ENVIRONMENTS = ("development", "staging", "production", "test")
Scope = Literal["score", "read", "write", "admin"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class ServerConfig(Section):
    host: str = Field("127.0.0.1", description="Interface the HTTP API binds to.", json_schema_extra=RESTART_ONLY)
    port: int = Field(8000, ge=1, le=65535, description="HTTP port of the API.", json_schema_extra=RESTART_ONLY)
    replicas: int = Field(1, ge=1, le=64, description="Ray Serve replicas of each deployment at start.")
    timeout_s: float = Field(30.0, gt=0, le=600, description="Longest time a request may take.")
    max_request_bytes: int = Field(10_000_000, ge=1024, le=1_000_000_000, description="Largest accepted body.")
    feature_shards: int = Field(
        2, ge=1, le=64, description="Online feature-store shards (customers are routed by a hash of their id).",
        json_schema_extra=RESTART_ONLY,
    )
    feature_store: Literal["ingress", "shards"] = Field(
        "ingress", description="Where the online features and the model live. ingress: in the one ingress replica, "
        "which holds every customer (no hop per score; server.replicas must be 1, no autoscaling). shards: in "
        "server.feature_shards actors that every ingress replica calls (one hop; for several replicas, a cluster).",
        json_schema_extra=RESTART_ONLY,
    )
    warm_from: Path | None = Field(
        None, description="Dataset directory whose transactions warm the online feature store at start-up.",
        json_schema_extra=RESTART_ONLY,
    )
    state_dir: Path = Field(Path(".synfinance"), description="Where a detached API keeps its pid, URL and log.")

    @model_validator(mode="after")
    def _one_holder(self) -> ServerConfig:
        if self.feature_store == "ingress" and self.replicas != 1:
            raise ValueError(f"replicas must be 1 when feature_store is 'ingress' (got {self.replicas}: each replica "
                             "would hold its own diverging copy of every customer's state); set feature_store: shards "
                             "for several replicas")
        return self


class PoolConfig(Section):
    min_size: int = Field(1, ge=0, le=1000, description="Connections kept open when idle.")
    max_size: int = Field(10, ge=1, le=1000, description="Most connections open at once.")

    @model_validator(mode="after")
    def _ordered(self) -> PoolConfig:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) must not exceed max_size ({self.max_size})")
        return self


class RetryConfig(Section):
    """synfinance.resilience.RetryPolicy: exponential back-off with full jitter."""

    attempts: int = Field(3, ge=1, le=20, description="Tries per call, the first included.")
    backoff_base_s: float = Field(0.1, gt=0, le=60, description="Cap of the first back-off; doubles per retry.")
    backoff_max_s: float = Field(5.0, gt=0, le=600, description="Largest cap of a back-off (each wait is drawn "
                                                                "uniformly below its cap: full jitter).")
    deadline_s: float | None = Field(30.0, gt=0, le=3600, description="Most time all tries of one call may "
                                     "take together: the call ends then (null: attempts alone bound it).")


class BreakerConfig(Section):
    fail_max: int = Field(5, ge=1, le=1000, description="Consecutive failed calls that open the breaker.")
    reset_s: float = Field(10.0, gt=0, le=3600, description="Time an open breaker waits before a trial call.")


class DatabaseConfig(Section):
    enabled: bool = Field(False, description="Persist to PostgreSQL (off: Parquet only).")
    url: SecretStr = Field(
        SecretStr("postgresql://postgres@127.0.0.1:5432/test"), description="PostgreSQL URL (a secret)."
    )
    schema_name: str = Field(
        "public", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="PostgreSQL schema holding SynFinance's tables."
    )
    pool: PoolConfig = Field(default_factory=PoolConfig, description="Connection pool sizes.")
    statement_timeout_s: float = Field(5.0, gt=0, le=3600, description="Server-side statement timeout.")
    connect_timeout_s: float = Field(5.0, gt=0, le=300, description="Time allowed to open a connection.")
    retry: RetryConfig = Field(default_factory=RetryConfig, description="Retry of the API's database calls.",
                               json_schema_extra=LIVE)
    bulk_retry: RetryConfig = Field(
        default_factory=lambda: RetryConfig(attempts=12, backoff_base_s=0.5, backoff_max_s=10, deadline_s=None),
        description="Retry of bulk writes (db load, the pipeline's PostgreSQL sink), which can wait out an outage: "
                    "a part is written again after a lost connection, idempotently.", json_schema_extra=LIVE)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig, description="Circuit breaker on every call.",
                                   json_schema_extra=LIVE)


class GenerationConfig(Section):
    seed: int = Field(42, ge=0, le=2**63 - 1, description="Default seed; the same seed gives the same bytes.")
    customers: int | None = Field(None, ge=1, le=5_000_000, description="Population size (null: count / 100).")
    merchants: int | None = Field(None, ge=338, le=1_000_000, description="Merchants (null: customers / 10).")
    start: dt.date = Field(dt.date(2025, 10, 1), description="First IST date of generated data.")
    days: int = Field(92, ge=1, le=4018, description="Length of the date range in days.")
    shard_size: int = Field(1000, ge=1, le=1_000_000, description="Most customers in one shard.")
    fraud_rate: float = Field(0.02, ge=1e-6, le=0.2, description="Share of transactions that are fraud: from one "
                              "per million (real-world prevalence, about 8.5 per million on UPI) to 0.2 (oversampled "
                              "for training; the default 0.02 is about 2,350 times the published rate).")
    anomaly_rate: float = Field(0.05, ge=0.0, le=0.2, description="Share of transactions that are anomalies.")
    difficulty: Literal["easy", "realistic", "hard"] = Field(
        "realistic", description="How far fraud departs from the customer's normal behaviour."
    )
    fraud_type_weights: dict[str, float] = Field(
        default_factory=dict, description="Relative weight per fraud type, replacing its default share."
    )
    anomaly_type_weights: dict[str, float] = Field(
        default_factory=dict, description="Relative weight per anomaly type, replacing its default share."
    )
    lookalikes: dict[str, float] = Field(
        default_factory=dict, description="Rate per benign look-alike at difficulty realistic (easy: a quarter, "
        "hard: twice), replacing its default: merchant_location, device_location, households, household_device, "
        "sprees, retries, micro_payments, round_amounts, first_time_high_value, refunds (docs/generation.md)."
    )


class GuardConfig(Section):
    window_s: float = Field(86_400.0, gt=0, le=30 * 86_400,
                            description="How long after a promotion the new champion is watched (seconds).")
    precision_margin: float = Field(0.1, gt=0, le=1,
                                    description="Roll back when the new champion's feedback precision falls below "
                                                "the previous champion's by more than this (absolute).")
    decline_jump: float = Field(2.0, gt=1, le=100,
                                description="Roll back when the new champion declines more than this many times "
                                            "the previous champion's share (and 1 point more).")
    min_flagged: int = Field(30, ge=1, le=1_000_000,
                             description="Fed-back reviews and declines of each version needed to judge precision.")
    min_scored: int = Field(500, ge=1, le=100_000_000,
                            description="Transactions the new champion must have decided to judge its decline rate.")


class MLConfig(Section):
    registry_path: Path = Field(Path("models"), description="Directory of model versions.")
    active_version: str | None = Field(None, description="Version to serve (null: the registry's pointer).")
    num_threads: int = Field(2, ge=1, le=256, description="LightGBM threads (Ray workers default to 1).")
    policy: Literal["budget", "cost"] = Field(
        "budget", description="How training chooses the review threshold: a review budget, or least expected cost.",
        json_schema_extra=LIVE)
    review_rate: float = Field(
        0.01, gt=0, le=0.2, description="Share of all transactions the review queue takes (policy budget).",
        json_schema_extra=LIVE)
    decline_precision: float = Field(
        0.9, ge=0.5, le=1, json_schema_extra=LIVE,
        description="Decline outright where validation transactions at that score were fraud at least this often.")
    review_cost_inr: float = Field(
        50.0, ge=0, le=100_000, description="Cost of one manual review (policy cost; missed fraud costs its amount).",
        json_schema_extra=LIVE)
    guard: GuardConfig = Field(default_factory=GuardConfig, description="Guarded promotion: when `model guard` "
                               "rolls a newly promoted champion back.")


URL = r"^https?://[^\s/]+(/\S*)?$"


class TracingConfig(Section):
    exporter: Literal["none", "console", "otlp", "file"] = Field(
        "none", description="Where spans go: nowhere, stderr, an OTLP collector over HTTP, or JSON lines per "
                            "process in file_dir (read by `debug inspect trace`).")
    endpoint: str = Field("http://127.0.0.1:4318/v1/traces", pattern=URL,
                          description="OTLP/HTTP traces endpoint of the collector.")
    sampling_ratio: float = Field(1.0, ge=0, le=1, json_schema_extra=LIVE,
                                  description="Share of new traces recorded (parent-based: a request's sampled "
                                              "caller decides for it).")
    service_name: str = Field("synfinance", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                              description="Service name prefix; each component adds its own (-ingress, -scorer...).")
    file_dir: str = Field(".synfinance/traces", min_length=1, description="Directory of the file exporter.")


class MonitoringConfig(Section):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Least severe level logged.",
                                                                   json_schema_extra=LIVE)
    log_format: Literal["json", "console"] = Field(
        "json", description="Log line format; console lines only where stderr is a terminal (files always get JSON).")
    metrics_enabled: bool = Field(True, description="Record metrics (off: nothing is recorded, for a baseline).")
    access_log_ratio: float = Field(1.0, ge=0, le=1, description="Share of API requests that get an access log "
                                                                 "line (http.request); errors always do.",
                                    json_schema_extra=LIVE)
    pushgateway_url: str | None = Field(None, pattern=URL, description="Prometheus Pushgateway that batch jobs "
                                        "(generate, model train) push their metrics to when they end; unset: none.")
    prometheus_url: str = Field("http://127.0.0.1:9090", pattern=URL, description="The Prometheus that `monitor "
                                "snapshot` queries (`monitor up` starts one here).")
    tracing: TracingConfig = Field(default_factory=TracingConfig, description="OpenTelemetry traces.")


class ApiKey(Section):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Who holds the key.")
    key: SecretStr | None = Field(None, description="The key itself; hashed at load and then dropped.")
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 hex of the key.")
    scopes: tuple[Scope, ...] = Field(("read",), min_length=1, description="What the key may do.")

    @model_validator(mode="after")
    def _hash_plain_key(self) -> ApiKey:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError("give exactly one of key or key_sha256")
        if self.key is not None:
            digest = hashlib.sha256(self.key.get_secret_value().encode()).hexdigest()
            object.__setattr__(self, "key_sha256", digest)
            object.__setattr__(self, "key", None)
        return self


class RateLimit(Section):
    requests_per_s: float = Field(50.0, gt=0, le=1_000_000, description="Sustained requests per second.")
    burst: int = Field(100, ge=1, le=1_000_000, description="Requests allowed at once above the rate.")


class SecurityConfig(Section):
    api_keys: tuple[ApiKey, ...] = Field((), description="Accepted API keys with their scopes.",
                                         json_schema_extra=LIVE)
    rate_limit: RateLimit = Field(default_factory=RateLimit, json_schema_extra=LIVE,
                                  description="Limit for each key, shared by all ingress replicas.")
    rate_limits: dict[str, RateLimit] = Field(default_factory=dict, description="Per-key-name overrides.",
                                              json_schema_extra=LIVE)
    cors_origins: tuple[str, ...] = Field(
        (), description="Browser origins allowed to call the API (CORS); empty: no cross-origin access.",
        json_schema_extra=RESTART_ONLY,
    )


class RayConfig(Section):
    address: str | None = Field(
        None, description="Cluster address: null for a local Ray, 'auto', or ray://host:port.",
        json_schema_extra=RESTART_ONLY,
    )
    num_cpus: int | None = Field(
        None, ge=1, le=4096, description="CPUs of a local Ray.", json_schema_extra=RESTART_ONLY
    )
    object_store_mb: int | None = Field(
        None, ge=64, le=1_048_576, description="Object store size of a local Ray (null: Ray's default).",
        json_schema_extra=RESTART_ONLY,
    )
    namespace: str = Field("synfinance", min_length=1, description="Ray namespace the drivers work in.",
                           json_schema_extra=RESTART_ONLY)
    worker_cpus: float = Field(1.0, gt=0, le=256, description="CPUs each shard worker of the pipeline asks Ray for "
                               "(an autoscaling cluster adds nodes to fit them).", json_schema_extra=RESTART_ONLY)
    worker_resources: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)],
                           Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="Custom resources each shard worker asks for as well, e.g. "
        "{\"synfinance_shard\": 1} to place them only on nodes that offer it.", json_schema_extra=RESTART_ONLY)


class Settings(BaseSettings):
    """All of SynFinance's settings. Built by synfinance.settings.load_settings from its layers."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, env_prefix="SYNFINANCE_", env_nested_delimiter="__"
    )

    env: Literal["development", "staging", "production", "test"] = Field("development", description="Environment.")
    server: ServerConfig = Field(default_factory=ServerConfig, description="HTTP API.")
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="PostgreSQL.")
    generation: GenerationConfig = Field(default_factory=GenerationConfig, description="Data generation.")
    ml: MLConfig = Field(default_factory=MLConfig, description="Fraud model.")
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig, description="Logs.")
    security: SecurityConfig = Field(default_factory=SecurityConfig, description="API keys, limits, CORS.")
    ray: RayConfig = Field(default_factory=RayConfig, description="Ray cluster.")
    quality: QualityConfig = Field(default_factory=QualityConfig, description="Data-quality checks and gates.")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The layers (YAML, .env, environment, overrides) are merged by synfinance.settings.sources,
        # which remembers where each value came from for error messages; the model only validates.
        return (init_settings,)


SECTIONS = tuple(name for name, f in Settings.model_fields.items() if name != "env")


def marked_paths(marker: str, model: type[BaseModel] = Settings, prefix: tuple[str, ...] = ()
                 ) -> set[tuple[str, ...]]:
    """Key paths of fields whose json_schema_extra has `marker` (restart_only, live)."""
    paths: set[tuple[str, ...]] = set()
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get(marker):
            paths.add((*prefix, name))
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= marked_paths(marker, annotation, (*prefix, name))
    return paths


def restart_only_paths() -> set[tuple[str, ...]]:
    """Key paths of fields that only take effect at start-up."""
    return marked_paths("restart_only")


def live_paths() -> set[tuple[str, ...]]:
    """Key paths a running service applies in place (everything under a path counts as that path)."""
    return marked_paths("live")
