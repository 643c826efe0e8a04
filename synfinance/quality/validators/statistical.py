"""Statistics: outliers of amount within a category (robust z-score), category price levels in the order the
world gives them (Spearman's rank correlation), and an hour-of-day profile that is daily life, not uniform."""

from __future__ import annotations

import numpy as np

from synfinance.observability.data import MAD_SCALE
from synfinance.population.categories import CATEGORIES
from synfinance.quality.base import Found, Validator
from synfinance.quality.data import Dataset

NIGHT_HOURS = 6  # 00:00-05:59 IST
MIN_RANK_CORRELATION = 0.7  # categories' median tickets against the world's price levels


def group_medians(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Median of values per group 0..n-1 (NaN for an empty group), by one sort."""
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    starts = np.searchsorted(g, np.arange(n))
    ends = np.searchsorted(g, np.arange(n), side="right")
    counts = ends - starts
    lo = v[np.minimum(starts + (counts - 1) // 2, len(v) - 1)]
    hi = v[np.minimum(starts + counts // 2, len(v) - 1)]
    return np.where(counts > 0, (lo + hi) / 2, np.nan)


class StatisticalValidator(Validator):
    name = "statistical"
    summary = "Robust z-score outliers of amount per category; category price order; hour-of-day profile."

    def _check(self, data: Dataset, found: Found) -> None:
        names = data.transactions.column_names
        if "amount_inr" in names and "category" in names:
            self._amounts(data, found)
        if "local_hour" in names:
            self._hours(data, found)

    def _amounts(self, data: Dataset, found: Found) -> None:
        sample = data.sample()
        category, values = data.codes("category")
        group = category[sample]
        log_amount = np.log(np.maximum(data.sampled("amount_inr"), 0.01))
        known = group >= 0
        group, log_amount = group[known], log_amount[known]
        n = len(values)
        median = group_medians(log_amount, group, n)
        deviation = np.abs(log_amount - median[group])
        mad = group_medians(deviation, group, n) * MAD_SCALE
        z = np.where(mad[group] > 0, deviation / np.where(mad[group] > 0, mad[group], 1), 0.0)
        outliers = z > data.config.outlier_z
        share = float(outliers.mean()) if len(outliers) else 0.0
        found.metric("amount_outlier_share", round(share, 6))
        found.metric("amount_median_by_category", {str(values[i]): round(float(np.exp(median[i])), 2)
                                                   for i in range(n) if not np.isnan(median[i])})
        if share > data.config.outlier_share_max:
            found.violation("warning", f"{share:.2%} of amounts are more than {data.config.outlier_z:g} robust "
                            "standard deviations from their category's median (log scale)", f"at most "
                            f"{data.config.outlier_share_max:.2%}; check amount generation and the amount patterns",
                            field="amount_inr", rows=sample[known][outliers])
        world = {c.name: c.median_inr for c in CATEGORIES}
        pairs = [(world[str(values[i])], median[i]) for i in range(n)
                 if str(values[i]) in world and not np.isnan(median[i])]
        if len(pairs) >= 5:
            from scipy import stats  # imported when it runs: 1.1 s that every `synfinance` command paid

            rho = float(stats.spearmanr(*zip(*pairs, strict=True)).statistic)
            found.metric("category_price_rank_correlation", round(rho, 4))
            if rho < MIN_RANK_CORRELATION:
                found.violation("warning", f"categories' median amounts rank against their price levels with "
                                f"Spearman {rho:.2f}", f"at least {MIN_RANK_CORRELATION}: jewellery costs more than "
                                "groceries", field="amount_inr")

    def _hours(self, data: Dataset, found: Found) -> None:
        hours = np.bincount(np.clip(data.column("local_hour").astype(np.int64), 0, 23), minlength=24)[:24]
        found.metric("hour_profile", [int(h) for h in hours])
        total = max(int(hours.sum()), 1)
        night = float(hours[:NIGHT_HOURS].sum() / total)
        found.metric("night_share", round(night, 6))
        from scipy import stats  # as above

        flat = stats.chisquare(hours).pvalue if total > 24 * 5 else 1.0
        if night > data.config.night_share_max:
            found.violation("warning", f"{night:.1%} of payments are between 00:00 and 05:59 IST",
                            f"at most {data.config.night_share_max:.0%}: people sleep", field="local_hour")
        if total > 24 * 5 and flat > data.config.drift.alpha:
            found.violation("warning", f"the hour-of-day profile cannot be told from uniform (chi-square p = "
                            f"{flat:.3g})", "payments follow daily life: mornings, lunch, evenings",
                            field="local_hour")
