"""Every command's --help: it renders at 80 columns and ends with a worked example, and that example runs.

Most examples run here, in order, in one scratch directory (what one writes, the next reads: `dataset`, `models`,
`backup`), each with --json where the command prints a result, whose stdout must parse as one JSON document.
Examples that need a service run where that service is started (ELSEWHERE), through `examples.example(...)`;
a test below holds that each of those files does run them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from examples import commands, example, example_lines, help_text

from synfinance.cli import main
from synfinance.store.connect import Database

REPO = Path(__file__).resolve().parents[2]

# (command path, extra arguments the run needs here: none change what the example does)
HERE: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("generate", "transactions"), ()), (("generate", "customers"), ()), (("generate", "merchants"), ()),
    (("generate", "features"), ()), (("generate", "report"), ()),
    # before a model is registered: a model trained on 20,000 rows would fail the quality gates on recall
    (("quality", "run"), ()), (("quality", "baseline"), ()), (("quality", "history"), ()),
    (("model", "train"), ()), (("model", "evaluate"), ()), (("model", "optimize"), ()), (("model", "deploy"), ()),
    (("model", "list"), ()), (("model", "predict"), ()), (("model", "novelty"), ()), (("model", "shadow"), ()),
    (("model", "promote"), ()), (("model", "rollback"), ()), (("model", "guard"), ()),
    (("patterns", "report"), ()), (("calibration", "report"), ()), (("debug", "inspect", "transaction"), ()),
    (("debug", "profile"), ()),
    (("config", "validate"), ()), (("config", "show"), ()), (("config", "export"), ()), (("config", "set"), ()),
    (("config", "import"), ()), (("config", "diff"), ()),
    (("db", "migrate"), ()), (("db", "status"), ()), (("db", "load"), ()), (("db", "backup"), ()),
    (("db", "restore"), ()), (("db", "rollback"), ()),
    (("stream",), ()), (("chaos", "list"), ()),
]
ELSEWHERE = {
    ("bench", "generate"): "tests/cli/test_bench_and_docs_cli.py",
    ("bench", "features"): "tests/cli/test_bench_and_docs_cli.py",
    ("bench", "db"): "tests/cli/test_bench_and_docs_cli.py",
    ("bench", "pipeline"): "tests/cli/test_bench_and_docs_cli.py",  # soak: three Ray pipelines, three times
    ("bench", "quality"): "tests/cli/test_bench_and_docs_cli.py",
    ("bench", "model"): "tests/cli/test_bench_and_docs_cli.py",
    ("bench", "api"): "tests/cli/test_bench_and_docs_cli.py",  # soak: minutes of Serve load
    ("debug", "inspect", "trace"): "tests/cli/test_debug_cli.py",  # the trace id is one this test records
    ("api", "start"): "tests/cli/test_api_cli.py", ("api", "status"): "tests/cli/test_api_cli.py",
    ("api", "stop"): "tests/cli/test_api_cli.py", ("api", "score"): "tests/cli/test_api_cli.py",
    ("cache", "stats"): "tests/cli/test_api_cli.py", ("cache", "warm"): "tests/cli/test_api_cli.py",
    ("cache", "clear"): "tests/cli/test_api_cli.py", ("health", "check"): "tests/cli/test_api_cli.py",
    ("metrics", "export"): "tests/cli/test_api_cli.py",
    ("monitor", "install"): "tests/monitoring/test_stack_cli.py",
    ("monitor", "up"): "tests/monitoring/test_stack_cli.py",
    ("monitor", "status"): "tests/monitoring/test_stack_cli.py",
    ("monitor", "snapshot"): "tests/monitoring/test_stack_cli.py",
    ("monitor", "down"): "tests/monitoring/test_stack_cli.py",
    ("chaos", "run"): "tests/chaos/test_scenarios.py",  # soak: builds a whole stack
    ("shell",): "tests/cli/test_shell.py",
    ("docs", "build"): "scripts/test",  # the suite's own freshness check, before pytest
}
RESTORED_SCHEMA = "restored"  # the `db restore` example's
# exit 1 is a verdict of these, not a failure: a fraud type one feature catches, a figure outside its tolerance
# (small data make both likelier)
VERDICTS = {("patterns", "report"), ("calibration", "report")}


def test_every_command_has_help_at_80_columns_with_a_runnable_example() -> None:
    for path, command in commands():
        text = help_text(*path)
        wide = [line for line in text.splitlines() if len(line) > 80]
        assert not wide, f"{' '.join(path)} --help is wider than 80 columns: {wide}"
        lines = example_lines(*path)
        assert lines and all(line.startswith("synfinance " + " ".join(path)) or "synfinance db" in line
                             for line in lines), f"{' '.join(path)}: no example of itself in --help: {lines}"
        assert ("--json" in text) == (getattr(command, "output", "") != "data"), path


def test_every_example_is_run_here_or_by_the_test_of_its_service() -> None:
    every = {path for path, _ in commands()}
    here = {path for path, _ in HERE}
    assert here | set(ELSEWHERE) == every and not here & set(ELSEWHERE)
    for path, test_file in ELSEWHERE.items():
        source = (REPO / test_file).read_text()
        call = "example(" + ", ".join(f'"{p}"' for p in path) + ")"
        as_written = example_lines(*path)[0].replace("synfinance ", ".venv/bin/synfinance ", 1)
        assert call in source or as_written in source, (
            f"{test_file} does not run the example of {' '.join(path)} ({call} or `{as_written}`)")


def drop_schema(url: str, name: str) -> None:
    asyncio.run(Database(url, name).drop_schema())


@pytest.mark.postgres
@pytest.mark.slow
def test_the_examples_run_and_their_json_parses(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    schema = f"examples_{tmp_path.name[-8:].replace('-', '_')}"
    for name, value in {"SYNFINANCE_CONFIG_DIR": str(tmp_path / "config"), "SYNFINANCE_DATABASE__URL": pg_url,
                        "SYNFINANCE_DATABASE__SCHEMA_NAME": schema, "SYNFINANCE_ENV": "test"}.items():
        monkeypatch.setenv(name, value)
    drop_schema(pg_url, RESTORED_SCHEMA)
    try:
        for path, extra in HERE:
            args = example(*path)
            command = dict(commands())[path]
            as_json = getattr(command, "output", "") != "data" and path != ("debug", "profile")
            if path == ("debug", "profile"):  # its JSON goes before the profiled command
                args = [*args[:2], "--json", *args[2:]]
            done = CliRunner().invoke(main, [*args, *extra, *(["--json"] if as_json else [])])
            assert done.exit_code in ((0, 1) if path in VERDICTS else (0,)), (
                f"{' '.join(args)}: exit {done.exit_code}\n{done.stderr}\n{done.stdout[-2000:]}")
            if as_json or path == ("debug", "profile"):
                try:
                    json.loads(done.stdout)
                except ValueError as exc:
                    raise AssertionError(f"{' '.join(args)} --json printed more than one JSON document: "
                                         f"{done.stdout[:500]!r}") from exc
        written = ["dataset/manifest.json", "customers.parquet", "merchants.csv", "dataset-report.html",
                   "models", "evaluation/index.html", "scores/predictions.parquet", "quality-report/index.html",
                   "baseline/baseline.json", "settings.yaml", "backup", "stream.jsonl", "profiled/manifest.json"]
        assert [w for w in written if not (tmp_path / w).exists()] == []
    finally:
        drop_schema(pg_url, RESTORED_SCHEMA)
        drop_schema(pg_url, schema)


def test_the_cli_reference_holds_nothing_of_this_machine() -> None:
    from synfinance.cli.reference import render_cli

    page = render_cli()
    assert str(REPO) not in page and str(Path.home()) not in page
