"""Adding a pattern is adding a class; a pattern that breaks the frame's invariants is stopped."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow.compute as pc
import pytest

import synfinance
from synfinance.errors import PatternError
from synfinance.generation import GenerationParams, GenerationPlan
from synfinance.generation.transactions import draw_frame
from synfinance.patterns.base import REGISTRY, Injection, Pattern
from synfinance.patterns.context import PatternContext
from synfinance.patterns.evidence import evidence
from synfinance.sampling import rng_for
from synfinance.world.catalogue import FRAUD_NAMES, HELD_OUT, type_shares


@pytest.fixture
def scratch_kind() -> Iterator[None]:
    """Patterns defined by a test register for the test only."""
    before = {kind: dict(names) for kind, names in REGISTRY.items()}
    yield
    for kind in REGISTRY:
        REGISTRY[kind].clear()
        REGISTRY[kind].update(before[kind])


def test_defining_a_class_registers_it_and_names_are_unique(scratch_kind: None) -> None:
    class Skimming(Pattern):
        kind = "fraud"
        name = "test_skimming"
        summary = signals = "test"
        share = 0.01
        rows_per_case = 1.0

        def _apply(self, frame, ctx, budget_rows):  # type: ignore[no-untyped-def]
            return None

    assert REGISTRY["fraud"]["test_skimming"] is Skimming
    with pytest.raises(TypeError, match="two fraud patterns are named 'test_skimming'"):
        type("Again", (Skimming,), {"name": "test_skimming"})


def _frame_and_ctx() -> tuple[object, PatternContext]:
    plan = GenerationPlan(GenerationParams(count=5_000, seed=1, customers=100, merchants=400))
    frame = draw_frame(plan, 0, rng_for(1, 99))
    return frame, PatternContext(plan, 0, frame, rng_for(1, 98))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rows", "severity", "confidence", "message"),
    [
        pytest.param([3, 3], [0, 0], [0.5, 0.5], "labelled twice", id="duplicate-row"),
        pytest.param([10**9], [0], [0.5], "outside the frame", id="out-of-range"),
        pytest.param([1], [7], [0.5], "severity code out of range", id="bad-severity"),
        pytest.param([1], [0], [1.5], "confidence outside 0..1", id="bad-confidence"),
        pytest.param([1, 2], [0], [0.5], "one value per row", id="ragged"),
    ],
)
def test_a_broken_injection_is_refused(
    scratch_kind: None, rows: list[int], severity: list[int], confidence: list[float], message: str
) -> None:
    class Broken(Pattern):
        kind = "anomaly"
        name = "test_broken"
        summary = signals = "test"
        share = 0.01
        rows_per_case = 1.0

        def _apply(self, frame, ctx, budget_rows):  # type: ignore[no-untyped-def]
            return Injection(
                np.array(rows), np.array(severity, dtype=np.int8), np.array(confidence), evidence(len(rows), why="test")
            )

    frame, ctx = _frame_and_ctx()
    with pytest.raises(PatternError, match=message):
        Broken().apply(frame, ctx, 5, code=0)  # type: ignore[arg-type]


def test_weights_replace_default_shares() -> None:
    shares = type_shares("fraud", weights=(("card_testing", 1.0), ("stolen_card", 0.0)))
    assert "stolen_card" not in shares and shares["card_testing"] > 0.4
    assert abs(sum(shares.values()) - 1) < 1e-12
    table = synfinance.generate(count=100_000, seed=6, fraud_weights=(("card_testing", 1.0),))
    counts = {r["values"]: r["counts"] for r in pc.value_counts(table.column("fraud_type")).to_pylist()}
    assert counts["card_testing"] > 3 * counts["stolen_card"]


def test_fraud_names_cover_fifteen_types_three_combined_and_one_held_out() -> None:
    combined = {"chained_attack", "coordinated_attack", "progressive_escalation"}
    held_out = set(HELD_OUT["fraud"])
    assert held_out == {"collect_request"} and not held_out & set(type_shares("fraud"))
    assert combined <= set(FRAUD_NAMES) and len(set(FRAUD_NAMES) - combined - held_out) == 15
