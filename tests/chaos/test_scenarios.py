"""The chaos scenarios of chaos/scenarios/ against a local stack: each verdict must pass. A bounded set runs in
`make test`; the rest are marked soak (run with `-m soak`, or `synfinance chaos run NAME`)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from examples import example

from chaos.run import Verdict, run
from chaos.scenario import load_scenario, names
from chaos.stack import Stack
from synfinance.cli import main

pytestmark = [pytest.mark.postgres, pytest.mark.ray]
# The default suite runs a bounded set: the database down while serving (failing and recovering calls under
# load), a killed pipeline worker, a full disk. The others (killed replicas and shards, a cut database under a
# load or a sink, latency, memory pressure) are slow by nature and run with -m soak.
BOUNDED = ("db-down-serving", "worker-kill", "disk-full")
SOAK = tuple(n for n in names() if n not in BOUNDED)


def table(verdict: Verdict) -> str:
    return "\n".join(f"  {what}: {value}" for what, value in verdict.rows())


@pytest.mark.parametrize("name", BOUNDED)
def test_scenario(stack: Stack, name: str) -> None:
    verdict = run(load_scenario(name), stack, name)
    assert verdict.passed, f"{name} failed:\n{table(verdict)}"


@pytest.mark.soak
@pytest.mark.parametrize("name", SOAK)
def test_soak_scenario(stack: Stack, name: str) -> None:
    verdict = run(load_scenario(name), stack, name)
    assert verdict.passed, f"{name} failed:\n{table(verdict)}"


def test_every_scenario_is_run_by_a_test() -> None:
    assert set(BOUNDED) | set(SOAK) == set(names()) and set(BOUNDED) <= set(names())


@pytest.mark.soak  # the command builds a whole stack of its own (Ray, Serve, PostgreSQL schema) for one scenario
def test_the_chaos_run_example_prints_a_passing_verdict(pg_url: str) -> None:
    done = CliRunner().invoke(main, [*example("chaos", "run"), "--json"], env={"SYNFINANCE_DATABASE__URL": pg_url})
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["passed"] is True
