"""A small dataset with features for the quality checks (the default configuration), generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from synfinance.generation import GenerationParams
from synfinance.runner import write_dataset

QUALITY_PARAMS = GenerationParams(count=40_000, seed=11)  # the default configuration, smaller


@pytest.fixture(scope="session")
def quality_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quality") / "ds"
    write_dataset(QUALITY_PARAMS, out, features=True)
    return out
