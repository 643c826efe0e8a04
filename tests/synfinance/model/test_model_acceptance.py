"""On a default 1,000,000-transaction dataset the model is useful but not trivially perfect, and its default
decision policy sends at most 2 % of transactions to review or decline, most of them fraud, catching half or more
of the frauds (the legitimate look-alikes keep it near 0.55)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synfinance.generation import GenerationParams
from synfinance.model import registry
from synfinance.model.fitting import fit_model
from synfinance.quality.baseline import model_figures
from synfinance.quality.gates import apply_gates
from synfinance.quality.run import flat_metrics
from synfinance.runner import write_dataset
from synfinance.settings.quality import DEFAULT_GATES
from synfinance.world.catalogue import FRAUD_NAMES


@pytest.mark.soak  # slow by nature: a million rows generated and a model trained on them
def test_realistic_million_pr_auc_between_half_and_098(tmp_path: Path) -> None:
    write_dataset(GenerationParams(count=1_000_000), tmp_path / "ds", features=True)
    fitted = fit_model(tmp_path / "ds", tmp_path / "models", seed=42, num_threads=2)
    test = fitted.metrics["test"]
    assert 0.5 <= test["pr_auc"] <= 0.98, test["pr_auc"]
    assert set(test["per_type_recall"]) == set(FRAUD_NAMES)
    # the default policy (review budget 1 %, declines where >= 90 % are fraud) on the test weeks
    # the legitimate look-alikes make fraud hard to tell: recall near 0.55 at this budget
    assert test["flagged_rate"] <= 0.02 and test["precision"] >= 0.5 and test["recall"] >= 0.5, test
    # and the served model passes the quality gates on it as they ship, read as `quality run` reads them
    registry.deploy(tmp_path / "models", fitted.version)
    gates = tuple(g for g in DEFAULT_GATES if g.metric.startswith("model_"))
    results = apply_gates(gates, flat_metrics([], 100.0, model_figures(tmp_path / "models"), {}))
    assert [r.status for r in results] == ["pass"] * len(gates) and len(gates) == 3, results
