"""The calibration table (config/calibration.yaml): published figures with their sources, and the model fitted to them.

Loaded and validated once per process; a broken table is a ConfigError naming every field that is wrong.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from synfinance._bundled import resource_dir
from synfinance.errors import ConfigError, Problem
from synfinance.population import payments as pay

MEASURES = ("mode_share", "p2m_share", "average_ticket", "share_at_most", "share_above", "peak_hour", "month_start",
            "festival_lift", "category_share", "fraud_per_million")
BAND_MODES = ("UPI", "Credit Card", "Debit Card", "Net Banking", "Wallet")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    publisher: str = Field(min_length=1)
    title: str = Field(min_length=1)
    date: dt.date
    url: str | None = None


class Figure(_Strict):
    """One published figure, how to measure it on a dataset, and the band a dataset must fall in."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    what: str = Field(min_length=1)
    measure: Literal[MEASURES]  # type: ignore[valid-type]
    published: float
    band: tuple[float, float]
    tolerance: tuple[float, float]
    period: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    note: str = ""
    modes: tuple[str, ...] = ()
    kind: Literal["all", "p2m", "p2p"] = "all"
    inr: float | None = None
    of: Literal["count", "value"] = "count"
    festival: str | None = None
    categories: tuple[str, ...] = ()
    prevalence: bool = False  # judged only at published prevalence

    @model_validator(mode="after")
    def _consistent(self) -> Figure:
        for name, (lo, hi) in (("band", self.band), ("tolerance", self.tolerance)):
            if lo > hi:
                raise ValueError(f"{name}: {lo} is above {hi}")
        unknown = sorted(set(self.modes) - set(pay.MODES))
        if unknown:
            raise ValueError(f"modes: {', '.join(unknown)} (expected names from {', '.join(pay.MODES)})")
        return self


class P2P(_Strict):
    median_inr: float = Field(gt=0)
    sigma: float = Field(gt=0)
    max_inr: float = Field(gt=0)
    modes: dict[Literal[BAND_MODES], float]  # type: ignore[valid-type]
    month_start_lift: float = Field(ge=1)
    month_start_amount: float = Field(ge=1)
    festival_lift: float = Field(ge=1)


class P2M(_Strict):
    amount_scale: float = Field(gt=0)
    month_start_amount: float = Field(ge=1)


class Model(_Strict):
    published_fraud_rate: float = Field(gt=0, le=0.2)
    salary_day_lift: tuple[float, ...] = Field(min_length=1, max_length=10)
    festival_volume_scale: float = Field(ge=0, le=1)
    cash_share: float = Field(ge=0, lt=1)
    p2p_share: float = Field(ge=0, lt=1)
    p2p: P2P
    p2m: P2M
    band_upper_inr: tuple[float, ...] = Field(min_length=1)
    in_person_modes: tuple[tuple[float, ...], ...]
    online_modes: tuple[tuple[float, ...], ...]
    habit: float = Field(ge=1)

    @model_validator(mode="after")
    def _shapes(self) -> Model:
        bands = len(self.band_upper_inr) + 1
        for name in ("in_person_modes", "online_modes"):
            rows = getattr(self, name)
            if len(rows) != bands or any(len(r) != len(BAND_MODES) or sum(r) <= 0 for r in rows):
                raise ValueError(f"{name}: {bands} rows (one per amount band) of {len(BAND_MODES)} weights "
                                 f"({', '.join(BAND_MODES)}), each row summing above 0")
        return self


class Calibration(_Strict):
    sources: dict[str, Source]
    figures: tuple[Figure, ...]
    model: Model

    @model_validator(mode="after")
    def _cited(self) -> Calibration:
        for f in self.figures:
            missing = sorted(set(f.sources) - set(self.sources))
            if missing:
                raise ValueError(f"figure {f.id}: sources {', '.join(missing)} are not under 'sources'")
        return self

    def mode_weights(self, online: bool) -> np.ndarray:
        """(bands, MODES) P2M mode weights for a channel, rows summing to 1, columns in payments.MODES order."""
        rows = np.array(self.model.online_modes if online else self.model.in_person_modes, dtype=float)
        out = np.zeros((len(rows), len(pay.MODES)))
        out[:, [pay.MODES.index(m) for m in BAND_MODES]] = rows
        return out / out.sum(axis=1, keepdims=True)

    def p2p_modes(self) -> np.ndarray:
        """P2P transfer mode weights over payments.MODES."""
        out = np.zeros(len(pay.MODES))
        for mode, weight in self.model.p2p.modes.items():
            out[pay.MODES.index(mode)] = weight
        return out / out.sum()


def load(path: Path) -> Calibration:
    """The table at path, validated; ConfigError naming each problem."""
    try:
        raw = yaml.safe_load(path.read_text())
        return Calibration.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([Problem(str(path), None, f"a readable YAML file ({exc})")]) from exc
    except ValidationError as exc:
        raise ConfigError([Problem(f"{path}: {'.'.join(str(p) for p in e['loc'])}", e.get("input"), e["msg"])
                           for e in exc.errors()]) from exc


@functools.cache
def calibration() -> Calibration:
    """The bundled table, read once per process."""
    return load(resource_dir("config") / "calibration.yaml")
