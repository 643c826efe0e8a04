"""Hold a dataset against the calibration table: each figure, ours against published, inside or outside tolerance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from synfinance.calibration.measure import Rows, measure
from synfinance.population.calibration import Calibration, Figure, calibration

MIN_EXPECTED_CASES = 30  # a prevalence figure is judged only where this many fraud rows are expected
OVERSAMPLED_ABOVE = 1.5  # a fraud rate above this many times the published one is oversampled, not judged


def declared_fraud_rate(parameters: dict[str, Any]) -> float | None:
    """The fraud rate a dataset was generated at (its manifest's parameters); None with patterns off or unknown."""
    rate = parameters.get("fraud_rate") if parameters.get("patterns", True) else None
    return float(rate) if rate is not None else None


@dataclass(frozen=True)
class Result:
    figure: Figure
    ours: float | None
    rows: int
    status: str  # inside, outside, or "not judged: <why>"

    def to_json(self, table: Calibration) -> dict[str, Any]:
        f = self.figure
        return {
            "id": f.id, "what": f.what, "ours": self.ours, "published": f.published, "band": list(f.band),
            "tolerance": list(f.tolerance), "status": self.status, "rows": self.rows, "period": f.period,
            "sources": [{"id": s, **table.sources[s].model_dump(mode="json")} for s in f.sources],
        }


def compare(transactions: pa.Table, fraud_rate: float | None = None,
            table: Calibration | None = None) -> list[Result]:
    """Every figure of the table measured on the transactions. fraud_rate: the rate the dataset was generated at
    (its manifest's), which says whether prevalence figures can be judged."""
    table = table or calibration()
    rows = Rows.of(transactions)
    out = []
    for f in table.figures:
        ours, n = measure(f, rows)
        out.append(Result(f, ours, n, _status(f, ours, n, fraud_rate, table)))
    return out


def _status(f: Figure, ours: float | None, n: int, fraud_rate: float | None, table: Calibration) -> str:
    if ours is None:
        return "not judged: no rows to measure"
    if f.prevalence:
        published = table.model.published_fraud_rate
        if fraud_rate is not None and fraud_rate > OVERSAMPLED_ABOVE * published:
            return f"not judged: fraud oversampled ×{fraud_rate / published:,.0f}"
        if n * f.published / 1e6 < MIN_EXPECTED_CASES:
            return f"not judged: {n:,} rows expect under {MIN_EXPECTED_CASES} fraud rows"
    lo, hi = f.tolerance
    return "inside" if lo <= ours <= hi else "outside"


def outside(results: list[Result]) -> list[Result]:
    return [r for r in results if r.status == "outside"]


def fmt(f: Figure, value: float | None) -> str:
    """A figure's value the way it is published: a share in %, a ticket in ₹, a ratio, an hour, a count."""
    if value is None:
        return "—"
    if f.measure in ("mode_share", "p2m_share", "share_at_most", "share_above", "category_share"):
        return f"{value:.1%}"
    if f.measure == "average_ticket":
        return f"₹{value:,.0f}"
    if f.measure in ("month_start", "festival_lift"):
        return f"{value:.2f}×"
    if f.measure == "peak_hour":
        return f"{value:02.0f}:00"
    return f"{value:,.1f}"


def band(f: Figure, pair: tuple[float, float]) -> str:
    lo, hi = pair
    return fmt(f, lo) if lo == hi else f"{fmt(f, lo)}–{fmt(f, hi)}"


def markdown(results: list[Result], table: Calibration | None = None) -> list[str]:
    """The comparison as a Markdown table with a source line per figure."""
    table = table or calibration()
    lines = ["| figure | ours | published | tolerance | period | sources | |", "|---|---|---|---|---|---|---|"]
    for r in results:
        f = r.figure
        sources = "; ".join(f"{table.sources[s].publisher}, *{table.sources[s].title}*, {table.sources[s].date}"
                            for s in f.sources)
        mark = {"inside": "✓", "outside": "✗"}.get(r.status, r.status)
        lines.append(f"| {f.what} | {fmt(f, r.ours)} | {fmt(f, f.published)} ({band(f, f.band)}) | "
                     f"{band(f, f.tolerance)} | {f.period} | {sources} | {mark} |")
    return lines
