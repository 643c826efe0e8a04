"""`synfinance db ...` end to end against the real PostgreSQL, and its one-line errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pg_schemas import schema_name

from synfinance.cli import main
from synfinance.store.connect import Database
from synfinance.store.migrations import discover

pytestmark = pytest.mark.postgres


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def schemas(pg_url: str) -> Iterator[list[str]]:
    names = [schema_name("cli"), schema_name("cli")]
    yield names

    async def drop() -> None:
        for name in names:
            await Database(pg_url, name).drop_schema()

    asyncio.run(drop())


def test_migrate_load_backup_restore(schemas: list[str], dataset_dir: Path, tmp_path: Path) -> None:
    source, target = schemas
    code, out, err = run("db", "--schema", source, "migrate")
    assert code == 0, err
    assert "applied 0001_core" in out
    code, out, _ = run("db", "--schema", source, "status")
    assert "pending" not in out and "applied" in out

    code, out, err = run("db", "--schema", source, "load", "--in", str(dataset_dir), "--no-analyze")
    assert code == 0, err
    assert "bulk" in out
    code, out, err = run("db", "--schema", source, "load", "--in", str(dataset_dir), "--no-analyze")
    assert code == 0, err
    assert "incremental" in out

    code, out, err = run("db", "--schema", source, "backup", "--out", str(tmp_path / "bk"))
    assert code == 0, err
    code, out, err = run("db", "--schema", target, "restore", "--in", str(tmp_path / "bk"))
    assert code == 0, err
    assert "transactions" in out

    code, out, err = run("db", "--schema", target, "rollback", "--steps", "1")
    assert code == 0, err
    assert f"rolled back {discover()[-1].label}" in out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("postgresql://postgres@127.0.0.1:1/test", "127.0.0.1:1/test: connection refused",
                     id="refused"),
        pytest.param("postgresql://no_such_role@127.0.0.1:5432/test", "authentication failed", id="bad-user"),
        pytest.param("postgresql://postgres@127.0.0.1:5432/no_such_db", "database does not exist", id="bad-db"),
        pytest.param("mysql://127.0.0.1/test", "database.url", id="not-postgres"),
    ],
)
def test_connection_problems_are_one_line(url: str, message: str) -> None:
    code, out, err = run("db", "status", env={"SYNFINANCE_DATABASE__URL": url})
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err + out


def test_bad_schema_name_is_refused_before_connecting() -> None:
    code, _, err = run("db", "--schema", "x; DROP TABLE t", "status")
    assert code == 2
    assert "database.schema_name" in err
