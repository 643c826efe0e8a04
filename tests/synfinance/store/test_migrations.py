"""Migrations against the real server: up/down/up, racing runners, edited files, a failing statement."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from synfinance.errors import MigrationError
from synfinance.store.connect import Database
from synfinance.store.migrations import MIGRATIONS_DIR, MigrationRunner, discover, with_runner
from synfinance.store.sqlfile import split_statements

pytestmark = pytest.mark.postgres


async def _tables(db: Database) -> set[str]:
    conn = await db.connect()
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", db.schema)
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


async def _run(db: Database, directory: Path = MIGRATIONS_DIR, action: str = "migrate", **kw: int) -> list[str]:
    done = await with_runner(db, lambda runner: getattr(runner, action)(**kw), directory)
    return [m.label for m in done]


async def test_up_down_up_leaves_the_same_tables(empty_db: Database) -> None:
    every = [m.label for m in discover()]
    assert await _run(empty_db) == every
    tables = await _tables(empty_db)
    assert {"customers", "merchants", "transactions", "features", "predictions", "fraud_labels",
            "anomaly_labels", "schema_migrations"} <= tables
    assert "model_versions" not in tables  # dropped by 0004: nothing wrote it
    assert "quality_runs" in tables  # dropped by 0004, back with its writer in 0008

    assert await _run(empty_db, action="rollback", steps=len(every)) == every[::-1]
    assert await _tables(empty_db) == {"schema_migrations"}

    assert await _run(empty_db) == every
    assert await _tables(empty_db) == tables
    assert await _run(empty_db) == []  # nothing left to apply


async def test_migrate_to_a_version_then_the_rest(empty_db: Database) -> None:
    first = discover()[0]
    assert await _run(empty_db, to=first.version) == [first.label]
    conn = await empty_db.connect()
    try:
        states = await MigrationRunner(conn).status()
    finally:
        await conn.close()
    assert [s.state for s in states] == ["applied"] + ["pending"] * (len(states) - 1)
    assert len(await _run(empty_db)) == len(states) - 1


async def test_concurrent_runners_apply_each_migration_once(empty_db: Database) -> None:
    await empty_db.ensure_schema()
    results = await asyncio.gather(*(_run(empty_db) for _ in range(3)))
    every = [m.label for m in discover()]
    # exactly one runner applied everything; the others waited for the lock and found nothing to do
    assert sorted(results, key=len) == [[], [], every]
    conn = await empty_db.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(every)
    finally:
        await conn.close()


async def test_an_edited_applied_migration_stops_migrate(empty_db: Database, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    await _run(empty_db, directory)
    first = sorted(directory.glob("*.up.sql"))[0]
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(MigrationError, match=r"0001_core was edited after it was applied"):
        await _run(empty_db, directory)
    first.unlink()
    with pytest.raises(MigrationError, match=r"the \.up\.sql file is missing"):
        await _run(empty_db, directory)


async def test_a_failing_statement_rolls_the_migration_back_and_is_named(empty_db: Database,
                                                                          tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    (directory / "0099_broken.up.sql").write_text(
        "-- first statement works\nCREATE TABLE half_done (id int);\n\nINSERT INTO no_such_table VALUES (1);\n"
    )
    (directory / "0099_broken.down.sql").write_text("DROP TABLE half_done;\n")
    with pytest.raises(MigrationError, match=r"0099_broken\.up\.sql: statement 2 at line 4 failed.*"
                                             r"UndefinedTableError.*INSERT INTO no_such_table"):
        await _run(empty_db, directory)
    tables = await _tables(empty_db)
    assert "half_done" not in tables  # the migration's first statement was rolled back with it
    assert "customers" in tables  # the migrations before it stay applied
    conn = await empty_db.connect()
    try:
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == discover()[-1].version
    finally:
        await conn.close()


async def test_unknown_target_version_is_refused(empty_db: Database) -> None:
    with pytest.raises(MigrationError, match=r"--to: no migration has version 777"):
        await _run(empty_db, to=777)
    assert await _tables(empty_db) == set()  # refused before touching the schema


def test_discover_names_a_stray_file(tmp_path: Path) -> None:
    (tmp_path / "0001_ok.up.sql").write_text("SELECT 1;")
    (tmp_path / "0001_ok.down.sql").write_text("SELECT 1;")
    (tmp_path / "2_bad_name.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"2_bad_name\.sql: expected NNNN_name\.up\.sql"):
        discover(tmp_path)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        pytest.param("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"], id="two"),
        pytest.param("SELECT ';'; -- a ; comment\nSELECT 2", ["SELECT ';'", "-- a ; comment\nSELECT 2"], id="quotes"),
        pytest.param("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n/* ; */",
                     ["CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$"], id="dollar"),
        pytest.param("SELECT $tag$ a;b $tag$; SELECT 'it''s;'", ["SELECT $tag$ a;b $tag$", "SELECT 'it''s;'"],
                     id="tagged-dollar-and-doubled-quote"),
        pytest.param("-- only a comment;\n", [], id="comment-only"),
    ],
)
def test_split_statements(sql: str, expected: list[str]) -> None:
    assert [s.text for s in split_statements(sql)] == expected
