"""The environment a Ray started by SynFinance inherits: HAProxy's stats and metrics frontends on ports of its own."""

from __future__ import annotations

import os

import pytest
import ray
from localhost import held_ports

from actors.handles import CHOSEN, HAPROXY_PORTS, local_ray_env


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in HAPROXY_PORTS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(CHOSEN + name, raising=False)
    return monkeypatch


def test_unset_ports_get_free_ports_of_their_own(clean: pytest.MonkeyPatch) -> None:
    with held_ports(0, also=(8404, 9101)):  # Ray's defaults, taken by another Serve's HAProxy
        local_ray_env()
        ports = [int(os.environ[name]) for name in HAPROXY_PORTS]
        assert len(set(ports)) == 2 and not set(ports) & {8404, 9101}
        assert [os.environ[CHOSEN + name] for name in HAPROXY_PORTS] == list(map(str, ports))


def test_ports_inherited_from_a_synfinance_process_are_chosen_again(clean: pytest.MonkeyPatch) -> None:
    with held_ports(2) as inherited:  # the parent's HAProxy holds them
        for name, port in zip(HAPROXY_PORTS, inherited, strict=True):
            clean.setenv(name, str(port))
            clean.setenv(CHOSEN + name, str(port))
        local_ray_env()
        again = [int(os.environ[name]) for name in HAPROXY_PORTS]
    assert not set(again) & set(inherited)


def test_ports_set_by_hand_are_kept(clean: pytest.MonkeyPatch) -> None:
    clean.setenv(HAPROXY_PORTS[0], "18404")
    clean.setenv(HAPROXY_PORTS[1], "19101")
    clean.setenv(CHOSEN + HAPROXY_PORTS[1], "29101")  # a choice overridden by hand since
    local_ray_env()
    assert [os.environ[name] for name in HAPROXY_PORTS] == ["18404", "19101"]


def test_a_worker_runs_at_the_priority_of_the_process_that_started_ray(ray_session: None) -> None:
    # Ray starts workers at nice 15 unless told otherwise; its metrics agent then takes a serving replica's core.
    @ray.remote(num_cpus=0)
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, 0)

    assert ray.get(niceness.remote()) == os.getpriority(os.PRIO_PROCESS, 0)
