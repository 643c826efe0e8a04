"""The local monitoring stack: Prometheus, Alertmanager, Pushgateway and node exporter from Debian's packages,
configured from monitoring/ and run as background processes whose pids live in a state directory.

    stack = Stack(Path(".synfinance/monitor"), Ports(), scrape_interval_s=5)
    stack.up()          # installs the packages when missing (root), renders the configs, starts, waits ready
    stack.status()      # each component: running?, ready?, its URL
    stack.down()

The configs are the repository's (monitoring/prometheus/*.yml, monitoring/alertmanager/alertmanager.yml) with
this stack's addresses, intervals and webhook filled in; Ray's metrics agents are found through Ray's own
service-discovery file and, when no Ray dashboard writes one, through `ray_targets.json` (write_ray_targets).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from synfinance._bundled import resource_dir
from synfinance.errors import OutputError, ParameterError, StoreUnavailable

MONITORING = resource_dir("monitoring")
RAY_SD_FILE = Path("/tmp/ray/prom_metrics_service_discovery.json")  # where Ray's dashboard writes its targets
# Ray's metrics agents answer a scrape slowly (0.1-0.6 s for ~3,000 samples on a busy 2-core machine, more as a
# long-lived cluster accumulates series): their job is never scraped more often, nor given less time, than this
RAY_SCRAPE_MIN_S = 5.0
# component -> its binary, which is also the name of the Debian package that installs it
BINARIES = {"prometheus": "prometheus", "alertmanager": "prometheus-alertmanager",
            "pushgateway": "prometheus-pushgateway", "node_exporter": "prometheus-node-exporter"}
READY_PATH = {"prometheus": "/-/ready", "alertmanager": "/-/ready", "pushgateway": "/-/ready",
              "node_exporter": "/metrics"}


@dataclass(frozen=True)
class Ports:
    prometheus: int = 9090
    alertmanager: int = 9093
    pushgateway: int = 9091
    node_exporter: int = 9100

    def url(self, component: str) -> str:
        return f"http://127.0.0.1:{getattr(self, component)}"


def missing_packages() -> list[str]:
    return [binary for binary in BINARIES.values() if shutil.which(binary) is None]


def install_packages() -> list[str]:
    """apt-get install what is missing (root only); OutputError saying how otherwise. Returns what was installed."""
    missing = missing_packages()
    if not missing:
        return []
    command = ["apt-get", "install", "-y", "-qq", *missing]
    if os.geteuid() != 0:
        raise OutputError(f"the monitoring stack needs {', '.join(missing)}: run `sudo {' '.join(command[:3])} "
                          f"{' '.join(missing)}`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise OutputError(f"apt-get install {' '.join(missing)} failed: {done.stderr.strip()[-500:]}")
    return missing


def write_ray_targets(path: Path, targets: list[str]) -> None:
    """Ray's metrics agents (host:port) in Prometheus's file_sd format, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([{"labels": {"job": "ray"}, "targets": sorted(targets)}]))
    tmp.replace(path)


