"""Live configuration on a running app with two ingress replicas: a key limit that holds across replicas,
key rotation through the configuration files, a re-chosen decision rule, and a refused edit.

The app follows the configuration the way `synfinance api start` runs it: a ConfigWatcher on a config
directory of the test's own, a Publisher feeding the app's hub, a Follower in every replica.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from api_app import Api
from localhost import free_port, wait_for
from promtext import series

from actors.live import Publisher
from synfinance.observability import metrics
from synfinance.settings import load_settings
from synfinance.settings.watch import ConfigWatcher

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"
APP = "live"
RATE, BURST = 20.0, 5  # the limited key: 20 requests/s, 5 at once
KEYS = {"steady": "live-steady-0c1d2e", "old": "live-old-3f4a5b", "new": "live-new-6c7d8e",
        "limited": "live-limited-9f0a1b"}


def config_text(keys: list[str], review_rate: float = 0.01, requests_per_s: float = RATE) -> str:
    return yaml.safe_dump({
        "security": {
            "api_keys": [{"name": n, "key": KEYS[n], "scopes": ["read"]} for n in keys],
            "rate_limit": {"requests_per_s": 100_000, "burst": 100_000},
            "rate_limits": {"limited": {"requests_per_s": requests_per_s, "burst": BURST}}},
        "ml": {"review_rate": review_rate}})


@dataclass
class LiveApp:
    base: str
    config: Path
    watcher: ConfigWatcher
    publisher: Publisher

    def get(self, path: str, who: str) -> requests.Response:
        return requests.get(self.base + path, headers={"X-API-Key": KEYS[who]}, timeout=30)

    def edit(self, text: str) -> str:
        """Write test.yaml; the configuration version it makes, once the watcher has it."""
        before = self.watcher.reloads
        (self.config / "test.yaml").write_text(text)
        assert self.watcher.wait_until(lambda w: w.reloads > before), "the watcher did not see the edit"
        return self.watcher.current.version

    def versions_served(self, n: int = 12) -> set[str]:
        """config_version of /health over n requests (spread over the replicas)."""
        return {requests.get(self.base + "/health", timeout=30).json()["config_version"] for _ in range(n)}


@pytest.fixture(scope="module")
def live(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    from ray import serve

    from serve.builder import build_app

    config = tmp_path_factory.mktemp("live-config")
    shutil.copytree(REPO_CONFIG, config, dirs_exist_ok=True)
    (config / "test.yaml").write_text(config_text(["steady", "old", "limited"]))
    overrides = {"server.port": free_port(), "server.replicas": 2, "server.feature_store": "shards",
                 "server.feature_shards": 1, "ml.registry_path": str(api.models)}
    watcher = ConfigWatcher(lambda: load_settings(env="test", config_dir=config, env_file=config / "absent.env",
                                                  environ={}, overrides=overrides)).start()
    publisher = Publisher(watcher, APP)
    loaded = watcher.current
    serve.run(build_app(loaded.settings, loaded.version, APP), name=APP, route_prefix=f"/{APP}")
    app = LiveApp(f"{api.base}/{APP}", config, watcher, publisher)
    wait_for(lambda: app.get("/v1/model", "steady").status_code == 200, what="the live app")
    yield app
    serve.delete(APP)
    publisher.stop()
    watcher.stop()


def hammer(app: LiveApp, who: str, seconds: float, threads: int = 8) -> tuple[Counter[int], float]:
    """Requests as fast as `threads` clients can send for `seconds`: answers by status, and the time taken."""
    stop = threading.Event()

    def client() -> Counter[int]:
        seen: Counter[int] = Counter()
        with requests.Session() as session:
            while not stop.is_set():
                seen[session.get(app.base + "/v1/model", headers={"X-API-Key": KEYS[who]}, timeout=30).status_code] += 1
        return seen

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(client) for _ in range(threads)]
        stop.wait(seconds)
        stop.set()
        total = sum((f.result() for f in futures), Counter())
    return total, time.monotonic() - started


def test_a_key_limit_holds_across_two_replicas(live: LiveApp) -> None:
    answers, seconds = hammer(live, "limited", 10.0)
    allowed = BURST + RATE * seconds  # one bucket: its burst, then the rate (two buckets would allow twice)
    assert answers[429] > answers[200], answers  # the clients asked for far more than the limit
    assert abs(answers[200] - allowed) <= 0.1 * allowed, (answers, seconds, allowed)
    assert set(answers) == {200, 429}, answers


def test_a_rotated_key_takes_effect_while_other_keys_keep_working(live: LiveApp) -> None:
    failures: list[int] = []
    stop = threading.Event()

    def steady() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                status = session.get(live.base + "/v1/model", headers={"X-API-Key": KEYS["steady"]},
                                     timeout=30).status_code
                if status != 200:
                    failures.append(status)

    background = threading.Thread(target=steady)
    background.start()
    try:
        assert live.get("/v1/model", "new").status_code == 401
        version = live.edit(config_text(["steady", "new", "limited"]))  # "old" revoked, "new" added
        wait_for(lambda: all(live.get("/v1/model", "new").status_code == 200 for _ in range(6))
                 and all(live.get("/v1/model", "old").status_code == 401 for _ in range(6)),
                 timeout_s=5, what="the rotated keys on every replica")
        wait_for(lambda: live.versions_served() == {version}, timeout_s=5, what="/health to show the new version")
    finally:
        stop.set()
        background.join()
        live.edit(config_text(["steady", "old", "limited"]))
    assert failures == []


def test_a_changed_decision_rule_is_applied_in_place(live: LiveApp) -> None:
    before = live.get("/v1/model", "steady").json()["policy"]
    try:
        live.edit(config_text(["steady", "old", "limited"], review_rate=0.03))
        wait_for(lambda: live.get("/v1/model", "steady").json()["policy"]["review_rate"] == 0.03, timeout_s=10,
                 what="the re-chosen policy")
        after = live.get("/v1/model", "steady").json()["policy"]
        assert after["review_at"] < before["review_at"]  # a bigger review budget reaches lower scores
    finally:
        live.edit(config_text(["steady", "old", "limited"]))
    wait_for(lambda: live.get("/v1/model", "steady").json()["policy"] == before, timeout_s=10,
             what="the policy back as it was")


def test_an_invalid_edit_is_refused_counted_and_the_old_configuration_kept(live: LiveApp) -> None:
    version = live.watcher.current.version
    text = config_text(["steady", "old", "limited"]).replace("requests_per_s: 20.0", "requests_per_s: -1")
    assert "requests_per_s: -1" in text
    counted = refusals()
    assert live.edit(text) == version  # refused: the version in force stays
    wait_for(lambda: refusals() == counted + 1, timeout_s=10, what="the refusal to be counted")
    assert live.versions_served() == {version}
    assert live.get("/v1/model", "old").status_code == 200
    live.edit(config_text(["steady", "old", "limited"]))


def test_a_change_that_needs_new_replicas_is_left_for_a_redeploy(live: LiveApp) -> None:
    version = live.watcher.current.version
    live.publisher.pending.clear()
    try:
        live.edit(config_text(["steady", "old", "limited"]) + "server:\n  max_request_bytes: 2048000\n")
        assert live.publisher.pending.is_set()
        assert live.versions_served() == {version}  # not published: the replicas keep what they run
    finally:
        live.edit(config_text(["steady", "old", "limited"]))
        live.publisher.pending.clear()


def refusals() -> float:
    """synfinance_config_reloads_total{component="driver",outcome="refused"} of this (the watching) process: in its
    own registry, or at Ray's metrics agent once an earlier test installed Ray's backend here (a pipeline driver)."""
    from actors.metrics import cluster_page

    labels = {"component": "driver", "outcome": "refused"}
    local = metrics.prometheus().registry.get_sample_value("synfinance_config_reloads_total", labels) or 0.0
    return float(local) + series(cluster_page().decode(), "synfinance_config_reloads_total", **labels)
