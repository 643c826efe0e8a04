"""A private copy of config/ per test, so edits and reloads never touch the repository's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_CONFIG = Path(__file__).resolve().parents[3] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, target)
    return target


@pytest.fixture
def cli_env(config_dir: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for CLI runs: the private config, no .env, development unless a test says otherwise."""
    return {
        "SYNFINANCE_CONFIG_DIR": str(config_dir),
        "SYNFINANCE_ENV_FILE": str(tmp_path / "absent.env"),
        "SYNFINANCE_ENV": "development",
    }
