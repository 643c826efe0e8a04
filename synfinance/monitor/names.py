"""Which metric names a PromQL expression uses that SynFinance does not define: catalogue series
(synfinance_*: counters as _total, histograms as _bucket/_sum/_count) and recording rules (synfinance:*)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import yaml

from synfinance._bundled import resource_dir
from synfinance.observability.metrics import CATALOGUE

RECORDING_RULES = resource_dir("monitoring") / "prometheus" / "recording_rules.yml"

_NAME = re.compile(r"(?<![\w:])(synfinance[_:][A-Za-z0-9_:]+)")
EXPORTED = frozenset(name for metric in CATALOGUE for name in metric.exported)


def undefined(expr: str, recorded: Iterable[str]) -> list[str]:
    """The synfinance_* and synfinance:* names in expr that are neither exported by the catalogue nor recorded."""
    known = EXPORTED | frozenset(recorded)
    return sorted({name for name in _NAME.findall(expr) if name not in known})


def recorded() -> list[str]:
    """The series monitoring/prometheus/recording_rules.yml records."""
    groups = yaml.safe_load(RECORDING_RULES.read_text())["groups"]
    return [rule["record"] for group in groups for rule in group["rules"] if "record" in rule]
