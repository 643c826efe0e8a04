"""The CLI's error contract across every group: bad input exits 2 with one `error:` line naming what was wrong and
nothing on stdout; an unforeseen failure exits 1 with one line, its traceback only under --debug."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from synfinance.cli import main
from synfinance.cli.errors import Group

# (group, arguments, words the one line must hold): a representative bad input per group
BAD = [
    ("generate", "generate transactions --count -5", "--count"),
    ("generate", "generate report --in {data} --out report.pdf", "--out"),
    ("stream", "stream --rate -1 --duration 1", "--rate"),
    ("model", "model train --data {nowhere}", "no manifest.json"),
    ("api", "api start --port 0", "--port"),
    ("db", "db rollback --steps 0", "--steps"),
    ("config", "config show --section nope", "--section"),
    ("monitor", "monitor snapshot --dashboard nope --out snap", "--dashboard"),
    ("quality", "quality run --count 5", "--count"),
    ("chaos", "chaos run no-such-scenario", "db-down-serving"),
    ("health", "health check --route nope", "--route"),
    ("cache", "cache clear --no-features", "nothing to clear"),
    ("debug", "debug profile", "a synfinance command after --"),
    ("bench", "bench generate --runs 1", "--runs"),
    ("docs", "docs build --bogus", "--bogus"),
    ("metrics", "metrics export --out x.prom --format xml", "--format"),
    ("patterns", "patterns report --in {nowhere}", "no manifest.json"),
    ("calibration", "calibration report --in {nowhere}", "no manifest.json"),
    ("shell", "shell extra", "extra"),
    ("(top)", "nosuch", "No such command"),
    ("(top)", "generate report --in {damaged} --out r.html", "not valid JSON"),
]


def groups() -> set[str]:
    return set(main.commands)


def test_the_table_covers_every_group() -> None:
    assert {group for group, _, _ in BAD} - {"(top)"} == groups()


@pytest.mark.parametrize(("group", "line", "named"), BAD, ids=[b[1] for b in BAD])
def test_bad_input_is_one_line_and_exit_2(group: str, line: str, named: str, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "manifest.json").write_text("{not json")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "manifest.json").write_text("{}")
    args = line.format(data=tmp_path / "data", nowhere=tmp_path / "nowhere", damaged=damaged).split()
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 2, (done.exit_code, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], lines
    assert "Traceback" not in done.stderr


def failing_group() -> Group:
    group = Group(name="synfinance")

    @group.command("explode")
    def explode() -> None:
        raise RuntimeError("the disk caught fire")

    group.params.extend(p for p in main.params if p.name == "debug")  # the real --debug option
    return group


def test_an_unforeseen_error_is_one_line_and_exit_1_with_its_traceback_under_debug(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNFINANCE_DEBUG", raising=False)
    group = failing_group()
    done = CliRunner().invoke(group, ["explode"])
    assert done.exit_code == 1
    assert done.stderr.splitlines() == [
        "error: RuntimeError: the disk caught fire (run with --debug for the traceback)"]
    debugged = CliRunner().invoke(group, ["--debug", "explode"])
    assert debugged.exit_code == 1
    assert "Traceback (most recent call last)" in debugged.stderr and 'raise RuntimeError("the disk caught fire")' \
        in debugged.stderr
    assert debugged.stderr.splitlines()[-1] == "error: RuntimeError: the disk caught fire"
    again = CliRunner().invoke(group, ["explode"])  # --debug was for that run only (the shell runs many)
    assert "Traceback" not in again.stderr
