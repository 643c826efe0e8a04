"""`synfinance monitor up | status | snapshot | down` with the real Debian binaries, and a Pushgateway push."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from examples import example
from localhost import free_port, wait_for

from synfinance.cli import main
from synfinance.errors import StoreUnavailable
from synfinance.monitor.prom import Prometheus
from synfinance.observability.metrics import QUALITY_SCORE, QUALITY_VIOLATIONS
from synfinance.observability.push import push_job

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None and os.environ.get("CI") != "true",
                                reason="the monitoring packages are missing: run `synfinance monitor install`")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_up_status_push_snapshot_down(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("prometheus", "alertmanager", "pushgateway", "node-exporter")}
    flags = [f"--{name}-port={port}" for name, port in ports.items()]
    where = ["--dir", str(tmp_path / "stack")]
    code, out = invoke(*example("monitor", "install"), "--json")  # installed already (scripts/monitoring)
    assert code == 0 and json.loads(out) == {"installed": []}, out
    # each command's --help example, kept off the machine's default ports and directory
    code, out = invoke(*example("monitor", "up"), *where, *flags, "--scrape-interval", "1s", "--json")
    try:
        assert code == 0, out
        assert json.loads(out)["urls"]["prometheus"] == f"http://127.0.0.1:{ports['prometheus']}"
        code, out = invoke(*example("monitor", "status"), *where, *flags, "--json")
        rows = json.loads(out)
        assert code == 0 and {r["component"] for r in rows if r["ready"]} == {
            "prometheus", "alertmanager", "pushgateway", "node_exporter"}
        code, again = invoke("monitor", "up", *where, *flags, "--scrape-interval", "1s")  # already up: no change
        assert code == 0 and json.loads(invoke("monitor", "status", *where, *flags, "--json")[1]) == rows

        push_job(f"http://127.0.0.1:{ports['pushgateway']}", "generate", rows=1234, seconds=2.5)
        push_job(f"http://127.0.0.1:{ports['pushgateway']}", "quality", rows=100, seconds=1.0,
                 labelled={(QUALITY_SCORE, ()): 97.5, (QUALITY_VIOLATIONS, ("warning",)): 2.0,
                           (QUALITY_VIOLATIONS, ("error",)): 0.0})
        prom = Prometheus(f"http://127.0.0.1:{ports['prometheus']}")
        wait_for(lambda: [r["value"][1] for r in prom.query('synfinance_job_rows{job="generate"}')] == ["1234"],
                 60, "the pushed job in Prometheus")
        wait_for(lambda: [r["value"][1] for r in prom.query('synfinance_quality_violations{severity="warning"}')]
                 == ["2"] and [r["value"][1] for r in prom.query("synfinance_quality_score")] == ["97.5"],
                 60, "the quality run's gauges in Prometheus")
        wait_for(lambda: prom.query("node_memory_MemTotal_bytes") != [], 60, "node exporter scraped")

        out_dir = tmp_path / "snap"
        code, out = invoke(*example("monitor", "snapshot"), "--since", "5m", "--out", str(out_dir), "--url", prom.url,
                           "--json")
        assert code == 0 and json.loads(out)["page"] == str(out_dir / "index.html"), out
        page = (out_dir / "index.html").read_text()
        assert page.count("<img") >= 1 and "Batch jobs: last run" not in page.split("class=empty")[-1]
        assert "no data in this range" in page  # nothing else ran: those panels say so
        assert list(out_dir.glob("panel-*.png"))
    finally:
        code, out = invoke(*example("monitor", "down"), *where, "--json")
    assert code == 0 and "prometheus" in json.loads(out)["stopped"]
    code, out = invoke("monitor", "status", *where, *flags)
    assert code == 1  # nothing ready any more


def test_snapshot_of_an_unknown_dashboard_names_the_choices(tmp_path: Path) -> None:
    code, out = invoke("monitor", "snapshot", "--dashboard", "nope", "--out", str(tmp_path))
    assert code == 2 and "dashboard" in out and "api-performance" in out


def test_a_gateway_that_does_not_answer_is_named() -> None:
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{(port := free_port())}"):
        push_job(f"http://127.0.0.1:{port}", "generate", rows=1, seconds=1.0)
