"""The monitoring configuration checked by Prometheus's own tools, and every name it uses defined."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from synfinance.errors import ParameterError
from synfinance.monitor.dashboards import DASHBOARDS, DATASOURCE_UID, rendered
from synfinance.monitor.names import undefined
from synfinance.monitor.stack import Stack
from synfinance.observability.metrics import CATALOGUE, Metric

ROOT = Path(__file__).resolve().parents[2] / "monitoring"
PROM = ROOT / "prometheus"
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None and os.environ.get("CI") != "true",
                                    reason="promtool missing: run `synfinance monitor install`")


def run(*command: str, cwd: Path = PROM) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


@needs_promtool
def test_prometheus_config_and_rules_pass_promtool() -> None:
    for command in (("promtool", "check", "config", "prometheus.yml"),
                    ("promtool", "check", "rules", "recording_rules.yml", "alerts.yml"),
                    ("promtool", "test", "rules", "tests/alerts_test.yml")):
        done = run(*command)
        assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
@pytest.mark.parametrize(("interval_s", "every", "ray"), [(1, "1s", "5s"), (0.5, "500ms", "5s"), (15, "15s", "15s")])
def test_a_stacks_rendered_config_passes_promtool_and_gives_rays_slow_agents_time(
        tmp_path: Path, interval_s: float, every: str, ray: str) -> None:
    """Ray's agents took over a second to answer late in a loaded suite: a 1 s timeout emptied every panel."""
    stack = Stack(tmp_path, scrape_interval_s=interval_s)
    stack.render()
    config = yaml.safe_load((stack.config_dir / "prometheus.yml").read_text())
    assert config["global"] == {"scrape_interval": every, "evaluation_interval": every}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert (jobs["ray"]["scrape_interval"], jobs["ray"]["scrape_timeout"]) == (ray, ray)
    assert "scrape_timeout" not in jobs["node"]  # the others keep the global interval
    done = run("promtool", "check", "config", "prometheus.yml", cwd=stack.config_dir)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_stack_refuses_a_zero_interval(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="scrape_interval: expected a duration above 0 s, got 0"):
        Stack(tmp_path, scrape_interval_s=0).render()
    assert not (tmp_path / "config" / "prometheus.yml").exists()


@needs_promtool
def test_alertmanager_config_passes_amtool() -> None:
    done = run("amtool", "check-config", str(ROOT / "alertmanager" / "alertmanager.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_a_broken_alert_fails_its_unit_test(tmp_path: Path) -> None:
    """The unit tests would catch a wrong threshold: the error-rate alert at 50 % no longer fires on 9 %."""
    for name in ("recording_rules.yml", "alerts.yml"):
        shutil.copy(PROM / name, tmp_path / name)
    (tmp_path / "tests").mkdir()
    shutil.copy(PROM / "tests" / "alerts_test.yml", tmp_path / "tests" / "alerts_test.yml")
    alerts = tmp_path / "alerts.yml"
    alerts.write_text(alerts.read_text().replace("synfinance:http_server_errors:ratio_rate5m > 0.05",
                                                 "synfinance:http_server_errors:ratio_rate5m > 0.5"))
    done = run("promtool", "test", "rules", "tests/alerts_test.yml", cwd=tmp_path)
    assert done.returncode != 0 and "SynFinanceHighErrorRate" in done.stdout + done.stderr


def rules() -> list[dict]:
    return [rule for name in ("recording_rules.yml", "alerts.yml")
            for group in yaml.safe_load((PROM / name).read_text())["groups"] for rule in group["rules"]]


def test_every_alert_has_severity_summary_description_and_a_runbook_section() -> None:
    alerts = [r for r in rules() if "alert" in r]
    assert len(alerts) >= 12
    runbook = (Path(__file__).resolve().parents[2] / "docs" / "operations" / "RUNBOOK.md").read_text().lower()
    for alert in alerts:
        assert alert["labels"]["severity"] in ("critical", "warning"), alert["alert"]
        assert alert["annotations"]["summary"] and alert["annotations"]["description"], alert["alert"]
        anchor = alert["annotations"]["runbook_url"].split("#")[1]
        assert anchor == alert["alert"].lower() and f"## {alert['alert'].lower()}" in runbook, alert["alert"]
    assert {a["labels"]["severity"] for a in alerts} == {"critical", "warning"}


def test_every_name_in_dashboards_rules_and_alerts_is_defined() -> None:
    recorded = [r["record"] for r in rules() if "record" in r]
    exprs = [r["expr"] for r in rules()] + [q.expr for b in DASHBOARDS for p in b.panels for q in p.queries]
    assert {e: undefined(e, recorded) for e in exprs if undefined(e, recorded)} == {}
    # and the check would see a name that is not: a typo, a counter without _total, a rule never recorded
    assert undefined("rate(synfinance_http_request_total[5m])", recorded) == ["synfinance_http_request_total"]
    assert undefined("synfinance_scores", recorded) == ["synfinance_scores"]
    assert undefined("synfinance:nope:ratio", recorded) == ["synfinance:nope:ratio"]


def test_the_catalogue_has_at_least_25_metrics_each_named_once_with_bounded_labels() -> None:
    assert len(CATALOGUE) >= 25
    assert len({m.name for m in CATALOGUE}) == len(CATALOGUE)
    assert all(m.name.startswith("synfinance_") and m.help and m.unit for m in CATALOGUE)
    enumerated = Metric("synfinance_test", "counter", "things", "A test.",
                        (CATALOGUE[0].labels_[0], *[lb for m in CATALOGUE for lb in m.labels_ if lb.name == "kind"]))
    with pytest.raises(ValueError, match="kind is one of"):
        enumerated._check(("/v1/score", "teapot"))
    with pytest.raises(ValueError, match="labels"):
        enumerated._check(("/v1/score",))


def test_dashboards_are_seven_with_the_provisioned_datasource() -> None:
    uids = {b.uid for b in DASHBOARDS}
    assert {"fraud-detection-overview", "api-performance", "data-quality", "system-health",
            "ml-model-performance", "ray-pipeline", "campaigns-and-models"} <= uids
    for name, text in rendered().items():
        board = json.loads(text)
        assert board["uid"] == name.removesuffix(".json") and board["panels"]
        assert {p["datasource"]["uid"] for p in board["panels"]} == {DATASOURCE_UID}
        assert all(t["expr"] for p in board["panels"] for t in p["targets"])
    provisioned = yaml.safe_load((ROOT / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert provisioned["datasources"][0]["uid"] == DATASOURCE_UID
