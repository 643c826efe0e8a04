"""`synfinance config ...`: validate, show, set, diff, export and import settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import BaseModel, SecretStr

from synfinance.cli.conventions import DATA_ON_STDOUT, Section, result
from synfinance.errors import ConfigError, Problem
from synfinance.output.files import atomic_path
from synfinance.settings import SECTIONS, LoadedConfig, Settings, default_config_dir, load_settings
from synfinance.settings.edit import set_key
from synfinance.settings.loader import active_env
from synfinance.settings.models import ENVIRONMENTS

ENV = click.option(
    "--env", type=click.Choice(ENVIRONMENTS), default=None, help="Environment [default: SYNFINANCE_ENV]."
)
FORMAT = click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)


@click.group(cls=Section)
def config() -> None:
    """Layered configuration: default.yaml -> <env>.yaml -> .env -> SYNFINANCE_* -> flags."""


def masked(settings: Settings) -> dict[str, Any]:
    """Every setting as plain data, secrets replaced by asterisks."""
    return settings.model_dump(mode="json")


def _render(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip("\n")


@config.command("validate", example="synfinance config validate --env development")
@ENV
def validate(env: str | None) -> None:
    """Load every layer and report every problem (exit 2), or the version that would run."""
    loaded = load_settings(env=env)
    files = ", ".join(str(f) for f in loaded.files) or "built-in defaults"
    result({"valid": True, "env": loaded.env, "version": loaded.version, "files": [str(f) for f in loaded.files]},
           f"config valid: env={loaded.env} version={loaded.version} files={files}")


@config.command("show", example="synfinance config show --section database")
@ENV
@FORMAT
@click.option("--section", type=click.Choice(SECTIONS), default=None, help="Only this section.")
def show(env: str | None, fmt: str, section: str | None) -> None:
    """The effective settings (secrets masked), with their version."""
    loaded = load_settings(env=env)
    data = masked(loaded.settings)
    body = data[section] if section else data
    meta = {"env": loaded.env, "version": loaded.version, "loaded_at": loaded.loaded_at.isoformat(),
            "files": [str(f) for f in loaded.files]}
    if fmt == "json":
        click.echo(json.dumps({"meta": meta, "settings": body}, indent=2, sort_keys=True))
        return
    result({"meta": meta, "settings": body},
           f"# env={meta['env']} version={meta['version']} files={', '.join(meta['files'])}\n{_render(body, 'yaml')}")


@config.command("export", output=DATA_ON_STDOUT, example="synfinance config export --format yaml --out settings.yaml")
@ENV
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write here instead of stdout.")
def export(env: str | None, fmt: str, out: Path | None) -> None:
    """All effective settings as one document (secrets masked), to stdout or a file."""
    text = _render(masked(load_settings(env=env).settings), fmt) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    result({"path": str(out)}, f"wrote {out}")


def _leaf_path(key: str) -> tuple[str, ...]:
    """Check that KEY names a setting (not a section, not unknown); ConfigError otherwise."""
    path = tuple(key.split("."))
    model: type[BaseModel] = Settings
    for depth, part in enumerate(path):
        fields = {n: f for n, f in model.model_fields.items() if not (model is Settings and n == "env")}
        if part not in fields:
            where = ".".join(path[:depth]) or "the top level"
            raise ConfigError([Problem("KEY", key, f"a known key; under {where}: {', '.join(fields)}")])
        annotation = fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
            continue
        if depth < len(path) - 1 and not str(annotation).startswith("dict"):
            raise ConfigError([Problem("KEY", key, f"{'.'.join(path[: depth + 1])} to be a section, it is a setting")])
        return path
    raise ConfigError([Problem("KEY", key, f"a setting, not a section (keys: {', '.join(model.model_fields)})")])


def _check_edit(env: str, target: Path, new_text: str) -> LoadedConfig | None:
    """Validate the layers with target's new text; refuse only problems the edit introduces."""
    before: set[str] = set()
    try:
        load_settings(env=env)
    except ConfigError as exc:
        before = set(exc.lines())
    try:
        return load_settings(env=env, texts={target: new_text})
    except ConfigError as exc:
        introduced = [p for p, line in zip(exc.problems, exc.lines(), strict=True) if line not in before]
        if introduced:
            raise ConfigError(introduced) from None
        return None


def _env_file(env: str | None) -> tuple[str, Path]:
    name = env or active_env()
    return name, default_config_dir() / f"{name}.yaml"


@config.command("set", context_settings={"ignore_unknown_options": True},
                example="synfinance config set --env development server.port 8001")
@click.argument("key")
@click.argument("value")
@ENV
def set_(key: str, value: str, env: str | None) -> None:
    """Set KEY (dotted, e.g. database.pool.max_size) to VALUE in config/<env>.yaml, validated first."""
    path = _leaf_path(key)
    env, target = _env_file(env)
    parsed = yaml.safe_load(value) if value.strip() else None
    old_text = target.read_text() if target.is_file() else ""
    new_text, kept_comments = set_key(old_text, path, parsed)
    loaded = _check_edit(env, target, new_text)
    with atomic_path(target) as tmp:
        tmp.write_text(new_text)
    note = "" if kept_comments else " (layout could not be kept: file re-written without comments)"
    version = f", version {loaded.version}" if loaded else " (other, older problems remain: run config validate)"
    result({"key": key, "value": parsed, "file": str(target), "kept_comments": kept_comments,
            "version": loaded.version if loaded else None},
           f"set {key} = {json.dumps(parsed)} in {target}{note}{version}")


@config.command("import", example="synfinance config import --env development settings.yaml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@ENV
def import_(file: Path, env: str | None) -> None:
    """Replace config/<env>.yaml with FILE after validating the result."""
    env, target = _env_file(env)
    text = file.read_text()
    loaded = _check_edit(env, target, text)
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    result({"file": str(file), "target": str(target), "version": loaded.version if loaded else None},
           f"imported {file} as {target}" + (f", version {loaded.version}" if loaded else ""))


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


@config.command("diff", example="synfinance config diff development production")
@click.argument("env1", type=click.Choice(ENVIRONMENTS))
@click.argument("env2", type=click.Choice(ENVIRONMENTS))
def diff(env1: str, env2: str) -> None:
    """Keys whose effective value differs between two environments (secrets compared, never shown)."""
    a = _flatten(load_settings(env=env1, production_checks=False).settings.model_dump())
    b = _flatten(load_settings(env=env2, production_checks=False).settings.model_dump())
    lines: list[str] = []
    changed: dict[str, Any] = {}
    for key in sorted((a.keys() | b.keys()) - {"env"}):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, SecretStr) or isinstance(vb, SecretStr):
            secret_a = va.get_secret_value() if isinstance(va, SecretStr) else va
            secret_b = vb.get_secret_value() if isinstance(vb, SecretStr) else vb
            if secret_a != secret_b:
                lines.append(f"{key}: (secret differs)")
                changed[key] = {"secret": True}
        elif va != vb:
            lines.append(f"{key}: {_json(va)} -> {_json(vb)}")
            changed[key] = {env1: va, env2: vb}
    result({"differences": changed}, "\n".join(lines) if lines else f"no differences between {env1} and {env2}")


def _json(value: Any) -> str:
    return json.dumps(value, default=str)
