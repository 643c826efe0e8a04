"""Drift against a baseline: each column's distribution (KS, PSI), category shares (chi-square) and per-type
rates (two-proportion z), shifted only when significant and above an effect-size floor (quality.compare)."""

from __future__ import annotations

from synfinance.quality.base import Found, Validator
from synfinance.quality.compare import compare
from synfinance.quality.data import Dataset


class DriftValidator(Validator):
    name = "drift"
    summary = "Distributions, category shares and per-type rates against the baseline (significance and effect)."
    needs = ("baseline",)

    def _check(self, data: Dataset, found: Found) -> None:
        assert data.baseline is not None  # `needs` guarantees it
        comparisons = compare(data, data.baseline["profile"])
        found.metric("comparisons", [c.to_json() for c in comparisons])
        shifted = [c for c in comparisons if c.shifted]
        found.metric("shifted", len(shifted))
        for c in shifted:
            found.violation("error", f"{c.name} shifted from the baseline: {c.test} {c.statistic:.3g} (p = "
                            f"{c.p_value:.2g}), effect {c.effect:.3f} >= {c.floor:g}"
                            + (f"; {c.detail}" if c.detail else ""),
                            "if the change is intended, write a new baseline (synfinance quality baseline)",
                            field=c.name.split(":")[0] if c.kind != "rate" else f"{c.name.split(':')[0]}_type")
