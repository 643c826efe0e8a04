"""The pieces of monitoring that need no Prometheus: merging agents' pages, bounded labels, drift, durations."""

from __future__ import annotations

import click
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from serve.errors import field_label
from synfinance.cli.options import DURATION
from synfinance.model import drift
from synfinance.model.drift import MIN_SERVED, DriftMonitor, Reference
from synfinance.observability.metrics import from_ray_agents

AGENT = """# HELP ray_synfinance_http_requests_total HTTP requests answered.
# TYPE ray_synfinance_http_requests_total counter
ray_synfinance_http_requests_total{{WorkerId="{w}",otel_scope_name="ray",route="/v1/score",status="200"}} {n}
# HELP ray_tasks Ray's own.
# TYPE ray_tasks gauge
ray_tasks{{State="RUNNING"}} 3.0
"""


def test_agents_pages_merge_into_one_exposition_of_synfinance_series_only() -> None:
    text = from_ray_agents([AGENT.format(w="a", n=2.0), AGENT.format(w="b", n=5.0)]).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {"synfinance_http_requests"}  # Ray's own series left out, the prefix dropped
    samples = families["synfinance_http_requests"].samples
    assert sorted((s.labels["WorkerId"], s.value) for s in samples) == [("a", 2.0), ("b", 5.0)]
    assert all(not any(k.startswith("otel_") for k in s.labels) for s in samples)
    assert text.count("# TYPE synfinance_http_requests_total counter") == 1  # one family for both nodes


@pytest.mark.parametrize(("path", "label"), [
    ("$.transactions[3].amount_inr", "transactions[].amount_inr"),
    ("$.fraud_type", "fraud_type"),
    ("query.limit", "query.limit"),
    ("$", "body"),
    ("$.my_own_field", "other"),  # a client's invented name never becomes a label value
    ("$.transactions[0].x" + "y" * 50, "other"),
])
def test_a_rejected_field_becomes_a_bounded_label(path: str, label: str) -> None:
    assert field_label(path) == label


def test_psi_is_near_zero_for_the_training_distribution_and_large_for_a_shifted_one() -> None:
    rng = np.random.default_rng(3)
    train = np.column_stack([rng.normal(0, 1, 20_000), rng.exponential(1, 20_000)])
    train[rng.random(20_000) < 0.1, 1] = np.nan  # missing values have a bin of their own
    reference = Reference.of(train)
    same, shifted = DriftMonitor(reference), DriftMonitor(reference)
    assert same.psi() is None  # nothing served yet
    same.add(np.column_stack([rng.normal(0, 1, 5_000), rng.exponential(1, 5_000)]) * [1, 1])
    shifted.add(np.column_stack([rng.normal(1.0, 1, 5_000), np.full(5_000, np.nan)]))
    psi_same, psi_shifted = same.psi(), shifted.psi()
    assert psi_same is not None and psi_shifted is not None
    assert psi_same[0] < 0.02 and psi_shifted[0] > 0.2  # a one-sigma shift of the mean
    assert psi_shifted[1] > psi_same[1] > 0.05  # every value missing vs 10 % in training (same has none missing)
    assert Reference.from_json(reference.to_json()).expected.tolist() == reference.expected.tolist()


def test_no_psi_before_enough_is_served() -> None:
    monitor = DriftMonitor(Reference.of(np.arange(1000.0)))
    monitor.add(np.arange(MIN_SERVED - 1.0))
    assert monitor.psi() is None
    monitor.add(np.arange(1.0))
    assert monitor.psi() is not None


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172_800),
                                               ("30", 30), ("1.5h", 5400)])
def test_durations(text: str, seconds: float) -> None:
    assert DURATION.convert(text, None, None) == seconds


def test_a_bad_duration_says_what_is_expected() -> None:
    with pytest.raises(click.BadParameter, match="like 90s, 15m, 1h or 2d, got '1 week'"):
        DURATION.convert("1 week", None, None)


def test_bin_counts_are_searchsorteds_per_column_with_missing_values_last() -> None:
    """Values on an edge, repeated edges, NaNs, and more rows than one pass bins."""
    rng = np.random.default_rng(4)
    values = np.round(rng.normal(size=(drift.BIN_BLOCK_ROWS + 37, 5)), 1)
    values[rng.random(values.shape) < 0.05] = np.nan
    edges = np.sort(np.round(rng.normal(size=(5, drift.BINS - 1)), 1), axis=1)
    edges[2] = 0.0  # one column's edges all equal
    expected = np.zeros((5, drift.BINS + 1))
    for j in range(5):
        column = values[:, j]
        found = np.searchsorted(edges[j], column[~np.isnan(column)], side="right")
        expected[j, : drift.BINS] = np.bincount(found, minlength=drift.BINS)
        expected[j, drift.BINS] = np.isnan(column).sum()
    np.testing.assert_array_equal(drift.bin_counts(edges, values), expected)
    assert drift.bin_counts(edges, values[:0]).sum() == 0
