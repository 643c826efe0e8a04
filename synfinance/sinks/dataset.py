"""A dataset directory: Parquet (or CSV, JSON Lines) part files per shard, the population, a manifest last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import synfinance
from synfinance.features.dataset import manifest_features
from synfinance.output.dataset import FEATURES, PREDICTIONS, DatasetWriter, FileEntry, part_name
from synfinance.output.formats import SUFFIX
from synfinance.schema import SCHEMA_VERSION, SCHEMAS, fingerprint
from synfinance.sinks.base import ShardOutput
from synfinance.world.plan import GenerationPlan


def manifest_for(plan: GenerationPlan) -> dict[str, Any]:
    """Everything about a run except its files: enough to reproduce it."""
    p = plan.params
    return {
        "synfinance_version": synfinance.__version__,
        "schema_version": SCHEMA_VERSION,
        "schema_fingerprints": {name: fingerprint(s) for name, s in SCHEMAS.items()},
        "seed": p.seed,
        "parameters": p.to_json(),
        "prevalence": p.prevalence() if p.patterns else None,
        "counts": {
            "transactions": p.count, "customers": p.customers, "merchants": p.merchants, "shards": plan.n_shards,
        },
    }


class DatasetSink:
    kind = "dataset"
    travels = True

    def __init__(self, out: Path, fmt: str = "parquet", scored_by: dict[str, Any] | None = None) -> None:
        """scored_by: the score stage's model (version, policy), recorded in the manifest."""
        self.writer = DatasetWriter(Path(out), fmt)  # checks the format at once
        self.plan: GenerationPlan | None = None
        self.scored_by = scored_by

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "plan": None}  # a sink actor only writes shards: no need to ship the plan

    def open(self, plan: GenerationPlan) -> list[FileEntry]:
        """Create the layout, withdraw any earlier manifest, write customers and merchants."""
        self.plan = plan
        self.writer.prepare()
        suffix = SUFFIX[self.writer.fmt]
        return [self.writer.write(f"customers{suffix}", plan.customers.table),
                self.writer.write(f"merchants{suffix}", plan.merchants.table)]

    def write(self, output: ShardOutput) -> list[FileEntry]:
        """The shard's part files, replacing any earlier attempt's atomically."""
        entries = [self.writer.write_part(output.shard, output.transactions)]
        for folder, table in ((FEATURES, output.features), (PREDICTIONS, output.predictions)):
            if table is not None:
                entries.append(self.writer.write(part_name(output.shard, self.writer.fmt, folder), table))
        return entries

    def close(self, entries: list[FileEntry]) -> Path:
        """The manifest, written last; returns its path."""
        assert self.plan is not None, "open() first"
        manifest = manifest_for(self.plan)
        if any(e.path.startswith(f"{FEATURES}/") for e in entries):
            manifest["features"] = manifest_features()
        if self.scored_by is not None and any(e.path.startswith(f"{PREDICTIONS}/") for e in entries):
            manifest["predictions"] = self.scored_by
        return self.writer.finish(manifest, entries)
