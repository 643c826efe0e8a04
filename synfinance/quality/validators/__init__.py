"""Every validator class, found by importing each module of this folder (adding a check is adding a file)."""

from __future__ import annotations

import importlib
import pkgutil

from synfinance.quality.base import REGISTRY, Validator

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def validators(names: tuple[str, ...] | None = None) -> list[Validator]:
    """One instance of each registered validator (or of those named), in registration order."""
    unknown = sorted(set(names or ()) - set(REGISTRY))
    if unknown:
        raise KeyError(f"no validator named {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return [cls() for name, cls in REGISTRY.items() if names is None or name in names]
