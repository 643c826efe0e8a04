"""Layer precedence, substitution, secrets, validation messages, the production gate and versions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from synfinance.errors import ConfigError
from synfinance.settings import load_settings

STRONG_URL = "postgresql://app:s3cr3t-Pa55@db.internal:5432/synfinance"
KEYS_JSON = '[{"name": "scorer", "key": "k-123456", "scopes": ["score", "read"]}]'


def load(
    config_dir: Path,
    tmp_path: Path,
    env: str = "test",
    environ: dict[str, str] | None = None,
    dotenv: str | None = None,
    overrides: dict[str, object] | None = None,
):  # type: ignore[no-untyped-def]
    env_file = tmp_path / ".env"
    if dotenv is not None:
        env_file.write_text(dotenv)
    return load_settings(env=env, config_dir=config_dir, env_file=env_file, environ=environ or {}, overrides=overrides)


LAYERS = ["default", "env_yaml", "dotenv", "variable", "override"]


@pytest.mark.parametrize(
    "present",
    [
        pytest.param(LAYERS[:1], id="default-only"),
        pytest.param(LAYERS[:2], id="env-yaml-beats-default"),
        pytest.param(LAYERS[:3], id="dotenv-beats-yaml"),
        pytest.param(LAYERS[:4], id="variable-beats-dotenv"),
        pytest.param(LAYERS, id="override-beats-all"),
        pytest.param(["default", "dotenv", "override"], id="gaps"),
    ],
)
def test_each_layer_overrides_the_ones_before(config_dir: Path, tmp_path: Path, present: list[str]) -> None:
    # setup: each present layer sets ml.num_threads to its own value
    value = {"default": 11, "env_yaml": 22, "dotenv": 33, "variable": 44, "override": 55}
    (config_dir / "default.yaml").write_text(f"ml:\n  num_threads: {value['default']}\n")
    (config_dir / "test.yaml").write_text(f"ml:\n  num_threads: {value['env_yaml']}\n" if "env_yaml" in present else "")
    dotenv = f"SYNFINANCE_ML__NUM_THREADS={value['dotenv']}\n" if "dotenv" in present else None
    environ = {"SYNFINANCE_ML__NUM_THREADS": str(value["variable"])} if "variable" in present else {}
    overrides = {"ml.num_threads": value["override"]} if "override" in present else None
    # run
    loaded = load(config_dir, tmp_path, environ=environ, dotenv=dotenv, overrides=overrides)
    # check: the last present layer wins and is named as the source
    winner = present[-1]
    assert loaded.settings.ml.num_threads == value[winner]
    source = loaded.source_of(("ml", "num_threads"))
    expected_source = {
        "default": "default.yaml",
        "env_yaml": "test.yaml",
        "dotenv": ".env",
        "variable": "SYNFINANCE_ML__NUM_THREADS",
        "override": "override ml.num_threads",
    }[winner]
    assert expected_source in source


def test_layers_merge_key_by_key(config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "test.yaml").write_text("database:\n  pool:\n    max_size: 30\n")
    loaded = load(config_dir, tmp_path, environ={"SYNFINANCE_DATABASE__POOL__MIN_SIZE": "4"})
    assert (loaded.settings.database.pool.min_size, loaded.settings.database.pool.max_size) == (4, 30)
    assert loaded.settings.database.statement_timeout_s == 5  # untouched key keeps default.yaml's value


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        pytest.param("server:\n  host: ${HOST}\n", {"HOST": "10.1.2.3"}, "10.1.2.3", id="set"),
        pytest.param("server:\n  host: ${HOST:-0.0.0.0}\n", {}, "0.0.0.0", id="default-used"),
        pytest.param("server:\n  host: ${HOST:-0.0.0.0}\n", {"HOST": "h1"}, "h1", id="default-ignored"),
        pytest.param("server:\n  host: api-${REGION}.local\n", {"REGION": "in"}, "api-in.local", id="inside-text"),
    ],
)
def test_substitution(config_dir: Path, tmp_path: Path, text: str, environ: dict[str, str], expected: str) -> None:
    (config_dir / "test.yaml").write_text(text)
    assert load(config_dir, tmp_path, environ=environ).settings.server.host == expected


def test_missing_variable_without_default_is_an_error_naming_file_key_and_variable(
    config_dir: Path, tmp_path: Path
) -> None:
    (config_dir / "test.yaml").write_text("server:\n  host: ${API_HOST}\n")
    with pytest.raises(ConfigError) as err:
        load(config_dir, tmp_path)
    (line,) = err.value.lines()
    assert "test.yaml: server.host" in line and "API_HOST" in line


def test_numbers_substituted_are_typed(config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "test.yaml").write_text("server:\n  port: ${PORT:-8123}\n")
    assert load(config_dir, tmp_path).settings.server.port == 8123


def test_secret_from_file_variable(config_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "db_url"
    secret.write_text(STRONG_URL + "\n")
    loaded = load(config_dir, tmp_path, environ={"SYNFINANCE_DATABASE__URL_FILE": str(secret)})
    assert loaded.settings.database.url.get_secret_value() == STRONG_URL
    assert STRONG_URL not in repr(loaded.settings) and STRONG_URL not in str(loaded.settings.database)


def test_missing_secret_file_is_reported(config_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SYNFINANCE_DATABASE__URL_FILE.*readable secret file"):
        load(config_dir, tmp_path, environ={"SYNFINANCE_DATABASE__URL_FILE": str(tmp_path / "nope")})


def test_api_keys_as_json_are_hashed_and_the_plain_key_dropped(config_dir: Path, tmp_path: Path) -> None:
    loaded = load(config_dir, tmp_path, environ={"SYNFINANCE_SECURITY__API_KEYS": KEYS_JSON})
    (key,) = loaded.settings.security.api_keys
    assert key.key is None and key.scopes == ("score", "read")
    assert key.key_sha256 == hashlib.sha256(b"k-123456").hexdigest()


def test_every_problem_is_reported_with_file_key_value_and_expectation(config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "production.yaml").write_text(
        "database:\n  pool:\n    max_size: -1\nserver:\n  port: http\nml:\n  thresold: 0.4\n"
    )
    with pytest.raises(ConfigError) as err:
        load(config_dir, tmp_path, env="production")
    lines = err.value.lines()
    prod = str(config_dir / "production.yaml")
    assert f"{prod}: database.pool.max_size = -1: should be greater than or equal to 1" in lines
    assert any(line.startswith(f"{prod}: server.port = 'http': should be a valid integer") for line in lines)
    assert any(
        line.startswith(f"{prod}: ml.thresold = 0.4: a known key (here: registry_path, active_version, num_threads")
        for line in lines
    )
    assert any("security.api_keys" in line for line in lines)  # the production gate reports alongside


@pytest.mark.parametrize("layer", ["environment variable", "env file"])
def test_a_check_across_a_section_names_the_layer_that_changed_it(config_dir: Path, tmp_path: Path,
                                                                   layer: str) -> None:
    """server.replicas > 1 with feature_store ingress is refused by a check of the whole section: the problem
    names where replicas was set, not default.yaml, which set the section's other keys."""
    (config_dir / "test.yaml").write_text("server:\n  port: 8123\n")
    environ = {"SYNFINANCE_SERVER__REPLICAS": "3"} if layer == "environment variable" else {}
    if layer == "env file":
        (tmp_path / ".env").write_text("SYNFINANCE_SERVER__REPLICAS=3\n")
    with pytest.raises(ConfigError) as err:
        load(config_dir, tmp_path, environ=environ)
    (line,) = err.value.lines()
    assert "replicas must be 1" in line
    where = line.split(": server")[0]
    assert "SYNFINANCE_SERVER__REPLICAS" in where and "yaml" not in where, line


