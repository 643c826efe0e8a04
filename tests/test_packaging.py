"""`pip install .` (a wheel, not the editable checkout) gives a working `synfinance` and `python -m synfinance`,
with the version from synfinance.__version__ and the config, migrations and monitoring files inside the package."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import synfinance

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, installed (without dependencies: the venv has them) into a folder."""
    root = tmp_path_factory.mktemp("packaging")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(root / "wheel")],
                   check=True, capture_output=True, text=True)
    (wheel,) = (root / "wheel").glob("synfinance-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(root / "site"),
                    str(wheel)], check=True, capture_output=True, text=True)
    return root


def run(installed: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command in a directory outside the checkout, importing only the installed copy."""
    env = {**os.environ, "PYTHONPATH": str(installed / "site"), "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("SYNFINANCE_CONFIG_DIR", None)
    return subprocess.run(list(args), cwd=installed, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_carries_the_version_the_license_and_the_files_beside_the_code(installed: Path) -> None:
    (wheel,) = (installed / "wheel").glob("synfinance-*.whl")
    assert wheel.name.startswith(f"synfinance-{synfinance.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("synfinance/_bundled/config/default.yaml", "synfinance/_bundled/migrations/0001_core.up.sql",
                   "synfinance/_bundled/monitoring/prometheus/alerts.yml", "serve/config.yaml",
                   "chaos/scenarios/db-down-serving.yaml"):
        assert needed in names, needed
    metadata = zipfile.ZipFile(wheel).read(f"synfinance-{synfinance.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "version" in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dynamic"]


def test_the_installed_command_and_module_work_outside_the_checkout(installed: Path) -> None:
    where = run(installed, sys.executable, "-c", "import synfinance, synfinance._bundled as b; "
                "print(synfinance.__file__); print(b.resource_dir('migrations'))")
    module_file, migrations = where.stdout.split()
    assert module_file.startswith(str(installed / "site")) and migrations.startswith(str(installed / "site"))
    version = run(installed, sys.executable, "-m", "synfinance", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"synfinance, version {synfinance.__version__}"
    script = run(installed, str(installed / "site" / "bin" / "synfinance"), "config", "validate", "--json")
    assert script.returncode == 0, script.stderr
    assert script.stdout.count('"valid": true') == 1
    generated = run(installed, sys.executable, "-m", "synfinance", "generate", "transactions", "--count", "2000",
                    "--out", "ds", "--quiet")
    assert generated.returncode == 0 and (installed / "ds" / "manifest.json").is_file(), generated.stderr
