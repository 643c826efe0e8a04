"""`synfinance db ...`: migrations, bulk load, backup and restore against the configured PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from synfinance.cli.conventions import Section, quiet, result, working
from synfinance.output.dataset import read_manifest
from synfinance.resilience import RetryPolicy
from synfinance.settings import load_settings
from synfinance.store.backup import backup, restore
from synfinance.store.connect import Database
from synfinance.store.load import LOAD_WORKERS, analyze_schema, load_dataset
from synfinance.store.migrations import MIGRATIONS_DIR, MigrationRunner, with_runner
from synfinance.store.pgdump import dump

T = TypeVar("T")
MIGRATIONS = click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
                          default=MIGRATIONS_DIR, show_default="SynFinance's own migrations/",
                          help="Directory of NNNN_name.up/down.sql files.")


def _database(schema: str | None) -> Database:
    overrides = {} if schema is None else {"database.schema_name": schema}
    return Database.from_config(load_settings(overrides=overrides).settings.database)


def _with_runner(schema: str | None, directory: Path, work: Callable[[MigrationRunner], Awaitable[T]]) -> T:
    return asyncio.run(with_runner(_database(schema), work, directory))


@click.group(cls=Section)
@click.option("--schema", default=None, help="PostgreSQL schema [default: database.schema_name].")
@click.pass_context
def db(ctx: click.Context, schema: str | None) -> None:
    """PostgreSQL: migrate, load datasets, back up and restore."""
    ctx.obj = {"schema": schema}


def _each(migrations: list[Any], done: str, none: str) -> None:
    """One line per migration applied or undone, or one saying there was none."""
    labels = [m.label for m in migrations]
    result({done.replace(" ", "_"): labels}, "\n".join(f"{done} {label}" for label in labels) or none)



@db.command("migrate", example="synfinance db migrate")
@click.option("--to", "to", type=int, default=None, help="Stop at this version [default: the latest].")
@MIGRATIONS
@click.pass_obj
def migrate_cmd(obj: dict[str, Any], to: int | None, directory: Path) -> None:
    """Apply pending migrations, each in its own transaction."""
    _each(_with_runner(obj["schema"], directory, lambda r: r.migrate(to)), "applied",
          "nothing to apply: the schema is up to date")


@db.command("rollback", example="synfinance db rollback --steps 1")
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True, help="Migrations to undo.")
@MIGRATIONS
@click.pass_obj
def rollback_cmd(obj: dict[str, Any], steps: int, directory: Path) -> None:
    """Undo the most recent migrations, newest first."""
    _each(_with_runner(obj["schema"], directory, lambda r: r.rollback(steps)), "rolled back", "nothing to roll back")


@db.command("status", example="synfinance db status")
@MIGRATIONS
@click.pass_obj
def status_cmd(obj: dict[str, Any], directory: Path) -> None:
    """Every migration and whether it is applied, pending, changed since it ran, or missing."""
    states = _with_runner(obj["schema"], directory, lambda r: r.status())
    table = Table("version", "name", "state", "applied at (UTC)")
    for s in states:
        when = s.applied_at.strftime("%Y-%m-%d %H:%M:%S") if s.applied_at else ""
        style = {"applied": "green", "pending": "yellow"}.get(s.state, "bold red")
        table.add_row(f"{s.version:04d}", s.name, f"[{style}]{s.state}[/]", when)
    result({"migrations": [{"version": s.version, "name": s.name, "state": s.state,
                            "applied_at": s.applied_at.isoformat() if s.applied_at else None} for s in states]},
           lambda: Console().print(table))


@db.command("load", example="synfinance db load --in dataset")
@click.option("--in", "source", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="A dataset directory written by `synfinance generate transactions`.")
@click.option("--workers", type=click.IntRange(1, 16), default=LOAD_WORKERS, show_default=True,
              help="Concurrent connections.")
@click.option("--analyze/--no-analyze", default=True, show_default=True, help="Refresh planner statistics after.")
@click.pass_obj
def load_cmd(obj: dict[str, Any], source: Path, workers: int, analyze: bool) -> None:
    """Load a generated dataset idempotently (loading it twice inserts nothing the second time)."""
    total = sum(int(f["rows"]) for f in read_manifest(source)["files"] if f["path"].startswith("transactions/"))
    db_ = _database(obj["schema"])
    console = Console(stderr=True, quiet=quiet())
    with Progress(TextColumn("[bold]loading"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("load", total=total)
        retry = RetryPolicy.from_config(load_settings().settings.database.bulk_retry)
        report = asyncio.run(load_dataset(db_, source, workers, lambda n: progress.advance(task, n), retry=retry))
    analyze_s = asyncio.run(_analyze(db_)) if analyze else None
    table = Table("table", "offered", "inserted", title=f"loaded into {db_.where}")
    for name, offered in report.offered.rows.items():
        table.add_row(name, f"{offered:,}", f"{report.inserted.rows.get(name, 0):,}")
    rate = report.offered.rows.get("transactions", 0) / max(report.seconds, 1e-9)
    mode = "bulk (indexes rebuilt after)" if report.bulk else "incremental"

    def human() -> None:
        Console().print(table)
        click.echo(f"{report.seconds:.1f} s, {rate:,.0f} transactions/s, {mode}"
                   + (f"; ANALYZE {analyze_s:.1f} s" if analyze_s is not None else ""))

    result({"where": db_.where, "offered": report.offered.rows, "inserted": report.inserted.rows,
            "seconds": round(report.seconds, 3), "transactions_per_s": round(rate), "bulk": report.bulk,
            "analyze_seconds": analyze_s}, human)


async def _analyze(db_: Database) -> float:
    started = time.perf_counter()
    conn = await db_.connect(bulk=True)
    try:
        await analyze_schema(conn)
    finally:
        await conn.close()
    return time.perf_counter() - started


@db.command("backup", example="synfinance db backup --out backup")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New or empty directory.")
@click.option("--pg-dump", "use_pg_dump", is_flag=True, help="Use pg_dump (custom format) instead of Parquet.")
@click.pass_obj
def backup_cmd(obj: dict[str, Any], out: Path, use_pg_dump: bool) -> None:
    """Write every table to Parquet with a manifest of row counts and sha256 (one consistent snapshot)."""
    with working("backing up"):
        if use_pg_dump:
            dumped = dump(_database(obj["schema"]), out)
        else:
            manifest = asyncio.run(backup(_database(obj["schema"]), out))
    if use_pg_dump:
        result({"method": "pg_dump", "source": dumped["source"], "path": str(out / dumped["file"])},
               f"pg_dump of {dumped['source']} in {out / dumped['file']}")
        return
    _counts(f"backup of {manifest['source']} in {out}", {k: v["rows"] for k, v in manifest["tables"].items()})


@db.command("restore", example="synfinance db --schema restored restore --in backup")
@click.option("--in", "source", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="A directory written by `synfinance db backup`.")
@click.pass_obj
def restore_cmd(obj: dict[str, Any], source: Path) -> None:
    """Restore a backup into an empty schema, in one transaction, checking every row count."""
    db_ = _database(obj["schema"])
    with working("restoring"):
        counts = asyncio.run(restore(db_, source))
    _counts(f"restored into {db_.where}", counts)


def _counts(title: str, counts: dict[str, int]) -> None:
    table = Table("table", "rows", title=title)
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    result({"title": title, "rows": counts}, lambda: Console().print(table))