@dataclass
class Stack:
    root: Path
    ports: Ports = field(default_factory=Ports)
    scrape_interval_s: float = 15.0  # scrapes and rule evaluations (Ray's agents: at least RAY_SCRAPE_MIN_S)
    webhook: str | None = None  # every alert route's receiver; None keeps alertmanager.yml's

    def __post_init__(self) -> None:
        if not self.scrape_interval_s > 0:
            raise ParameterError.single("scrape_interval", self.scrape_interval_s, "a duration above 0 s")

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def ray_targets(self) -> Path:
        return self.root / "ray_targets.json"

    def render(self) -> None:
        """Write this stack's copies of the configuration."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for name in ("recording_rules.yml", "alerts.yml"):
            shutil.copyfile(MONITORING / "prometheus" / name, self.config_dir / name)
        prom = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
        interval = _duration(self.scrape_interval_s)
        prom["global"] = {"scrape_interval": interval, "evaluation_interval": interval}
        prom["rule_files"] = [str(self.config_dir / n) for n in ("recording_rules.yml", "alerts.yml")]
        prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [self._addr("alertmanager")]
        targets = {"pushgateway": "pushgateway", "node": "node_exporter", "prometheus": "prometheus"}
        for job in prom["scrape_configs"]:
            if job["job_name"] == "ray":
                job["file_sd_configs"][0]["files"] = [str(RAY_SD_FILE), str(self.ray_targets)]
                job["scrape_interval"] = job["scrape_timeout"] = _duration(max(self.scrape_interval_s,
                                                                               RAY_SCRAPE_MIN_S))
            elif job["job_name"] in targets:
                job["static_configs"][0]["targets"] = [self._addr(targets[job["job_name"]])]
        (self.config_dir / "prometheus.yml").write_text(yaml.safe_dump(prom, sort_keys=False))
        manager = yaml.safe_load((MONITORING / "alertmanager" / "alertmanager.yml").read_text())
        if self.webhook is not None:
            for receiver in manager["receivers"]:
                for hook in receiver.get("webhook_configs", []):
                    hook["url"] = self.webhook
        (self.config_dir / "alertmanager.yml").write_text(yaml.safe_dump(manager, sort_keys=False))
        if not self.ray_targets.exists():
            write_ray_targets(self.ray_targets, [])

    def _addr(self, component: str) -> str:
        return f"127.0.0.1:{getattr(self.ports, component)}"

    def _command(self, component: str) -> list[str]:
        listen = f"--web.listen-address={self._addr(component)}"
        data = self.root / "data" / component
        if component == "prometheus":
            return [BINARIES[component], f"--config.file={self.config_dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={data}", listen, "--web.enable-lifecycle"]
        if component == "alertmanager":
            return [BINARIES[component], f"--config.file={self.config_dir / 'alertmanager.yml'}",
                    f"--storage.path={data}", listen, "--cluster.listen-address="]
        return [BINARIES[component], listen]  # the Pushgateway and node exporter need only their address

    def _state(self) -> dict[str, Any]:
        path = self.root / "state.json"
        return dict(json.loads(path.read_text())) if path.is_file() else {}

    def _save(self, state: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "state.json").write_text(json.dumps(state, indent=2))

    def up(self, timeout_s: float = 30.0) -> dict[str, str]:
        """Start every component not running yet; returns component -> URL. Nothing half-started stays behind."""
        install_packages()
        self.render()
        state = self._state()
        started: list[str] = []
        try:
            for component in BINARIES:
                if _alive(state.get(component, {}).get("pid")):
                    continue
                (self.root / "logs").mkdir(parents=True, exist_ok=True)
                pid = _spawn(self._command(component), self.root / "logs" / f"{component}.log")
                state[component] = {"pid": pid, "url": self.ports.url(component)}
                started.append(component)
                self._save(state)
            for component in started:
                self._wait_ready(component, state[component]["pid"], timeout_s)
            if "prometheus" not in started or "alertmanager" not in started:
                self._reload([c for c in ("prometheus", "alertmanager") if c not in started])
        except BaseException:
            for component in started:
                _stop(state.pop(component)["pid"])
            self._save(state)
            raise
        return {c: s["url"] for c, s in state.items()}

    def _wait_ready(self, component: str, pid: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        url = self.ports.url(component) + READY_PATH[component]
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            if _answers(url):
                return
            time.sleep(0.1)
        log = self.root / "logs" / f"{component}.log"
        tail = log.read_text(errors="replace")[-800:] if log.is_file() else ""
        raise StoreUnavailable(f"{component} did not become ready at {url} within {timeout_s:.0f} s: {tail}")

    def status(self) -> list[dict[str, Any]]:
        state = self._state()
        rows = []
        for component in BINARIES:
            pid = state.get(component, {}).get("pid")
            url = self.ports.url(component)
            rows.append({"component": component, "pid": pid, "running": _alive(pid), "url": url,
                         "ready": _answers(url + READY_PATH[component])})
        return rows

    def _reload(self, components: list[str]) -> None:
        """Make running components read the configs just rendered (a second `up` with another webhook)."""
        for component in components:
            request = urllib.request.Request(self.ports.url(component) + "/-/reload", method="POST")
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (our own local process)
                pass

    def down(self) -> list[str]:
        """Stop what this stack started; returns the components stopped."""
        state = self._state()
        stopped = [c for c, s in state.items() if _stop(s.get("pid"))]
        self._save({})
        return stopped


def _spawn(command: list[str], log: Path) -> int:
    """Start a long-lived process in its own session, output to log; its pid (no Popen object: the process is
    meant to outlive this one, and `monitor down` stops it by pid)."""
    binary = shutil.which(command[0])
    if binary is None:
        raise OutputError(f"{command[0]} is not installed: run `synfinance monitor install`")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        return os.posix_spawn(binary, command, dict(os.environ), setsid=True, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)])
    finally:
        os.close(fd)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie child of this process counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _duration(seconds: float) -> str:
    """Seconds as a Prometheus duration ('15s', '1500ms')."""
    return f"{seconds:g}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def _stop(pid: int | None, timeout_s: float = 10.0) -> bool:
    if not _alive(pid):
        return False
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reap it when it is this process's child
        os.waitpid(pid, os.WNOHANG)
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own local process)
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False
