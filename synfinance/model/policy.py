"""The decision policy: approve, review or decline a fraud probability, with thresholds a fraud team can staff.

Both thresholds are chosen on the validation weeks (never the test weeks), by a documented rule:

- decline where the validation weeks say a transaction at that score is fraud with at least
  `decline_precision` probability: the lowest score whose calibrated fraud rate (an isotonic fit of the
  labels on the scores) reaches it, with at least MIN_DECLINES validation transactions above; none when no
  score does. Every declined transaction, not only their average, is that likely to be fraud;
- review, below that, by one of two rules:
  - `budget` (default): the `review_rate` share of all transactions with the highest probabilities under the
    decline threshold go to review: the review queue has the size the team can staff;
  - `cost`: the threshold that minimises expected cost on the validation weeks (missed fraud amount
    against a fixed cost per review), with the same decline rule above it.

    policy = choose(valid.y, valid_score, valid.amount_inr, review_rate=0.01, decline_precision=0.9)
    policy.decide(probabilities)      # array of "approve" / "review" / "decline"
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from synfinance.errors import ParameterError, Problem
from synfinance.model.threshold import Costs, best_threshold, cost_curve

DECISIONS = ("approve", "review", "decline")
MIN_DECLINES = 20  # validation rows a decline threshold must rest on, so one lucky row does not set it
Rule = Literal["budget", "cost"]
RULES = ("budget", "cost")


@dataclass(frozen=True)
class Policy:
    review_at: float  # probability at or above which a transaction is reviewed (or declined)
    decline_at: float | None  # at or above which it is declined; None: never declined outright
    rule: Rule
    review_rate: float  # the budget asked for (rule budget); what the cost rule gave, on validation
    decline_precision: float

    def codes(self, probability: np.ndarray) -> np.ndarray:
        """0 approve, 1 review, 2 decline, per probability."""
        code = (probability >= self.review_at).astype(np.int8)
        if self.decline_at is not None:
            code += (probability >= self.decline_at).astype(np.int8)
        return code

    def decide(self, probability: np.ndarray) -> np.ndarray:
        """approve / review / decline per probability (the same rule in every scoring path)."""
        return np.asarray(DECISIONS, dtype=object)[self.codes(probability)]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Policy:
        return cls(float(d["review_at"]), None if d.get("decline_at") is None else float(d["decline_at"]),
                   d["rule"], float(d["review_rate"]), float(d["decline_precision"]))


def check(rule: str, review_rate: float, decline_precision: float, review_cost_inr: float = 0.0) -> None:
    """ParameterError naming every bad policy setting at once."""
    problems = []
    if rule not in RULES:
        problems.append(Problem("policy", rule, f"one of {', '.join(RULES)}"))
    if not 0 < review_rate <= 0.2:
        problems.append(Problem("review_rate", review_rate, "a share of transactions above 0 and at most 0.2"))
    if not 0.5 <= decline_precision <= 1:
        problems.append(Problem("decline_precision", decline_precision, "a precision from 0.5 to 1"))
    if review_cost_inr < 0:
        problems.append(Problem("review_cost", review_cost_inr, "an INR cost of 0 or more"))
    if problems:
        raise ParameterError(problems)


def calibrated(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The fraud rate at each row's score: an isotonic (non-decreasing in score) least-squares fit of the
    labels, by pool-adjacent-violators over the rows in score order. Runs at training only (a loop over
    pools, not a serving path)."""
    order = np.argsort(score, kind="stable")
    means: list[float] = []
    sizes: list[int] = []
    for value in y[order].astype(np.float64).tolist():
        mean, size = value, 1
        while means and means[-1] > mean:  # a violation: pool with the block before
            size_before = sizes.pop()
            mean = (means.pop() * size_before + mean * size) / (size_before + size)
            size += size_before
        means.append(mean)
        sizes.append(size)
    fitted = np.empty(len(y))
    fitted[order] = np.repeat(means, sizes)
    return fitted


def decline_threshold(y: np.ndarray, score: np.ndarray, precision: float) -> float | None:
    """The lowest score whose calibrated fraud rate is at least `precision`, if at least MIN_DECLINES rows are at
    or above it; else None (no outright declines)."""
    if len(y) == 0:
        return None
    sure = calibrated(y, score) >= precision
    if not sure.any():
        return None
    threshold = float(score[sure].min())
    return threshold if int((score >= threshold).sum()) >= MIN_DECLINES else None


def choose(y: np.ndarray, score: np.ndarray, amount_inr: np.ndarray, rule: str = "budget",
           review_rate: float = 0.01, decline_precision: float = 0.9, costs: Costs | None = None) -> Policy:
    """Thresholds from the validation weeks' labels and scores (see the module docstring)."""
    costs = costs or Costs()
    check(rule, review_rate, decline_precision, costs.review_inr)
    decline_at = decline_threshold(y, score, decline_precision)
    if rule == "cost":
        review_at = best_threshold(cost_curve(y, score, amount_inr, costs))
        if decline_at is not None:
            review_at = min(review_at, decline_at)
        policy = Policy(review_at, decline_at, "cost", 0.0, decline_precision)
        return replace(policy, review_rate=float((policy.codes(score) == 1).mean()) if len(score) else 0.0)
    below = score if decline_at is None else score[score < decline_at]
    budget = int(round(review_rate * len(score)))
    if budget == 0 or len(below) == 0:
        review_at = decline_at if decline_at is not None else 1.0
    else:
        review_at = float(np.sort(below)[::-1][min(budget, len(below)) - 1])
    return Policy(review_at, decline_at, "budget", review_rate, decline_precision)


def type_names(fraud_type: np.ndarray) -> np.ndarray:
    """Each row's fraud type, "unknown" where a fraud label came without one (None)."""
    missing = np.frompyfunc(lambda v: v is None, 1, 1)(fraud_type).astype(bool)
    return np.where(missing, "unknown", fraud_type)


def outcomes(y: np.ndarray, score: np.ndarray, policy: Policy, fraud_type: np.ndarray) -> dict[str, Any]:
    """At the policy: review, decline and flagged rates, precision and recall of flagged, per-type recall, and
    the confusion of flagged against the truth."""
    code = policy.codes(score)
    flagged, positive = code > 0, y == 1
    n, frauds, tp = max(len(y), 1), int(positive.sum()), int((flagged & positive).sum())
    declined = code == 2
    per_type = {}
    named = type_names(fraud_type)
    for name in sorted({str(t) for t in named[positive]}):
        rows = positive & (named == name)
        per_type[name] = float(flagged[rows].mean())
    return {
        "confusion": {"tp": tp, "fp": int((flagged & ~positive).sum()), "fn": frauds - tp,
                      "tn": int((~flagged & ~positive).sum())},
        "review_rate": float((code == 1).mean()) if len(y) else 0.0,
        "decline_rate": float(declined.mean()) if len(y) else 0.0,
        "flagged_rate": float(flagged.sum() / n),
        "precision": tp / int(flagged.sum()) if flagged.any() else 0.0,
        "recall": tp / frauds if frauds else 0.0,
        "decline_precision": float((declined & positive).sum() / declined.sum()) if declined.any() else 0.0,
        "per_type_recall": per_type,
    }
