"""Batch scoring of a dataset on disk, part by part: what `synfinance model predict` runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from synfinance.errors import SchemaError
from synfinance.model.registry import FraudModel
from synfinance.model.scoring import predictions_table
from synfinance.output.dataset import FEATURES, PARTS, read_manifest
from synfinance.output.formats import read_table
from synfinance.schema import FEATURE_TABLE_SCHEMA, TRANSACTION_SCHEMA


def dataset_rows(directory: Path) -> int:
    """Transactions in a complete dataset, checking it has features to score."""
    manifest = read_manifest(directory)
    if "features" not in manifest:
        raise SchemaError(f"--data: {directory} has no features; run `synfinance generate features --in {directory}`")
    return int(manifest["counts"]["transactions"])


def predict_dataset(model: FraudModel, directory: Path, explain: str = "flagged", num_threads: int = 1,
                    on_progress: Callable[[int], None] | None = None) -> Iterator[pa.Table]:
    """PREDICTION_SCHEMA tables, one per transactions part (with its features part), in part order."""
    directory = Path(directory)
    dataset_rows(directory)
    manifest = read_manifest(directory)
    paths = {e["path"] for e in manifest["files"]}
    for part in sorted(p for p in paths if p.startswith(f"{PARTS}/")):
        feature_part = f"{FEATURES}/{Path(part).name}"
        if feature_part not in paths:
            raise SchemaError(f"--data: {directory} has no {feature_part} for {part}")
        transactions = read_table(directory / part, manifest["format"], TRANSACTION_SCHEMA)
        features = read_table(directory / feature_part, manifest["format"], FEATURE_TABLE_SCHEMA)
        table = predictions_table(model, transactions, features, explain, num_threads)
        if on_progress is not None:
            on_progress(table.num_rows)
        yield table
