"""Every pattern class, found by importing each module of patterns/fraud and patterns/anomaly."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from synfinance.patterns import anomaly, fraud
from synfinance.patterns.base import REGISTRY, Pattern


def _import_all(package: ModuleType) -> None:
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


_import_all(fraud)
_import_all(anomaly)

FRAUD_NAMES = tuple(sorted(REGISTRY["fraud"]))
ANOMALY_NAMES = tuple(sorted(REGISTRY["anomaly"]))
NAMES = {"fraud": FRAUD_NAMES, "anomaly": ANOMALY_NAMES}


def pattern_class(kind: str, name: str) -> type[Pattern]:
    return REGISTRY[kind][name]


def type_shares(
    kind: str, enabled: tuple[str, ...] | None = None, weights: tuple[tuple[str, float], ...] | None = None
) -> dict[str, float]:
    """Share of the kind's rate per type, summing to 1 over the enabled types.

    weights replaces the classes' default shares for the types it names (relative weights).
    """
    names = NAMES[kind] if enabled is None else tuple(n for n in NAMES[kind] if n in enabled)
    given = dict(weights or ())
    raw = {n: given.get(n, REGISTRY[kind][n].share) for n in names}
    total = sum(raw.values())
    return {n: w / total for n, w in raw.items() if w > 0} if total else {}


def unknown_types(kind: str, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n not in REGISTRY[kind]]
