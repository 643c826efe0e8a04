"""The regression comparison: distributions (the drift validator's), model performance, latency and memory
against a baseline. Each check states its test and its effect-size floor; any shifted one fails the run.

- model: PR-AUC and recall at the policy may not fall by 0.05 or more *and* by more than three standard
  errors of a proportion over the test weeks' frauds;
- latency: `bench api` /v1/score p95 and p99 may not grow by half *and* by 5 ms or more;
- memory: any benchmark's peak RSS may not grow by a quarter *and* by 100 MB or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from synfinance.quality.compare import Comparison

MODEL_DROP = 0.05
MODEL_SE = 3.0
LATENCY_GROWTH, LATENCY_MS = 1.5, 5.0
MEMORY_GROWTH, MEMORY_MB = 1.25, 100.0
LATENCY_KEYS = ("score_p95_ms", "score_p99_ms")


@dataclass(frozen=True)
class Regression:
    comparisons: list[Comparison]

    @property
    def passed(self) -> bool:
        return not any(c.shifted for c in self.comparisons)

    def to_json(self) -> dict[str, Any]:
        kinds = sorted({c.kind for c in self.comparisons})
        return {"passed": self.passed, "compared": {k: sum(c.kind == k for c in self.comparisons) for k in kinds},
                "failed": [c.to_json() for c in self.comparisons if c.shifted],
                "comparisons": [c.to_json() for c in self.comparisons]}


def _model(now: dict[str, Any], base: dict[str, Any]) -> list[Comparison]:
    out = []
    frauds = max(int(now.get("frauds") or base.get("frauds") or 1), 1)
    for key in ("pr_auc", "recall"):
        if key not in now or key not in base:
            continue
        drop = float(base[key]) - float(now[key])
        se = math.sqrt(max(float(base[key]) * (1 - float(base[key])), 1e-12) / frauds)
        out.append(Comparison("model", key, "drop vs 3 SE", drop / se, None, drop, MODEL_DROP,
                              drop >= MODEL_DROP and drop > MODEL_SE * se,
                              f"{now[key]:.4f} against {base[key]:.4f} "
                              f"({now.get('version')} vs {base.get('version')})"))
    return out


def _grew(kind: str, name: str, now: float, base: float, growth: float, floor: float, unit: str) -> Comparison:
    ratio = now / base if base > 0 else math.inf
    return Comparison(kind, name, f"x{growth:g} and +{floor:g} {unit}", ratio, None, now - base, floor,
                      ratio >= growth and now - base >= floor, f"{now:g} against {base:g} {unit}")


def _comparable(now: dict[str, Any], base: dict[str, Any]) -> bool:
    """Two runs of a benchmark measure the same thing only at the same size."""
    return now.get("count") == base.get("count")


def _bench(now: dict[str, Any], base: dict[str, Any]) -> list[Comparison]:
    """Latency and memory of the benchmarks both sides ran at the same size (another size is another measure)."""
    now = {kind: figures for kind, figures in now.items() if kind in base and _comparable(figures, base[kind])}
    out = []
    for key in LATENCY_KEYS:
        if key in now.get("api", {}) and key in base.get("api", {}):
            out.append(_grew("latency", f"api.{key}", float(now["api"][key]), float(base["api"][key]),
                             LATENCY_GROWTH, LATENCY_MS, "ms"))
    for kind in sorted(set(now) & set(base)):
        if "peak_rss_mb" in now[kind] and "peak_rss_mb" in base[kind]:
            out.append(_grew("memory", f"{kind}.peak_rss_mb", float(now[kind]["peak_rss_mb"]),
                             float(base[kind]["peak_rss_mb"]), MEMORY_GROWTH, MEMORY_MB, "MB"))
    return out


def regress(distributions: list[Comparison], model: dict[str, Any] | None, bench: dict[str, Any],
            baseline: dict[str, Any]) -> Regression:
    """distributions: the drift validator's comparisons; model and bench: this run's figures."""
    comparisons = list(distributions)
    if model and baseline.get("model"):
        comparisons += _model(model, baseline["model"])
    comparisons += _bench(bench, baseline.get("bench") or {})
    return Regression(comparisons)
