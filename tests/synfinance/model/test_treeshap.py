"""TreeSHAP by table lookup: LightGBM's pred_contrib, for every kind of numeric split, and LightGBM's own walk for
the models the tables do not cover."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from synfinance.model import treeshap
from synfinance.model.policy import Policy
from synfinance.model.registry import FraudModel
from synfinance.model.treeshap import LeafTables


def trained(x: np.ndarray, y: np.ndarray, rounds: int = 30, **params: Any) -> lgb.Booster:
    base = {"objective": "binary", "num_leaves": 15, "max_depth": 6, "verbose": -1, "seed": 1, "num_threads": 1,
            "min_data_in_leaf": 5}
    return lgb.train({**base, **params}, lgb.Dataset(x, y), num_boost_round=rounds)


def lightgbm_contributions(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    return np.asarray(booster.predict(x, pred_contrib=True, num_threads=1))


def data(n: int, seed: int, features: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Rows with NaNs and exact zeros (each kind of missing value), and a label of a few interacting features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.1] = 0.0
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2]) - np.isnan(x[:, 3]) > 0.3)
    return x, y.astype(int)


@pytest.mark.parametrize(("params", "kind"), [
    ({}, "NaN"),  # where the training data had NaNs: they take the default branch
    ({"zero_as_missing": True}, "Zero"),  # zeros and NaNs take the default branch
    ({"use_missing": False}, "None"),  # NaN read as 0
], ids=["nan-missing", "zero-missing", "no-missing"])
def test_contributions_are_lightgbms(params: dict[str, Any], kind: str) -> None:
    x, y = data(3_000, 1)
    booster = trained(x, y, **params)
    assert kind in {s["missing_type"] for s in _splits(booster)}
    tables = LeafTables.of(booster)
    assert tables is not None
    rows, _ = data(500, 2)
    ours, theirs = tables.contributions(rows), lightgbm_contributions(booster, rows)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.sum(axis=1), booster.predict(rows, raw_score=True), rtol=0, atol=1e-12)


def test_a_feature_split_again_on_one_path_is_merged_as_lightgbm_merges_it() -> None:
    """One informative feature: the trees split on it again and again down a path."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4_000, 3))
    y = (np.sin(3 * x[:, 0]) + 0.1 * x[:, 1] > 0).astype(int)
    booster = trained(x, y, rounds=20)
    assert any(len(p) > len(set(p)) for p in _paths(booster)), "no path repeats a feature"
    tables = LeafTables.of(booster)
    assert tables is not None
    rows = rng.normal(size=(300, 3))
    np.testing.assert_allclose(tables.contributions(rows), lightgbm_contributions(booster, rows), rtol=0, atol=1e-12)


def test_any_number_of_rows_and_a_single_leaf_tree() -> None:
    x, y = data(2_000, 4)
    booster = trained(x, y, rounds=5)
    stump = trained(np.zeros((50, 12)), np.r_[np.zeros(25), np.ones(25)].astype(int), rounds=3)  # one leaf each
    for model in (booster, stump):
        tables = LeafTables.of(model)
        assert tables is not None
        for n in (0, 1, treeshap.ROWS_PER_PASS, treeshap.ROWS_PER_PASS + 1):
            rows, _ = data(n, 5)
            ours = tables.contributions(rows)
            assert ours.shape == (n, 13)
            if n:  # LightGBM refuses no rows
                np.testing.assert_allclose(ours, lightgbm_contributions(model, rows), rtol=0, atol=1e-12)
                # a row's contributions do not depend on the rows it comes with: alone, the same bits
                np.testing.assert_array_equal(ours[-1:], tables.contributions(rows[-1:]))


def test_models_the_tables_do_not_cover_are_explained_by_lightgbm() -> None:
    x, y = data(3_000, 6)
    x[:, 4] = np.floor(np.abs(np.nan_to_num(x[:, 4])) * 3)  # small integer codes
    y = (y.astype(bool) ^ (x[:, 4] == 2)).astype(int)
    categorical = lgb.train({"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 1, "num_threads": 1},
                            lgb.Dataset(x, y, categorical_feature=[4]), num_boost_round=10)
    assert LeafTables.of(categorical) is None
    linear = trained(x, y, rounds=5, linear_tree=True)  # leaves are linear models of their path's features
    assert LeafTables.of(linear) is None
    forest = trained(np.nan_to_num(x), y, rounds=5, boosting="rf", bagging_freq=1, bagging_fraction=0.5)
    assert LeafTables.of(forest) is None  # its trees are averaged, not summed
    several = lgb.train({"objective": "multiclass", "num_class": 3, "verbose": -1, "num_threads": 1},
                        lgb.Dataset(np.nan_to_num(x), (x[:, 4] % 3).astype(int)), num_boost_round=3)
    assert LeafTables.of(several) is None
    noise = np.random.default_rng(8).normal(size=(3_000, 30))
    deep = trained(noise, (noise[:, 0] > 0) ^ (noise[:, 1] > 0), rounds=3, max_depth=-1, num_leaves=1023,
                   min_data_in_leaf=1)
    assert max(len(set(p)) for p in _paths(deep)) > treeshap.MAX_PATH_FEATURES  # too many cases to tabulate
    assert LeafTables.of(deep) is None
    policy = Policy(review_at=0.5, decline_at=None, rule="budget", review_rate=0.01, decline_precision=0.9)
    for booster, rows in ((categorical, data(40, 7)[0]), (deep, noise[:40])):
        model = FraudModel("v0001", booster, {}, policy)
        assert model.tables is None
        np.testing.assert_array_equal(model.contributions(rows), lightgbm_contributions(booster, rows))


def _splits(booster: lgb.Booster) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if "split_feature" in node:
            found.append(node)
            walk(node["left_child"])
            walk(node["right_child"])
    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return found


def _paths(booster: lgb.Booster) -> list[list[int]]:
    """The features tested on each leaf's path."""
    found: list[list[int]] = []

    def walk(node: dict[str, Any], path: list[int]) -> None:
        if "leaf_value" in node:
            found.append(path)
            return
        walk(node["left_child"], [*path, node["split_feature"]])
        walk(node["right_child"], [*path, node["split_feature"]])
    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"], [])
    return found
