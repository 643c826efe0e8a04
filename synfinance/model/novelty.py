"""How a model trained before a campaign fares after it starts: recall per fraud type, new types apart.

    result = before_and_after(load_labelled(dataset), cut_us, seed=7, num_threads=2)
    result.recall["collect_request"], result.known_recall, result.new_types

The model is trained and its policy chosen (PolicyRule, the default budget rule unless given) on the rows before
the cut only: the earliest 80 % of them train, the last 20 % validate (early stopping and the policy). Every row
from the cut on is scored at that policy; a type is new when no row before the cut carried it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synfinance.errors import ModelError
from synfinance.model.data import Labelled, time_split
from synfinance.model.fitting import PolicyRule, predict
from synfinance.model.policy import outcomes, type_names
from synfinance.model.train import train

VALID_SHARE = 0.2  # of the rows before the cut: the weeks that stop training and choose the policy


@dataclass(frozen=True)
class Novelty:
    recall: dict[str, float]  # per fraud type, on the rows from the cut on
    rows: dict[str, int]  # fraud rows per type from the cut on
    new_types: tuple[str, ...]  # types with no row before the cut
    known_recall: float  # recall over the fraud rows of the types seen before the cut
    review_at: float
    trained_rows: int

    def to_json(self) -> dict[str, Any]:
        return {"recall": self.recall, "rows": self.rows, "new_types": list(self.new_types),
                "known_recall": self.known_recall, "review_at": self.review_at, "trained_rows": self.trained_rows}


def before_and_after(data: Labelled, cut_us: int, seed: int, num_threads: int,
                     rule: PolicyRule | None = None) -> Novelty:
    """Train before cut_us, score from it on (see the module)."""
    before, after = data.rows(data.ts < cut_us), data.rows(data.ts >= cut_us)
    if int(before.y.sum()) < 50 or not len(after):
        raise ModelError(f"the cut leaves {int(before.y.sum())} fraud rows before it and {len(after)} rows after: "
                         "at least 50 fraud rows before and some rows after are needed")
    split = time_split(before.ts, valid_share=VALID_SHARE, test_share=0.0)
    trained = train(before, split, seed, num_threads)
    valid = before.rows(split.valid)
    policy = (rule or PolicyRule()).choose(valid.y, predict(trained, valid.x), valid.amount_inr)
    score = predict(trained, after.x)
    at_policy = outcomes(after.y, score, policy, after.fraud_type)
    named_before, named_after = type_names(before.fraud_type), type_names(after.fraud_type)
    seen = {str(t) for t in named_before[before.y == 1]}
    positive = after.y == 1
    known = positive & np.isin(named_after.astype(str), sorted(seen))
    flagged = policy.codes(score) > 0
    types = sorted(at_policy["per_type_recall"])  # named as outcomes names them (a typeless label: unknown)
    return Novelty(
        recall=at_policy["per_type_recall"],
        rows={t: int((named_after[positive] == t).sum()) for t in types},
        new_types=tuple(t for t in types if t not in seen),
        known_recall=float(flagged[known].mean()) if known.any() else 0.0,
        review_at=policy.review_at, trained_rows=int(split.train.sum()),
    )
