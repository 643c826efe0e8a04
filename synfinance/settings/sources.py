"""The configuration layers, each a nested dict plus where each value came from.

default.yaml -> <env>.yaml -> .env -> SYNFINANCE_<SECTION>__<FIELD> variables -> overrides.
This module (with loader.py) is the only place in SynFinance that reads the environment.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

from synfinance.errors import Problem

PREFIX = "SYNFINANCE_"
# Variables that steer loading itself rather than naming a setting, and the command line's own (an API key for the
# commands that call the API, tracebacks on errors, the shell's history file).
CONTROL_VARIABLES = {"SYNFINANCE_ENV", "SYNFINANCE_CONFIG_DIR", "SYNFINANCE_ENV_FILE", "SYNFINANCE_API_KEY",
                     "SYNFINANCE_DEBUG", "SYNFINANCE_HISTORY"}
_SUBSTITUTION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Path_ = tuple[str, ...]
Provenance = dict[Path_, str]


class Layer:
    """One source of settings: its label (file or variable family), values, and per-key origins."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.values: dict[str, Any] = {}
        self.origin: Provenance = {}
        self.problems: list[Problem] = []

    def set(self, path: Path_, value: Any, origin: str | None = None) -> None:
        node = self.values
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[path[-1]] = value
        for leaf in leaves(value, path):
            self.origin[leaf] = origin or self.label


def leaves(value: Any, path: Path_) -> list[Path_]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in leaves(v, (*path, str(k)))]
    return [path]


def substitute(value: Any, environ: Mapping[str, str], where: str, path: Path_, problems: list[Problem]) -> Any:
    """${VAR} and ${VAR:-default} inside string values, recursively."""
    if isinstance(value, dict):
        return {k: substitute(v, environ, where, (*path, str(k)), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, environ, where, (*path, str(i)), problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        expected = f"environment variable {name} to be set (or ${{{name}:-default}})"
        problems.append(Problem(f"{where}: {'.'.join(path)}", value, expected))
        return match.group(0)

    return _SUBSTITUTION.sub(replace, value)


def yaml_layer(path: Path, environ: Mapping[str, str], text: str | None = None) -> Layer:
    """A YAML file as a layer; missing file = empty layer; YAML errors become problems."""
    label = str(path)
    layer = Layer(label)
    if text is None:
        if not path.is_file():
            return layer
        text = path.read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        layer.problems.append(Problem(label, where, f"valid YAML ({getattr(exc, 'problem', exc)})"))
        return layer
    if data is None:
        return layer
    if not isinstance(data, dict):
        layer.problems.append(Problem(label, type(data).__name__, "a mapping of sections at the top level"))
        return layer
    data = substitute(data, environ, label, (), layer.problems)
    for key, value in data.items():
        layer.set((str(key),), value)
    return layer


def _parse_value(raw: str) -> Any:
    """Environment values are text; lists and objects may be given as JSON."""
    stripped = raw.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def variables_layer(variables: Mapping[str, str | None], label: str) -> Layer:
    """SYNFINANCE_<SECTION>__<FIELD>[_FILE] variables as a layer."""
    layer = Layer(label)
    for name in sorted(variables):
        raw = variables[name]
        if not name.startswith(PREFIX) or name in CONTROL_VARIABLES or raw is None:
            continue
        parts = name[len(PREFIX) :].lower().split("__")
        origin = f"{label} {name}"
        if parts[-1].endswith("_file"):
            parts[-1] = parts[-1][: -len("_file")]
            secret_path = Path(raw)
            try:
                raw = secret_path.read_text().rstrip("\r\n")
            except OSError as exc:
                layer.problems.append(Problem(origin, raw, f"a readable secret file ({exc.strerror})"))
                continue
            origin = f"{origin} ({secret_path})"
        if not all(parts):
            layer.problems.append(Problem(origin, raw, "a name like SYNFINANCE_<SECTION>__<FIELD>"))
            continue
        layer.set(tuple(parts), _parse_value(raw), origin)
    return layer


def dotenv_layer(path: Path) -> Layer:
    if not path.is_file():
        return Layer(str(path))
    return variables_layer(dotenv_values(path), str(path))


def merge(layers: list[Layer]) -> tuple[dict[str, Any], Provenance]:
    """Later layers win key by key; lists and scalars are replaced whole."""
    merged: dict[str, Any] = {}
    provenance: Provenance = {}

    def put(node: dict[str, Any], value: dict[str, Any], path: Path_, origin: Provenance) -> None:
        for key, v in value.items():
            here = (*path, key)
            if isinstance(v, dict) and isinstance(node.get(key), dict):
                put(node[key], v, here, origin)
                continue
            node[key] = copy.deepcopy(v)
            for stale in [p for p in provenance if p[: len(here)] == here]:
                del provenance[stale]
            for leaf in leaves(v, here):
                provenance[leaf] = origin.get(leaf, "")

    for layer in layers:
        put(merged, layer.values, (), layer.origin)
    return merged, provenance
