"""The quality score, 0-100: 100 less a deduction per violation by severity, at most 40 per validator.

    score = max(0, 100 - sum over validators of min(40, sum of its violations' weights))
    weights: critical 40, error 10, warning 2, info 0

One critical violation costs as much as a validator can; one broken validator cannot hide the rest (a dataset
with every check failing scores 0, one with a single broken rule 60 to 90).
"""

from __future__ import annotations

from synfinance.quality.base import Finding

WEIGHTS = {"critical": 40.0, "error": 10.0, "warning": 2.0, "info": 0.0}
PER_VALIDATOR_CAP = 40.0


def quality_score(findings: list[Finding]) -> float:
    deduction = sum(min(PER_VALIDATOR_CAP, sum(WEIGHTS[v.severity] for v in f.violations)) for f in findings)
    return round(max(0.0, 100.0 - deduction), 1)