def test_unknown_environment_variable_is_named(config_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable SYNFINANCE_DATABSE__URL: databse"):
        load(config_dir, tmp_path, environ={"SYNFINANCE_DATABSE__URL": "x"})


def test_invalid_yaml_names_the_line(config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "test.yaml").write_text("server:\n  port: [8000\n")
    with pytest.raises(ConfigError, match=r"test.yaml = 'line \d+, column \d+': valid YAML"):
        load(config_dir, tmp_path)


def test_production_refuses_insecure_defaults_and_accepts_a_safe_setup(config_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(config_dir, tmp_path, env="production", environ={"SYNFINANCE_MONITORING__LOG_LEVEL": "DEBUG"})
    text = "\n".join(err.value.lines())
    assert "security.api_keys" in text and "database.url" in text and "monitoring.log_level" in text
    safe = {"SYNFINANCE_DATABASE__URL": STRONG_URL, "SYNFINANCE_SECURITY__API_KEYS": KEYS_JSON}
    loaded = load(config_dir, tmp_path, env="production", environ=safe)
    assert loaded.settings.env == "production" and loaded.settings.database.enabled


def test_errors_never_show_secrets(config_dir: Path, tmp_path: Path) -> None:
    bad_keys = '[{"name": "x", "key": "plain-secret-77", "key_sha256": "' + "a" * 64 + '"}]'
    with pytest.raises(ConfigError) as err:
        load(config_dir, tmp_path, environ={"SYNFINANCE_SECURITY__API_KEYS": bad_keys})
    assert "exactly one of key or key_sha256" in str(err.value)
    assert "plain-secret-77" not in str(err.value)


def test_version_follows_content_including_secrets_but_never_shows_them(config_dir: Path, tmp_path: Path) -> None:
    a = load(config_dir, tmp_path)
    b = load(config_dir, tmp_path)
    c = load(config_dir, tmp_path, environ={"SYNFINANCE_DATABASE__URL": STRONG_URL})
    d = load(config_dir, tmp_path, environ={"SYNFINANCE_ML__NUM_THREADS": "3"})
    assert a.version == b.version
    assert len({a.version, c.version, d.version}) == 3
    assert a.loaded_at.tzinfo is not None


def test_a_feature_store_in_the_ingress_refuses_several_replicas_naming_both_keys(config_dir: Path,
                                                                                   tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(config_dir, tmp_path, environ={"SYNFINANCE_SERVER__REPLICAS": "2"})
    text = str(err.value)
    assert "server" in text and "replicas must be 1 when feature_store is 'ingress'" in text
    loaded = load(config_dir, tmp_path, environ={"SYNFINANCE_SERVER__REPLICAS": "2",
                                                 "SYNFINANCE_SERVER__FEATURE_STORE": "shards"})
    assert (loaded.settings.server.replicas, loaded.settings.server.feature_store) == (2, "shards")


def test_an_autoscaled_app_needs_its_feature_store_in_shards(config_dir: Path, tmp_path: Path) -> None:
    from serve.builder import build_app
    from synfinance.errors import ValidationError

    with pytest.raises(ValidationError, match="server.feature_store"):
        build_app(load(config_dir, tmp_path).settings, autoscaling={"min_replicas": 1, "max_replicas": 2})
    production = load(config_dir, tmp_path, env="production", environ={
        "SYNFINANCE_DATABASE__URL": STRONG_URL, "SYNFINANCE_SECURITY__API_KEYS": KEYS_JSON}).settings
    assert production.server.feature_store == "shards"  # what serve/config.yaml deploys, autoscaling
