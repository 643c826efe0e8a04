"""The architecture's rules, held by real tools (import-linter, deptry, vulture) and an AST check for Ray calls;
each rule is also shown to fail on a deliberately bad change in a copy of the tree, so none is a check that
cannot fail."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("synfinance", "actors", "serve", "chaos")
CONTRACTS = {c["id"]: c["name"] for c in
             tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}
# per contract: a module and an import that breaks that contract and no other
BAD_IMPORTS = {
    "launchers": ("actors/handles.py", "import synfinance.cli"),
    "library": ("synfinance/runner.py", "import actors.handles"),
    "library-layers": ("synfinance/world/plan.py", "import synfinance.runner"),
    "ray": ("serve/edge.py", "import ray"),
    "postgres": ("synfinance/features/online.py", "import asyncpg"),
    "metrics": ("serve/ingress.py", "import prometheus_client"),
    "lightgbm": ("synfinance/features/online.py", "import lightgbm"),
    "http": ("synfinance/cli/api.py", "import fastapi"),
}
RAY_DOOR = Path("actors/handles.py")  # the one module that may call Ray


def run(tool: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(BIN), "PYTHONPATH": str(cwd), "HOME": str(cwd), "NO_COLOR": "1"}
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and the tools' configuration, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "vulture_whitelist.py", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def flat(text: str) -> str:
    """One line, without colour codes (deptry colours whatever NO_COLOR says)."""
    return re.sub(r"\s+", " ", re.sub(r"\x1b\[[0-9;]*m", "", text))


def test_every_contract_has_a_failing_case() -> None:
    assert set(BAD_IMPORTS) == set(CONTRACTS)


def test_the_tree_keeps_every_contract() -> None:
    result = run("lint-imports", ROOT, "--no-cache")
    assert result.returncode == 0, result.stdout
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize("contract", sorted(BAD_IMPORTS))
def test_each_contract_fails_on_a_bad_import(tree: Path, contract: str) -> None:
    module, line = BAD_IMPORTS[contract]
    append(tree / module, line)

    result = run("lint-imports", tree, "--no-cache")

    assert result.returncode == 1, result.stdout
    assert f"Contracts: {len(CONTRACTS) - 1} kept, 1 broken." in result.stdout
    assert f"{flat(CONTRACTS[contract])} BROKEN" in flat(result.stdout)


def test_dependencies_are_declared_and_used() -> None:
    result = run("deptry", ROOT, ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_deptry_fails_on_an_undeclared_import(tree: Path) -> None:
    append(tree / "synfinance/runner.py", "import idna")  # installed (with requests), never declared
    result = run("deptry", tree, ".")
    assert result.returncode == 1
    assert "DEP003 'idna' imported but it is a transitive dependency" in flat(result.stdout + result.stderr)


def test_no_dead_code() -> None:
    result = run("vulture", ROOT)
    assert result.returncode == 0, result.stdout


def test_vulture_fails_on_dead_code(tree: Path) -> None:
    append(tree / "synfinance/runner.py", "def forgotten_helper() -> int:\n    return 1")
    result = run("vulture", tree)
    assert result.returncode == 3
    assert "unused function 'forgotten_helper'" in result.stdout


def ray_calls(source: str) -> list[str]:
    """Calls that talk to Ray: `x.remote(...)`, `ray.get/wait/put/kill/init(...)`, `serve.run/start/shutdown(...)`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, owner = node.func.attr, node.func.value
        owner_name = owner.id if isinstance(owner, ast.Name) else None
        calls_actor = name == "remote" and owner_name != "ray"  # `@ray.remote` defines an actor; x.remote() calls one
        ray_api = owner_name == "ray" and name in {"get", "wait", "put", "kill", "init"}
        serve_api = owner_name == "serve" and name in {"run", "start", "shutdown", "get_deployment_actor"}
        if calls_actor or ray_api or serve_api:
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}")
    return found


def test_ray_is_called_only_through_the_handles_module() -> None:
    offenders = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative != RAY_DOOR and (calls := ray_calls(path.read_text())):
                offenders[str(relative)] = calls
    assert offenders == {}


@pytest.mark.parametrize("source", [
    pytest.param("worker.run.remote(3)", id="actor-call"),
    pytest.param("import ray\nray.get(ref)", id="ray-get"),
    pytest.param("from ray import serve\nserve.run(app)", id="serve-run"),
])
def test_the_ray_check_sees_a_call(source: str) -> None:
    assert ray_calls(source)
