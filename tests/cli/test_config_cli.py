"""`synfinance config ...` end to end on a private copy of config/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from synfinance.cli import main

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"
SECRET_URL = "postgresql://app:Very-Secret-9@db:5432/x"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    shutil.copytree(REPO_CONFIG, tmp_path / "config")
    return {
        "SYNFINANCE_CONFIG_DIR": str(tmp_path / "config"),
        "SYNFINANCE_ENV_FILE": str(tmp_path / "absent.env"),
        "SYNFINANCE_ENV": "development",
        "SYNFINANCE_DATABASE__URL": SECRET_URL,
    }


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner(env=env).invoke(main, list(args))


def test_validate_reports_version_or_every_problem(env: dict[str, str]) -> None:
    ok = cli(env, "config", "validate")
    assert ok.exit_code == 0 and "config valid: env=development version=" in ok.stdout
    bad = cli(env, "config", "validate", "--env", "production")
    assert bad.exit_code == 2
    assert all(line.startswith("error: ") for line in bad.stderr.splitlines())
    assert "security.api_keys" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_show_masks_secrets(env: dict[str, str], fmt: str) -> None:
    result = cli(env, "config", "show", "--format", fmt)
    assert result.exit_code == 0
    assert "Very-Secret-9" not in result.stdout and "**********" in result.stdout
    body = yaml.safe_load(result.stdout) if fmt == "yaml" else json.loads(result.stdout)["settings"]
    assert body["database"]["pool"]["max_size"] == 10


def test_show_one_section(env: dict[str, str]) -> None:
    result = cli(env, "config", "show", "--section", "ml", "--format", "json")
    data = json.loads(result.stdout)
    assert set(data["settings"]) == {"registry_path", "active_version", "num_threads", "policy", "review_rate",
                                     "decline_precision", "review_cost_inr", "guard"}
    assert len(data["meta"]["version"]) == 12


def test_export_is_masked_and_loadable(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    assert cli(env, "config", "export", "--format", "json", "--out", str(out)).exit_code == 0
    data = json.loads(out.read_text())
    assert data["database"]["url"] == "**********" and data["env"] == "development"
    assert "Very-Secret-9" not in cli(env, "config", "export", "--format", "yaml").stdout


def test_set_changes_the_value_and_keeps_comments(env: dict[str, str]) -> None:
    target = Path(env["SYNFINANCE_CONFIG_DIR"]) / "development.yaml"
    target.write_text("# my notes\nmonitoring:\n  log_level: DEBUG   # loud while developing\n")
    result = cli(env, "config", "set", "monitoring.log_level", "WARNING")
    assert result.exit_code == 0, result.stderr
    text = target.read_text()
    assert "# my notes" in text and "log_level: WARNING   # loud while developing" in text
    assert cli(env, "config", "set", "database.pool.max_size", "25").exit_code == 0
    shown = json.loads(cli(env, "config", "show", "--format", "json").stdout)["settings"]
    assert shown["monitoring"]["log_level"] == "WARNING" and shown["database"]["pool"]["max_size"] == 25


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        pytest.param(
            "database.pool.max_size",
            "-1",
            "database.pool.max_size = -1: should be greater than or equal to 1",
            id="out-of-range",
        ),
        pytest.param("database.pool.max_sise", "5", "under database.pool: min_size, max_size", id="unknown-key"),
        pytest.param("database.pool", "5", "a setting, not a section", id="section"),
        pytest.param("ml.num_threads.x", "5", "ml.num_threads to be a section", id="below-a-setting"),
        pytest.param("monitoring.log_level", "LOUD", "monitoring.log_level = 'LOUD'", id="bad-choice"),
    ],
)
def test_set_refuses_bad_keys_and_values_and_leaves_the_file(
    env: dict[str, str], key: str, value: str, message: str
) -> None:
    target = Path(env["SYNFINANCE_CONFIG_DIR"]) / "development.yaml"
    before = target.read_text()
    result = cli(env, "config", "set", key, value)
    assert result.exit_code == 2
    assert message in result.stderr, result.stderr
    assert target.read_text() == before


def test_set_in_production_is_allowed_when_it_adds_no_problem(env: dict[str, str]) -> None:
    # production already fails its gate here (no API keys); an unrelated valid edit may still be written
    result = cli(env, "config", "set", "--env", "production", "server.replicas", "4")
    assert result.exit_code == 0, result.stderr
    assert "older problems remain" in result.stdout
    assert "replicas: 4" in (Path(env["SYNFINANCE_CONFIG_DIR"]) / "production.yaml").read_text()


def test_diff_lists_differences_and_hides_secrets(env: dict[str, str]) -> None:
    result = cli(env, "config", "diff", "development", "production")
    assert result.exit_code == 0
    assert 'server.host: "127.0.0.1" -> "0.0.0.0"' in result.stdout
    assert "database.url" not in result.stdout  # same secret on both sides
    assert cli(env, "config", "diff", "test", "test").stdout.strip() == "no differences between test and test"


def test_import_validates_before_replacing(env: dict[str, str], tmp_path: Path) -> None:
    target = Path(env["SYNFINANCE_CONFIG_DIR"]) / "staging.yaml"
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("# imported\nserver:\n  replicas: 3\n  feature_store: shards\n")
    bad.write_text("server:\n  replicas: 0\n")
    before = target.read_text()
    refused = cli(env, "config", "import", str(bad), "--env", "staging")
    assert refused.exit_code == 2 and "server.replicas = 0" in refused.stderr
    assert target.read_text() == before
    assert cli(env, "config", "import", str(good), "--env", "staging").exit_code == 0
    assert target.read_text() == good.read_text()


def test_generate_reads_its_defaults_from_settings(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "SYNFINANCE_GENERATION__SEED": "314", "SYNFINANCE_GENERATION__DAYS": "10"}
    out = tmp_path / "ds"
    assert cli(env, "generate", "transactions", "--count", "300", "--out", str(out), "--quiet").exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 314 and manifest["parameters"]["days"] == 10
    # a flag still wins over the setting
    assert (
        cli(env, "generate", "transactions", "--count", "300", "--seed", "5", "--out", str(out), "--quiet").exit_code
        == 0
    )
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
