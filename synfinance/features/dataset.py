"""Features for a dataset on disk: one features/part-<shard> per transactions part, keyed by transaction_id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from synfinance.features.extractor import FeatureExtractor
from synfinance.features.inputs import INPUT_COLUMNS, check_input
from synfinance.output.dataset import FEATURES, PARTS, DatasetWriter, FileEntry, read_manifest
from synfinance.output.formats import read_table
from synfinance.schema import FEATURE_TABLE_SCHEMA, TRANSACTION_SCHEMA, fingerprint


def features_for_part(transactions: pa.Table, where: str = "input") -> pa.Table:
    """A shard's features: a fresh extractor (customers live in one shard) over its time-ordered rows."""
    return FeatureExtractor().extract(transactions, where)


def feature_part_name(part: str) -> str:
    return f"{FEATURES}/{Path(part).name}"


def manifest_features() -> dict[str, Any]:
    return {"count": len(FEATURE_TABLE_SCHEMA) - 1, "fingerprint": fingerprint(FEATURE_TABLE_SCHEMA),
            "key": "transaction_id", "layout": f"{FEATURES}/part-<shard> beside {PARTS}/part-<shard>"}


def check_dataset(out: Path) -> dict[str, Any]:
    """The dataset's manifest, once every transactions part has been checked as feature input."""
    manifest = read_manifest(out)
    for entry in manifest["files"]:
        if entry["path"].startswith(PARTS + "/"):
            path = Path(out) / entry["path"]
            check_input(read_table(path, manifest["format"], TRANSACTION_SCHEMA).select(list(INPUT_COLUMNS)),
                        str(path))
    return manifest


def write_features(out: Path, on_progress: Callable[[int], None] | None = None,
                   manifest: dict[str, Any] | None = None) -> Path:
    """Compute features for every transactions part of a dataset; every input is checked before any output.

    manifest: what check_dataset returned, when the caller already checked.
    """
    out = Path(out)
    manifest = manifest if manifest is not None else check_dataset(out)
    fmt = manifest["format"]
    parts = [f for f in manifest["files"] if f["path"].startswith(PARTS + "/")]
    writer = DatasetWriter(out, fmt)
    (out / FEATURES).mkdir(exist_ok=True)
    files = [FileEntry(**f) for f in manifest["files"] if not f["path"].startswith(FEATURES + "/")]
    for entry in parts:
        table = read_table(out / entry["path"], fmt, TRANSACTION_SCHEMA)
        features = features_for_part(table, entry["path"])
        files.append(writer.write(feature_part_name(entry["path"]), features))
        if on_progress is not None:
            on_progress(features.num_rows)
    body = {k: v for k, v in manifest.items() if k not in ("files", "format")}
    body["features"] = manifest_features()
    return writer.finish(body, files)
