"""Champion and challenger: a challenger scores beside the champion and never decides; promotion remembers the
champion it replaced and rollback returns to it; what cannot be done is refused, saying why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synfinance.errors import ModelError, ParameterError
from synfinance.generation import GenerationParams
from synfinance.model import promotion, registry
from synfinance.model.data import load_labelled
from synfinance.model.fitting import fit_model
from synfinance.model.served import ServedModel
from synfinance.observability import metrics
from synfinance.runner import write_dataset
from synfinance.settings.models import MLConfig


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """v0001 (the champion) and v0002 (another seed, shuffled labels: a bad challenger), and rows to score."""
    base = tmp_path_factory.mktemp("promotion")
    write_dataset(GenerationParams(count=30_000, seed=5, fraud_rate=0.05), base / "ds", features=True)
    data = load_labelled(base / "ds")
    root = base / "models"
    fit_model(base / "ds", root, seed=1, num_threads=2, data=data)
    shuffled = type(data)(data.x, np.random.default_rng(0).permutation(data.y), data.ts, data.fraud_type,
                          data.amount_inr, data.ids)
    fit_model(base / "ds", root, seed=2, num_threads=2, data=shuffled)
    registry.deploy(root, "v0001")
    return root, data.x[:4000]


@pytest.fixture
def root(two_versions: tuple[Path, np.ndarray], tmp_path: Path) -> Path:
    """A copy of the registry per test (promotions and shadows change it)."""
    import shutil

    copy = tmp_path / "models"
    shutil.copytree(two_versions[0], copy)
    return copy


def served(root: Path) -> ServedModel:
    metrics.use_backend(metrics.prometheus())
    return ServedModel(MLConfig(registry_path=root))


def test_the_challenger_scores_beside_the_champion_and_never_decides(root: Path,
                                                                    two_versions: tuple[Path, np.ndarray]) -> None:
    # setup
    x = two_versions[1]
    alone = served(root).score(x, "none")
    promotion.shadow(root, "v0002", share=1.0)
    model = served(root)
    # run
    scored = model.score(x, "none")
    # check: the same decisions as the champion alone; the challenger's counted beside, and compared
    assert scored.model_version == "v0001"
    np.testing.assert_array_equal(scored.code, alone.code)
    np.testing.assert_array_equal(scored.probability, alone.probability)
    info = model.info()["challenger"]
    assert info["version"] == "v0002" and info["scored"] == len(x) and info["share"] == 1.0
    challenger = registry.load(root, "v0002")
    theirs = challenger.policy.codes(challenger.predict(x))
    assert info["agreement"] == pytest.approx(float((theirs == alone.code).mean()))
    assert sum(info["decisions"].values()) == len(x)
    assert info["decisions"]["review"] + info["decisions"]["decline"] == int((theirs > 0).sum())


def test_a_share_of_the_traffic_is_shadowed(root: Path, two_versions: tuple[Path, np.ndarray]) -> None:
    promotion.shadow(root, "v0002", share=0.25)
    model = served(root)
    model.score(two_versions[1], "none")
    scored = model.info()["challenger"]["scored"]
    n = len(two_versions[1])
    assert abs(scored - 0.25 * n) <= 4 * np.sqrt(n * 0.25 * 0.75)


def test_a_challenger_set_while_serving_is_picked_up_and_a_broken_one_never_stops_the_champion(root: Path) -> None:
    model = served(root)
    assert model.info()["challenger"] is None
    promotion.shadow(root, "v0002")
    model.load()
    assert model.info()["challenger"]["version"] == "v0002"
    (root / "v0002" / "metadata.json").write_text(json.dumps({"feature_names": []}))
    promotion.stop_shadow(root)
    (root / promotion.CHALLENGER).write_text(json.dumps({"version": "v0002", "share": 1.0, "since": "now"}))
    fresh = served(root)
    assert fresh.info()["version"] == "v0001" and fresh.info()["challenger"] is None


def test_promotion_is_remembered_and_rollback_returns_to_the_champion_before(root: Path) -> None:
    promotion.shadow(root, "v0002")
    event = promotion.promote(root, "v0002", "retrained")
    assert registry.active_version(root) == "v0002" and event["previous"] == "v0001"
    assert promotion.challenger(root) is None  # promoted from shadow: shadowing stops
    back = promotion.rollback(root, "precision fell")
    assert registry.active_version(root) == "v0001" and back["previous"] == "v0002"
    assert [(e["action"], e["version"], e["reason"]) for e in promotion.history(root)] == [
        ("promote", "v0002", "retrained"), ("rollback", "v0001", "precision fell")]
    with pytest.raises(ModelError, match="nothing to roll back to"):
        promotion.rollback(root)


@pytest.mark.parametrize(("version", "share", "field"), [
    pytest.param("v0001", 1.0, "version", id="the-champion"),
    pytest.param("v0002", 0.0, "share", id="no-share"),
    pytest.param("v0002", 1.5, "share", id="more-than-all"),
])
def test_a_shadow_that_cannot_be_is_refused(root: Path, version: str, share: float, field: str) -> None:
    with pytest.raises(ParameterError) as caught:
        promotion.shadow(root, version, share)
    assert [p.field for p in caught.value.problems] == [field]
    assert promotion.challenger(root) is None


def test_an_unknown_version_is_named(root: Path) -> None:
    with pytest.raises(ModelError, match="v0009"):
        promotion.shadow(root, "v0009")
    with pytest.raises(ModelError, match="v0009"):
        promotion.promote(root, "v0009")
    assert registry.active_version(root) == "v0001" and promotion.history(root) == []
