"""LightGBM's single-row predictor: Booster.predict's probabilities bit for bit, in any thread, without its setup."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest

from synfinance.model.single_row import FAST_ROWS, SingleRows


class Refusing(lgb.Booster):
    """A booster whose Booster.predict is not to be called (the single-row path must not need it)."""

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Booster.predict called")


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3_000, 69))
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values take the trees' default branches
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 5]) * np.nan_to_num(x[:, 9]) > 0.5).astype(int)
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=40)


def rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 69)) * 2
    x[rng.random(x.shape) < 0.2] = np.nan
    return x


@pytest.mark.parametrize("n", [1, 2, FAST_ROWS, FAST_ROWS + 1, 50])
def test_probabilities_are_booster_predicts_bit_for_bit(booster: lgb.Booster, n: int) -> None:
    single = SingleRows(booster)
    for seed in range(20):
        x = rows(n, seed)
        assert np.array_equal(single.predict(x), booster.predict(x, num_threads=1))


def test_a_few_rows_never_go_through_booster_predict(booster: lgb.Booster) -> None:
    refusing = Refusing(model_str=booster.model_to_string())
    x = rows(FAST_ROWS, 1)
    assert np.array_equal(SingleRows(refusing).predict(x), booster.predict(x, num_threads=1))
    assert np.array_equal(SingleRows(refusing).predict(x[::2]), booster.predict(x[::2], num_threads=1))  # strided
    with pytest.raises(AssertionError, match="Booster.predict called"):  # more rows: one Booster.predict is cheaper
        SingleRows(refusing).predict(rows(FAST_ROWS + 1, 1))


def test_each_thread_predicts_with_its_own_predictor(booster: lgb.Booster) -> None:
    single = SingleRows(booster)
    inputs = [rows(1 + seed % FAST_ROWS, seed) for seed in range(400)]
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(single.predict, inputs))
    for x, p in zip(inputs, found, strict=True):
        assert np.array_equal(p, booster.predict(x, num_threads=1))


def test_a_booster_with_a_best_iteration_predicts_with_its_trees_up_to_it(booster: lgb.Booster) -> None:
    stopped = lgb.Booster(model_str=booster.model_to_string())
    stopped.best_iteration = 17  # what early stopping leaves on a booster it trained (Booster.predict honours it)
    x = rows(FAST_ROWS, 3)
    assert np.array_equal(SingleRows(stopped).predict(x), stopped.predict(x, num_threads=1))
    assert not np.array_equal(SingleRows(stopped).predict(x), booster.predict(x, num_threads=1))
