"""Serve autoscaling of the ingress with serve/config.yaml's settings, on one node with
replicas that ask for no CPU: a bounded load raises the ingress replicas above the minimum, they return to the
minimum after it, and no request fails during either transition. Only the delays are shortened (Serve's
defaults wait 30 s to scale up and 10 min to scale down)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
import yaml
from api_app import KEYS, Api, app_settings
from localhost import free_port, wait_for

from serve.bench import bodies, by_client

pytestmark = [pytest.mark.ray, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/scaling"
CLIENTS = 96  # concurrent single scores at the peak: 3 target loads of the minimum's 2 replicas x 16


def config_autoscaling() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "serve" / "config.yaml").read_text())
    (ingress,) = (d for d in config["applications"][0]["deployments"] if d["name"] == "Ingress")
    return dict(ingress["autoscaling_config"])


def running_replicas() -> int:
    from ray import serve

    status = serve.status().applications["scaling"].deployments["Ingress"]
    return int(status.replica_states.get("RUNNING", 0))


@pytest.fixture(scope="module")
def scaling(api: Api) -> Iterator[dict[str, Any]]:
    from ray import serve

    from serve.builder import build_app

    autoscaling = {**config_autoscaling(), "target_ongoing_requests": 16, "upscale_delay_s": 1,
                   "downscale_delay_s": 4, "look_back_period_s": 2, "metrics_interval_s": 0.5}
    loaded = app_settings(free_port(), api.models, {"server.warm_from": str(api.data),
                                                    "server.feature_store": "shards"})  # as serve/config.yaml's
    serve.run(build_app(loaded.settings, loaded.version, autoscaling=autoscaling), name="scaling",
              route_prefix=PREFIX)
    wait_for(lambda: requests.get(api.base + PREFIX + "/health/ready", timeout=10).status_code == 200,
             what="the scaling app")
    yield autoscaling
    serve.delete("scaling")


class Load:
    """Clients in a thread, each sending its customers' transactions in order until stopped: statuses counted."""

    def __init__(self, url: str, per_client: list[list[bytes]]) -> None:
        self.url, self.per_client = url, per_client
        self.statuses: dict[int, int] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        headers = {"X-API-Key": KEYS["scorer"][0], "Content-Type": "application/json"}

        async def client(bodies: list[bytes], session: aiohttp.ClientSession) -> None:
            for body in bodies:
                if self.stopping.is_set():
                    return
                async with session.post(self.url, data=body, headers=headers) as r:
                    await r.read()
                    self.statuses[r.status] = self.statuses.get(r.status, 0) + 1

        connector = aiohttp.TCPConnector(limit=len(self.per_client))
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
            await asyncio.gather(*(client(b, session) for b in self.per_client))

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()


@pytest.mark.soak  # slow by nature: replicas start under load, then the downscale delay passes
def test_ingress_replicas_follow_the_load_up_and_down_without_a_failed_request(api: Api,
                                                                              scaling: dict[str, Any]) -> None:
    low = scaling["min_replicas"]
    assert running_replicas() == low
    url = api.base + PREFIX + "/v1/score"
    groups = by_client(api.data, CLIENTS)
    seen = [low]
    with Load(url, bodies(groups, 1, 400)) as peak:
        wait_for(lambda: seen.append(running_replicas()) or seen[-1] > low, 120, "more ingress replicas under load")
        answered = sum(peak.statuses.values())
        wait_for(lambda: sum(peak.statuses.values()) > answered + 200, 60, "answers after the scale-up")
    # a trickle while the replicas go back down: none of its requests may fail either
    with Load(url, bodies(groups[:2], 2, 10_000)) as trickle:
        wait_for(lambda: seen.append(running_replicas()) or seen[-1] == low, 120, "the minimum again")
        answered = sum(trickle.statuses.values())
        wait_for(lambda: sum(trickle.statuses.values()) > answered + 20, 60, "answers after the scale-down")
    print("ingress replicas seen:", [n for i, n in enumerate(seen) if i == 0 or n != seen[i - 1]])
    assert max(seen) > low
    assert set(peak.statuses) == {200} and set(trickle.statuses) == {200}, (peak.statuses, trickle.statuses)
