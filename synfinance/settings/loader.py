"""Load, validate and version the settings from their layers; report every problem with its origin."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pydantic
from pydantic import BaseModel, SecretStr

from synfinance._bundled import resource_dir
from synfinance.errors import ConfigError, Problem
from synfinance.settings.models import ENVIRONMENTS, DatabaseConfig, Settings
from synfinance.settings.sources import Layer, Provenance, dotenv_layer, merge, variables_layer, yaml_layer

WEAK_PASSWORDS = {"", "postgres", "password", "changeme", "admin", "secret", "synfinance"}
_PACKAGE_CONFIG = resource_dir("config")


def default_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """SYNFINANCE_CONFIG_DIR, else ./config, else the config/ folder beside the source tree."""
    environ = os.environ if environ is None else environ
    if "SYNFINANCE_CONFIG_DIR" in environ:
        return Path(environ["SYNFINANCE_CONFIG_DIR"])
    local = Path("config")
    return local if (local / "default.yaml").is_file() else _PACKAGE_CONFIG


@dataclass(frozen=True)
class LoadedConfig:
    """Validated settings plus where they came from and a version that changes with their content."""

    settings: Settings
    env: str
    version: str
    loaded_at: dt.datetime
    files: tuple[Path, ...]  # the files this config was read from (the ones a watcher follows)
    provenance: Provenance = field(repr=False)

    def source_of(self, path: tuple[str, ...]) -> str:
        return _origin(self.provenance, path)


def content_version(settings: Settings) -> str:
    """A short hash of every value; secrets enter as their own hash, never in clear."""

    def plain(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return "sha256:" + hashlib.sha256(value.get_secret_value().encode()).hexdigest()
        if isinstance(value, BaseModel):
            return {k: plain(getattr(value, k)) for k in type(value).model_fields}
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value if isinstance(value, int | float | str | bool | type(None)) else str(value)

    text = json.dumps(plain(settings), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def active_env(environ: Mapping[str, str] | None = None) -> str:
    """The environment name from SYNFINANCE_ENV (default development); ConfigError if unknown."""
    env = (os.environ if environ is None else environ).get("SYNFINANCE_ENV") or "development"
    if env not in ENVIRONMENTS:
        raise ConfigError([Problem("SYNFINANCE_ENV", env, f"one of {', '.join(ENVIRONMENTS)}")])
    return env


def load_settings(
    env: str | None = None,
    config_dir: Path | None = None,
    env_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    texts: Mapping[Path, str] | None = None,
    production_checks: bool = True,
) -> LoadedConfig:
    """Merge default.yaml, <env>.yaml, .env, SYNFINANCE_* variables and overrides, then validate.

    texts replaces a file's content without touching the disk (to validate an edit before writing);
    production_checks=False skips the insecure-defaults gate (for comparing, never for running).
    Raises ConfigError listing every problem, each with its file or variable and key path.
    """
    environ = dict(os.environ if environ is None else environ)
    env = env or active_env(environ)
    if env not in ENVIRONMENTS:
        raise ConfigError([Problem("--env", env, f"one of {', '.join(ENVIRONMENTS)}")])
    config_dir = Path(config_dir) if config_dir is not None else default_config_dir(environ)
    env_file = Path(env_file) if env_file is not None else Path(environ.get("SYNFINANCE_ENV_FILE", ".env"))
    texts = texts or {}
    files = (config_dir / "default.yaml", config_dir / f"{env}.yaml")
    layers = [yaml_layer(f, environ, texts.get(f)) for f in files]
    layers += [dotenv_layer(env_file), variables_layer(environ, "environment variable")]
    override_layer = Layer("override")
    for key, value in (overrides or {}).items():
        override_layer.set(tuple(key.split(".")), value, f"override {key}")
    layers.append(override_layer)
    problems = [p for layer in layers for p in layer.problems]
    merged, provenance = merge(layers)
    merged["env"] = env
    provenance[("env",)] = "SYNFINANCE_ENV / --env"
    settings = None
    try:
        settings = Settings.model_validate(merged)
    except pydantic.ValidationError as exc:
        problems += [_problem(err, provenance) for err in exc.errors()]
    if production_checks:
        problems += production_problems(merged, provenance)
    if problems:
        raise ConfigError(problems)
    assert settings is not None
    watched = tuple(f for f in (*files, env_file) if f.is_file())
    return LoadedConfig(settings, env, content_version(settings), dt.datetime.now(dt.UTC), watched, provenance)


def production_problems(data: Mapping[str, Any], provenance: Provenance) -> list[Problem]:
    """Insecure defaults a production configuration must not keep.

    Works on the merged raw values, so these problems are reported together with any others.
    """
    if data.get("env") != "production":
        return []
    found: list[Problem] = []

    def bad(path: tuple[str, ...], got: Any, expected: str) -> None:
        found.append(Problem(f"{_origin(provenance, path)}: {'.'.join(path)}", got, expected))

    def raw(section: str, key: str, default: Any) -> Any:
        node = data.get(section)
        return node.get(key, default) if isinstance(node, dict) else default

    if not raw("security", "api_keys", ()):
        bad(("security", "api_keys"), [], "at least one API key in production")
    url = raw("database", "url", DatabaseConfig().url)
    url = url.get_secret_value() if isinstance(url, SecretStr) else str(url)
    try:
        password = urlsplit(url).password or ""
    except ValueError:
        password = ""
    if password in WEAK_PASSWORDS:
        bad(("database", "url"), MASK, "a URL with a non-default password in production")
    if str(raw("monitoring", "log_level", "INFO")).upper() == "DEBUG":
        bad(("monitoring", "log_level"), "DEBUG", "INFO or stricter in production (debug logs leak payloads)")
    cors = raw("security", "cors_origins", ())
    if isinstance(cors, list | tuple) and "*" in cors:
        bad(("security", "cors_origins"), ["*"], "explicit origins in production, not '*'")
    return found


def _origin(provenance: Provenance, path: tuple[str, ...]) -> str:
    """Where the value at `path` came from. A section's (a check across its keys) is the last layer that set a key
    in it: provenance is in merge order, so that is the latest change, not the defaults under it."""
    if path in provenance:
        return provenance[path]
    below = [p for p in provenance if p[: len(path)] == path]
    if below:
        return provenance[below[-1]]
    for cut in range(len(path) - 1, 0, -1):
        if path[:cut] in provenance:
            return provenance[path[:cut]]
    return "built-in default"


def _problem(err: Mapping[str, Any], provenance: Provenance) -> Problem:
    loc = tuple(str(p) for p in err["loc"])
    key = ".".join(loc)
    if err["type"] == "extra_forbidden":
        parent_model = _model_at(loc[:-1])
        known = ", ".join(parent_model.model_fields) if parent_model else "?"
        expected = f"a known key (here: {known})"
    else:
        expected = str(err["msg"]).removeprefix("Value error, ").replace("Input should be", "should be")
    return Problem(f"{_origin(provenance, loc)}: {key}", mask(err.get("input"), loc), expected)


SECRET_KEYS = {"key", "url", "password", "token"}
MASK = "**********"


def mask(value: Any, path: tuple[str, ...] = ()) -> Any:
    """A value fit for an error message or a log: secrets (and anything under a secret key) hidden."""
    if isinstance(value, SecretStr) or (path and path[-1] in SECRET_KEYS and value is not None):
        return MASK
    if isinstance(value, dict):
        return {k: mask(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, path) for v in value]
    return value


def _model_at(path: tuple[str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Settings
    for key in path:
        field = model.model_fields.get(key)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return None
        model = field.annotation
    return model
