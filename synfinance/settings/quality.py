"""Settings of the data-quality checks: tolerances of the validators, the gates, where history is kept."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Gate(_Section):
    """A threshold on one metric of a quality report: passes when min <= value <= max (either may be left out)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$", description="The gate's name.")
    metric: str = Field(min_length=1, description="A key of the report's metrics (synfinance quality run --json "
                        "lists them under 'metrics').")
    min: float | None = Field(None, description="Smallest value that passes (null: no lower bound).")
    max: float | None = Field(None, description="Largest value that passes (null: no upper bound).")
    blocking: bool = Field(True, description="A failed blocking gate fails the run (exit 1); others warn.")
    description: str = Field("", description="Why the gate exists.")

    @model_validator(mode="after")
    def _bounded(self) -> Gate:
        if self.min is None and self.max is None:
            raise ValueError(f"gate {self.name!r}: give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"gate {self.name!r}: min {self.min} is above max {self.max}")
        return self


class AllowedPair(_Section):
    """Two features allowed to correlate above the limit, and why."""

    a: str = Field(min_length=1, description="A feature name.")
    b: str = Field(min_length=1, description="Another feature name.")
    reason: str = Field(min_length=1, description="Why the pair is kept although it is correlated.")


def _gate(name: str, metric: str, low: float | None, high: float | None, description: str) -> Gate:
    return Gate(name=name, metric=metric, min=low, max=high, description=description)


DEFAULT_GATES: tuple[Gate, ...] = (
    _gate("missing-values", "missing_share", None, 0.01, "Under 1 % of required values empty."),
    _gate("fraud-rate", "fraud_rate", None, 0.2, "Fraud at most 20 % of rows: from published prevalence to training "
          "oversampling (the business validator checks the rate asked for)."),
    _gate("anomaly-rate", "anomaly_rate", 0.03, 0.15, "Anomalies between 3 % and 15 % of rows."),
    _gate("feature-variance", "min_feature_variance", 0.1, None, "Every feature varies (variance > 0.1 after "
          "scaling; see docs/quality.md)."),
    _gate("feature-correlation", "max_feature_correlation", None, 0.9, "No two features (outside the allow-list) "
          "with |r| > 0.9."),
    _gate("model-pr-auc", "model_pr_auc", 0.5, None, "The served model's PR-AUC on its test weeks."),
    # Recall at the default policy is capped by its review budget (1 % reviewed, ~1.3 % flagged, 2 % fraud: at most
    # ~0.65). Measured (docs/quality.md): 0.54 on the default 1M, 0.52-0.60 over three seeds at 200k, 0.45 at
    # `hard`; 0.4 leaves the spread between seeds and difficulties and still fails a model that catches under 2 in 5.
    _gate("model-recall", "model_recall", 0.4, None, "The served model's recall at its decision policy."),
    _gate("review-rate", "model_review_rate", None, 0.05, "The decision policy sends at most 5 % to review."),
    _gate("api-p95", "api_p95_ms", None, 100.0, "/v1/score p95 of the latest `bench api` under 100 ms."),
    _gate("quality-score", "score", 80.0, None, "The quality score is at least 80."),
    _gate("no-critical", "violations_critical", None, 0.0, "No critical violation."),
)


def _pair(a: str, b: str, reason: str) -> AllowedPair:
    return AllowedPair(a=a, b=b, reason=reason)


# Measured on the default 1M dataset and on other seeds and seasons (docs/quality.md): pairs at |r| 0.89-0.99 that
# are kept, each for its reason; every other pair stays under 0.875.
DEFAULT_ALLOWED: tuple[AllowedPair, ...] = (
    _pair("device_customers_shared", "shared_device_x_new_device", "the interaction is the shared count on a device "
          "new to the customer; the two part where a shared device is already known (a household's phone)"),
    _pair("txn_count_7d", "recent_devs_7d", "deviations are counted among the week's transactions; the model reads "
          "their ratio, which neither gives alone"),
    _pair("txn_count_24h", "recent_devs_24h", "the same reading over the day instead of the week"),
    _pair("amount_log_z_abs", "amount_x_hour_dev", "the interaction is the amount's deviation weighted by the hour's; "
          "they part on payments at unusual hours, which is the signal"),
    _pair("mode_rarity", "category_x_mode_dev", "the interaction weighs the mode's rarity by the category's: they part "
          "on unusual categories"),
    _pair("distance_from_home_km", "location_dev_km", "most customers' usual place is home; the two part for "
          "travellers and commuters, which is the signal"),
    _pair("merchant_reputation", "merchant_velocity_x_low_reputation", "the interaction is built on (1 - reputation); "
          "it parts from it when a merchant's velocity is unusual"),
)


class DriftConfig(_Section):
    alpha: float = Field(0.001, gt=0, lt=1, description="Significance level of the KS, chi-square and proportion "
                         "tests.")
    psi_floor: float = Field(0.1, ge=0, le=10, description="Smallest PSI (over the baseline's deciles) that counts "
                             "as a shift of a numeric column.")
    share_floor: float = Field(0.1, ge=0, le=1, description="Smallest total-variation distance between category "
                               "shares that counts as a shift.")
    rate_floor: float = Field(0.25, ge=0, le=10, description="Smallest relative change of a per-type rate that "
                              "counts as a shift.")


class QualityConfig(_Section):
    sample_rows: int = Field(200_000, ge=1_000, le=100_000_000, description="Rows in the distribution sample "
                             "(drift, correlation, outliers); counts and rates use every row.")
    rate_tolerance: float = Field(0.10, gt=0, le=1, description="Largest relative gap between the requested and "
                                  "the realised fraud or anomaly rate (or 4 binomial standard errors, if larger: "
                                  "a rate of a few per million on small data).")
    share_tolerance: float = Field(0.25, gt=0, le=1, description="Largest relative gap between a type's requested "
                                   "and realised share of its kind (or 4 binomial standard errors, if larger).")
    decline_rate_min: float = Field(0.005, ge=0, le=1, description="Fewest declines expected, as a share.")
    decline_rate_max: float = Field(0.08, ge=0, le=1, description="Most declines expected, as a share.")
    festival_lift_min: float = Field(1.05, ge=0, le=10, description="Least ratio of rows per festival day to rows "
                                     "per other day.")
    outlier_z: float = Field(6.0, gt=0, le=100, description="Robust z-score of log amount within its category "
                             "above which a value is an outlier.")
    outlier_share_max: float = Field(0.005, ge=0, le=1, description="Largest share of outliers.")
    night_share_max: float = Field(0.10, ge=0, le=1, description="Largest share of rows between 00:00 and 05:59 IST.")
    correlation_max: float = Field(0.9, gt=0, le=1, description="Largest |r| between two features.")
    correlation_allow: tuple[AllowedPair, ...] = Field(DEFAULT_ALLOWED, description="Feature pairs allowed "
                                                       "above the limit, each with its reason.")
    variance_min: float = Field(0.1, ge=0, description="Smallest variance of a dense feature after robust scaling.")
    sparse_share_min: float = Field(0.001, ge=0, le=1, description="Smallest share of rows where a sparse feature "
                                    "(one value in the middle half of the rows) leaves that value.")
    parity_rows: int = Field(200, ge=1, le=100_000, description="Transactions replayed online for the parity check.")
    parity_tolerance: float = Field(1e-9, ge=0, le=1, description="Largest online-offline feature difference.")
    drift: DriftConfig = Field(default_factory=DriftConfig, description="Comparison with a baseline.")
    gates: tuple[Gate, ...] = Field(DEFAULT_GATES, description="The gates a quality run applies.")
    gates_path: Path | None = Field(None, description="A YAML file of more gates (a list of gate objects).")
    history_path: Path = Field(Path(".synfinance/quality/history.jsonl"), description="Where quality runs are kept "
                               "when the database is off.")
    bench_dir: Path = Field(Path(".synfinance/bench"), description="Where `synfinance bench` keeps each benchmark's "
                            "latest JSON (the gates and baselines read it).")
