"""Baselines: what a later run is compared with, in one directory (baseline.json).

    {"format": 1, "created_at": ..., "profile": {... quality.profile ...},
     "model": {"version": "v0003", "pr_auc": ..., "recall": ..., "review_rate": ..., "frauds": ...} | null,
     "bench": {"api": {...}, "generate": {...}, ...}}     (each `synfinance bench` kind's latest JSON line)
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from synfinance.errors import SchemaError
from synfinance.output.files import atomic_path
from synfinance.quality.data import Dataset
from synfinance.quality.profile import profile

FILE = "baseline.json"
FORMAT = 1
MODEL_KEYS = ("pr_auc", "roc_auc", "recall", "precision", "review_rate", "frauds", "rows")


def model_figures(models: Path) -> dict[str, Any] | None:
    """The served model's test-week figures, or None when no model is deployed."""
    from synfinance.model.registry import served_metrics  # LightGBM: 0.2 s that every `synfinance` command paid

    served = served_metrics(models)
    if served is None:
        return None
    version, metrics = served
    return {"version": version, **{k: metrics[k] for k in MODEL_KEYS if k in metrics}}


def bench_figures(bench_dir: Path) -> dict[str, Any]:
    """The latest JSON line of each benchmark that has run here ({kind: summary})."""
    folder = Path(bench_dir)
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a benchmark being written, or a stray file: not a figure
    return out


def write_baseline(out: Path, data: Dataset, models: Path, bench_dir: Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    body = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "profile": profile(data), "model": model_figures(models), "bench": bench_figures(bench_dir)}
    with atomic_path(out / FILE) as tmp:
        tmp.write_text(json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n")
    return out / FILE


def read_baseline(directory: Path) -> dict[str, Any]:
    path = Path(directory) / FILE
    if not path.is_file():
        raise SchemaError(f"--baseline: {directory} holds no {FILE} (write one with `synfinance quality baseline`)")
    try:
        body: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise SchemaError(f"--baseline: {path} is not JSON: {exc}") from exc
    if body.get("format") != FORMAT or not isinstance(body.get("profile"), dict):
        raise SchemaError(f"--baseline: {path} is not a baseline of format {FORMAT}; write it again")
    missing = [k for k in ("rows", "numeric", "categorical", "rates") if k not in body["profile"]]
    if missing:
        raise SchemaError(f"--baseline: {path}: profile lacks {', '.join(missing)}; write it again")
    return body
