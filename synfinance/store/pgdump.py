"""The pg_dump / pg_restore alternative for backup and restore, when the client tools are installed.

The connection goes to the tools through PG* environment variables, so a password never appears in a
process listing. A pg_dump backup restores into a schema of the same name that does not exist yet.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from synfinance.errors import OutputError, SchemaError, StoreUnavailable
from synfinance.output.files import atomic_path, sha256_file
from synfinance.store.connect import Database

MANIFEST = "backup.json"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StoreUnavailable(f"{name} is not installed (apt-get install postgresql-client); "
                               "use the default Parquet backup instead")
    return path


def _environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    env = dict(os.environ)
    env.update({"PGHOST": parts.hostname or "localhost", "PGPORT": str(parts.port or 5432),
                "PGDATABASE": unquote(parts.path.lstrip("/")) or "postgres"})
    if parts.username:
        env["PGUSER"] = unquote(parts.username)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


def _run(db: Database, args: list[str]) -> None:
    done = subprocess.run(args, env=_environment(db.url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise StoreUnavailable(f"{Path(args[0]).name} against {db.where}: {message}")


def dump(db: Database, out: Path) -> dict[str, Any]:
    """pg_dump the schema (custom format) into out/<schema>.pgdump plus backup.json."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"--out: {out} exists and is not an empty directory")
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{db.schema}.pgdump"
    _run(db, [_tool("pg_dump"), "--format=custom", "--no-owner", f"--schema={db.schema}", f"--file={target}"])
    manifest = {"method": "pg_dump", "schema": db.schema, "file": target.name, "sha256": sha256_file(target),
                "created_at": dt.datetime.now(dt.UTC).isoformat(), "source": db.where}
    with atomic_path(out / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def restore_dump(db: Database, source: Path, manifest: dict[str, Any]) -> None:
    """pg_restore a dump in one transaction; the schema must carry the dumped name and not exist yet."""
    if manifest["schema"] != db.schema:
        raise SchemaError(f"restore: this pg_dump backup holds schema {manifest['schema']!r}; pg_restore "
                          f"cannot rename it to {db.schema!r} (use --schema {manifest['schema']} on a fresh database, "
                          "or a Parquet backup)")
    file = Path(source) / manifest["file"]
    if not file.is_file() or sha256_file(file) != manifest["sha256"]:
        raise SchemaError(f"--in: {file} is missing or does not match the manifest's sha256")
    _run(db, [_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",
              f"--dbname={_environment(db.url)['PGDATABASE']}", str(file)])
