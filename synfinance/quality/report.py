"""QualityReport: the score, per-field metrics, violations with recommendations, gates, the regression
comparison and the trend against earlier runs; as JSON and as Markdown (the HTML page is quality.page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synfinance.quality.base import SEVERITIES, Finding, Violation
from synfinance.quality.gates import GateResult, blocked
from synfinance.quality.regression import Regression

TREND_RUNS = 10  # earlier runs shown in the trend


@dataclass
class QualityReport:
    run_id: str
    created_at: str
    dataset: str  # the directory checked, or how it was generated
    rows: int
    parameters: dict[str, Any]
    score: float
    findings: list[Finding]
    metrics: dict[str, Any]  # flat: what the gates read
    gates: list[GateResult]
    regression: Regression | None
    trend: list[dict[str, Any]] = field(default_factory=list)  # earlier runs, newest first
    charts: dict[str, Any] = field(default_factory=dict)  # the data of the page's charts

    @property
    def violations(self) -> list[Violation]:
        every = [v for f in self.findings for v in f.violations]
        return sorted(every, key=lambda v: SEVERITIES.index(v.severity))

    @property
    def passed(self) -> bool:
        return not blocked(self.gates) and (self.regression is None or self.regression.passed)

    def counts(self) -> dict[str, int]:
        return {s: sum(v.severity == s for v in self.violations) for s in SEVERITIES}

    def recommendations(self) -> list[str]:
        """Each distinct recommendation once, most severe first."""
        seen: dict[str, None] = {}
        for v in self.violations:
            seen.setdefault(f"{v.field or v.validator}: {v.recommendation}", None)
        return list(seen)

    def summary(self) -> dict[str, Any]:
        """What a history entry keeps of the run."""
        return {"run_id": self.run_id, "created_at": self.created_at, "dataset": self.dataset, "rows": self.rows,
                "score": self.score, "passed": self.passed, "violations": self.counts(),
                "gates_failed": [g.name for g in self.gates if g.status == "fail"],
                "regression_passed": None if self.regression is None else self.regression.passed}

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "parameters": self.parameters, "metrics": self.metrics,
                "recommendations": self.recommendations(), "gates": [g.to_json() for g in self.gates],
                "regression": None if self.regression is None else self.regression.to_json(),
                "validators": [f.to_json() for f in self.findings], "trend": self.trend, "charts": self.charts}

    def to_markdown(self) -> str:
        lines = [f"# Data quality: {self.dataset}", "",
                 f"Score **{self.score:.1f}** / 100 over {self.rows:,} transactions — "
                 f"{'passed' if self.passed else '**failed**'} (run {self.run_id}, {self.created_at}).", ""]
        if self.trend:
            earlier = ", ".join(f"{t['score']:.1f}" for t in self.trend[:TREND_RUNS])
            lines += [f"Earlier runs, newest first: {earlier}.", ""]
        lines += ["## Gates", "", "| gate | metric | value | bounds | blocking | status |", "|---|---|---|---|---|---|"]
        for g in self.gates:
            value = "—" if g.value is None else f"{g.value:.6g}"
            bounds = f"{'' if g.min is None else g.min:} … {'' if g.max is None else g.max}"
            lines.append(f"| {g.name} | `{g.metric}` | {value} | {bounds} | {'yes' if g.blocking else 'no'} | "
                         f"{g.status} |")
        if self.regression is not None:
            r = self.regression
            lines += ["", "## Regression against the baseline", "",
                      f"{'Passed' if r.passed else '**Failed**'}: "
                      + ", ".join(f"{n} {k}" for k, n in r.to_json()["compared"].items()) + " compared."]
            for c in r.comparisons:
                if c.shifted:
                    lines.append(f"- **{c.kind} {c.name}**: {c.test} {c.statistic:.4g}, effect {c.effect:.4g} "
                                 f">= {c.floor:g} {c.detail}")
        lines += ["", "## Validators", "", "| validator | violations | seconds | what it checks |", "|---|---|---|---|"]
        for f in self.findings:
            state = f"skipped ({f.skipped})" if f.skipped else str(len(f.violations))
            lines.append(f"| {f.validator} | {state} | {f.seconds:.3f} | {f.summary} |")
        lines += ["", "## Violations", ""]
        lines += [f"- **{v.severity}** [{v.validator}] {v.message} — {v.recommendation}"
                  + (f" (e.g. {', '.join(v.examples[:3])})" if v.examples else "") for v in self.violations]
        if not self.violations:
            lines.append("None.")
        return "\n".join(lines) + "\n"
