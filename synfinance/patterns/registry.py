"""Every pattern class, found by importing each module of patterns/fraud and patterns/anomaly."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from synfinance.errors import PatternError
from synfinance.patterns import anomaly, fraud
from synfinance.patterns.base import REGISTRY, Pattern
from synfinance.world.catalogue import NAMES, NETWORK_TYPES


def _import_all(package: ModuleType) -> None:
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def _check_catalogue() -> None:
    """Every type of the catalogue has exactly one class, and every class a type of the catalogue."""
    for kind, names in NAMES.items():
        missing, extra = set(names) - set(REGISTRY[kind]), set(REGISTRY[kind]) - set(names)
        if missing or extra:
            raise PatternError(f"{kind} patterns and synfinance/world/catalogue.py disagree: "
                               f"no class for {sorted(missing)}, not in the catalogue {sorted(extra)}")
    networked = sorted(n for n, cls in REGISTRY["fraud"].items() if cls.from_network)
    if networked != sorted(NETWORK_TYPES):
        raise PatternError(f"NETWORK_TYPES in synfinance/world/catalogue.py should be {networked}")


_import_all(fraud)
_import_all(anomaly)
_check_catalogue()


def pattern_class(kind: str, name: str) -> type[Pattern]:
    return REGISTRY[kind][name]
