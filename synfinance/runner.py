"""Run generation in this process: plan, shards in order, a background writer, the manifest last."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

import synfinance
from synfinance.features.dataset import feature_part_name, features_for_part, manifest_features
from synfinance.generate import GenerationParams, GenerationPlan, generate_shard
from synfinance.output.dataset import DatasetWriter, FileEntry, part_name
from synfinance.output.formats import SUFFIX
from synfinance.schema import SCHEMA_VERSION, SCHEMAS, fingerprint

ProgressCallback = Callable[[int], None]  # called with the rows just written


def manifest_for(plan: GenerationPlan) -> dict[str, Any]:
    """Everything about a run except its files: enough to reproduce it."""
    p = plan.params
    return {
        "synfinance_version": synfinance.__version__,
        "schema_version": SCHEMA_VERSION,
        "schema_fingerprints": {name: fingerprint(s) for name, s in SCHEMAS.items()},
        "seed": p.seed,
        "parameters": p.to_json(),
        "counts": {
            "transactions": p.count, "customers": p.customers, "merchants": p.merchants, "shards": plan.n_shards,
        },
    }


@dataclass(frozen=True)
class ShardOutput:
    """One shard's rows (and features): the unit every sink writes atomically and idempotently."""

    shard: int
    transactions: pa.Table
    features: pa.Table | None = None


def build_shard(plan: GenerationPlan, shard: int, features: bool = False) -> ShardOutput:
    """Generate a shard (patterns included) and, if asked, its features. Same plan, same shard: same bytes."""
    table = generate_shard(plan, shard)
    return ShardOutput(shard, table, features_for_part(table, f"shard {shard}") if features else None)


def start_dataset(plan: GenerationPlan, writer: DatasetWriter) -> list[FileEntry]:
    """Prepare the directory and write the population files; returns their entries."""
    writer.prepare()
    suffix = SUFFIX[writer.fmt]
    return [writer.write(f"customers{suffix}", plan.customers.table),
            writer.write(f"merchants{suffix}", plan.merchants.table)]


def write_shard(writer: DatasetWriter, output: ShardOutput) -> list[FileEntry]:
    """Write a shard's part files (replacing any earlier attempt's, atomically)."""
    entries = [writer.write_part(output.shard, output.transactions)]
    if output.features is not None:
        entries.append(writer.write(feature_part_name(part_name(output.shard, writer.fmt)), output.features))
    return entries


def finish_dataset(plan: GenerationPlan, writer: DatasetWriter, files: list[FileEntry], features: bool) -> Path:
    """Write the manifest last; returns its path."""
    manifest = manifest_for(plan)
    if features:
        manifest["features"] = manifest_features()
    return writer.finish(manifest, files)


def write_dataset(
    params: GenerationParams,
    out: Path,
    fmt: str = "parquet",
    shards: Iterable[int] | None = None,
    on_progress: ProgressCallback | None = None,
    features: bool = False,
) -> Path:
    """Generate and write a whole dataset in this process; returns the manifest path.

    shards may reorder the work (the bytes do not change); every shard must be written once.
    features adds features/part-<shard> (69 features per transaction) beside each transactions part.
    While shard k is written on a background thread, shard k+1 is generated: at most two
    shards are in memory, whatever the count.
    """
    plan = GenerationPlan(params)
    writer = DatasetWriter(out, fmt)
    order = list(range(plan.n_shards)) if shards is None else list(shards)
    if sorted(order) != list(range(plan.n_shards)):
        raise ValueError(f"shards must be a permutation of 0..{plan.n_shards - 1}")
    files = start_dataset(plan, writer)
    pending: Future[list[FileEntry]] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synfinance-writer") as pool:
        for shard in order:
            output = build_shard(plan, shard, features)
            if pending is not None:
                files.extend(_done(pending, on_progress))
            pending = pool.submit(write_shard, writer, output)
        if pending is not None:
            files.extend(_done(pending, on_progress))
    return finish_dataset(plan, writer, files, features)


def _done(pending: Future[list[FileEntry]], on_progress: ProgressCallback | None) -> list[FileEntry]:
    entries = pending.result()
    if on_progress is not None:
        on_progress(entries[0].rows)
    return entries
