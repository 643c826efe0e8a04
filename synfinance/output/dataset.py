"""The on-disk dataset: part files per shard, population tables, and a manifest written last.

    <out>/transactions/part-<shard>.<ext>
    <out>/features/part-<shard>.<ext>     (optional: 69 features per transaction, keyed by transaction_id)
    <out>/predictions/part-<shard>.<ext>  (optional: the model's prediction per transaction, PREDICTION_SCHEMA)
    <out>/customers.<ext>   <out>/merchants.<ext>
    <out>/manifest.json     (present only once every file listed in it is complete)
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from synfinance.errors import OutputError, SchemaError
from synfinance.output.files import atomic_path, sha256_file
from synfinance.output.formats import FORMATS, SUFFIX, read_table, write_table
from synfinance.schema import SCHEMAS

MANIFEST = "manifest.json"
PARTS = "transactions"
FEATURES = "features"
PREDICTIONS = "predictions"
PART_FOLDERS = (PARTS, FEATURES, PREDICTIONS)


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the dataset directory
    rows: int
    sha256: str


def part_name(shard: int, fmt: str, folder: str = PARTS) -> str:
    """transactions/part-00007.parquet, or the same part of another folder (features, predictions)."""
    return f"{folder}/part-{shard:05d}{SUFFIX[fmt]}"


def _is_dataset_entry(p: Path) -> bool:
    return p.name in (MANIFEST, *PART_FOLDERS) or p.name.startswith(".") or p.stem in ("customers", "merchants")


class DatasetWriter:
    """Writes one dataset directory; every file lands atomically, the manifest last."""

    def __init__(self, out: Path, fmt: str) -> None:
        if fmt not in FORMATS:
            raise OutputError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
        self.out, self.fmt = Path(out), fmt

    def check(self) -> None:
        """Fail before any work if the directory cannot hold a dataset. Writes nothing."""
        out = self.out
        if out.exists() and not out.is_dir():
            raise OutputError(f"--out: {out} exists and is not a directory")
        if out.is_dir():
            foreign = sorted(p.name for p in out.iterdir() if not _is_dataset_entry(p))
            if foreign:
                raise OutputError(
                    f"--out: {out} holds files that are not part of a SynFinance dataset ({', '.join(foreign[:3])}); "
                    "choose a new or empty directory"
                )
        parent = next((p for p in [out, *out.parents] if p.exists()), None)
        if parent is None or not parent.is_dir():
            raise OutputError(f"--out: cannot create {out}: {parent} is not a directory")
        probe = parent / f".synfinance-probe-{uuid.uuid4().hex[:8]}"
        try:
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise OutputError(f"--out: cannot write to {parent}: {exc.strerror}") from exc

    def prepare(self) -> None:
        """Create the layout and withdraw any previous manifest, so a half-done run never looks complete."""
        self.check()
        try:
            (self.out / PARTS).mkdir(parents=True, exist_ok=True)
            (self.out / FEATURES).mkdir(exist_ok=True)
            (self.out / PREDICTIONS).mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--out: cannot create {self.out}: {exc.strerror}") from exc
        with contextlib.suppress(FileNotFoundError):
            (self.out / MANIFEST).unlink()

    def write(self, relative: str, table: pa.Table) -> FileEntry:
        target = self.out / relative
        with atomic_path(target) as tmp:
            write_table(table, tmp, self.fmt)
            digest = sha256_file(tmp)
        return FileEntry(relative, table.num_rows, digest)

    def write_part(self, shard: int, table: pa.Table) -> FileEntry:
        return self.write(part_name(shard, self.fmt), table)

    def finish(self, manifest: dict[str, Any], files: list[FileEntry]) -> Path:
        """Drop files of earlier runs that this one did not write, then write the manifest."""
        keep = {f.path for f in files}
        parts = [p for folder in PART_FOLDERS if (self.out / folder).is_dir() for p in (self.out / folder).iterdir()]
        for stale in [*parts, *self.out.glob("customers.*"), *self.out.glob("merchants.*")]:
            rel = stale.relative_to(self.out).as_posix()
            if rel not in keep and not stale.name.startswith("."):
                stale.unlink()
        body = {**manifest, "format": self.fmt, "files": [asdict(f) for f in sorted(files, key=lambda f: f.path)]}
        target = self.out / MANIFEST
        with atomic_path(target) as tmp:
            tmp.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        return target


def read_manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise SchemaError(f"{out}: no {MANIFEST}; not a complete SynFinance dataset")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise SchemaError(f"{path} is not valid JSON ({exc}); the dataset is damaged") from None
    return manifest


def read_dataset(out: Path, verify: bool = True, only: tuple[str, ...] | None = None) -> dict[str, pa.Table]:
    """All tables of a complete dataset (or `only` those named); with verify, every file's sha256 is checked
    against the manifest."""
    out = Path(out)
    manifest = read_manifest(out)
    fmt = manifest["format"]
    parts: dict[str, list[pa.Table]] = {folder: [] for folder in PART_FOLDERS}
    tables: dict[str, pa.Table] = {}
    for entry in manifest["files"]:
        path = out / entry["path"]
        folder = entry["path"].split("/")[0]
        name = folder if folder in parts else Path(entry["path"]).stem
        if only is not None and name not in only:
            continue
        if verify and sha256_file(path) != entry["sha256"]:
            raise SchemaError(f"{path}: content does not match the manifest's sha256")
        table = read_table(path, fmt, SCHEMAS[name])
        if name in parts:
            parts[name].append(table)
        else:
            tables[name] = table
    for name, pieces in parts.items():
        if pieces or (name == PARTS and (only is None or name in only)):
            tables[name] = pa.concat_tables(pieces) if pieces else SCHEMAS[name].empty_table()
    return tables
