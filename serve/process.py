"""Running the API as a process: in the foreground, or detached with a state file that `status` and `stop` read.

    python -m serve.process --port 8000      # what `synfinance api start --detach` runs in the background
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from synfinance.errors import OutputError
from synfinance.settings import load_settings

RELOAD_POLL_S = 0.5  # how often the serving loop looks for an applied configuration change


def state_dir() -> Path:
    """server.state_dir: the detached API's pid, URL and log."""
    return Path(load_settings().settings.server.state_dir)


def state_file() -> Path:
    return state_dir() / "api.json"


def log_file() -> Path:
    return state_dir() / "api.log"


def serve_forever(port: int | None = None, stop: threading.Event | None = None) -> None:
    """Start Ray (local unless ray.address is set), Serve and the app; block until SIGTERM/SIGINT or `stop`.

    The configuration files are watched (`synfinance config set` edits them). A valid change whose keys are
    all live (settings.models.LIVE: keys, rate limits, log level, sampling, decision rule, retry and breaker)
    is published to the app's config hub and applied in place by every replica within a second or so; any
    other change redeploys the app (Serve replaces the replicas); restart-only keys keep their running values
    and are logged. An invalid change is refused, logged (security.config_refused) and counted
    (synfinance_config_reloads{outcome="refused"}); the app keeps the settings it had. `/health` shows the
    configuration version in force.
    """
    from actors.handles import deploy, serving, session
    from actors.live import Publisher
    from actors.metrics import install
    from serve.builder import APP_NAME, build_app
    from synfinance.observability import metrics
    from synfinance.settings.watch import ConfigWatcher

    overrides = {"server.port": port} if port else None
    watcher = ConfigWatcher(lambda: load_settings(overrides=overrides))
    loaded = watcher.current
    server = loaded.settings.server
    stop = stop or threading.Event()
    state = Path(server.state_dir) / "api.json"
    started_at = time.time()

    def published(version: str) -> None:
        _write_state(state, server.host, server.port, version, started_at)
        print(f"configuration {version} in force", flush=True)

    with session(loaded.settings.ray):
        install("driver", loaded.settings.monitoring)
        # after Ray starts: a local Ray installs a SIGTERM handler that kills its processes and exits at
        # once, which skipped serve.shutdown/ray.shutdown and left its dashboard and runtime-env agents behind
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            with serving(server.host, server.port), watcher:
                publisher = Publisher(watcher, APP_NAME, published)
                deploy(build_app(loaded.settings, loaded.version), APP_NAME)
                _write_state(state, server.host, server.port, loaded.version, started_at)
                print(f"SynFinance API at http://{server.host}:{server.port} (docs at /docs); Ctrl-C stops it",
                      flush=True)
                while not stop.wait(RELOAD_POLL_S):
                    if publisher.pending.is_set():
                        publisher.pending.clear()
                        current = watcher.current
                        deploy(build_app(current.settings, current.version), APP_NAME)
                        metrics.CONFIG_RELOADS.labels("driver", "redeployed").inc()
                        publisher.publish()
        finally:
            state.unlink(missing_ok=True)


def _write_state(state: Path, host: str, port: int, config_version: str, started_at: float) -> None:
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"pid": os.getpid(), "url": f"http://{host}:{port}",
                                 "config_version": config_version, "started_at": started_at}))


def start_detached(port: int | None, timeout_s: float = 300) -> dict[str, Any]:
    """Run serve_forever in a new session in the background; return once /health/live answers."""
    if (current := status())["running"]:
        raise OutputError(f"the API is running already at {current['url']} (pid {current['pid']}); "
                          "`synfinance api stop` first")
    state, log_path = state_file(), log_file()
    state.parent.mkdir(parents=True, exist_ok=True)
    state.unlink(missing_ok=True)
    args = [sys.executable, "-m", "serve.process"] + (["--port", str(port)] if port else [])
    with log_path.open("ab") as log:
        child = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise OutputError(f"the API exited with code {child.returncode} while starting; see {log_path}")
        if state.is_file() and status(health=False).get("live"):
            return status()
        time.sleep(0.5)
    child.terminate()
    raise OutputError(f"the API did not answer within {timeout_s:.0f} s; see {log_path}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(health: bool = True) -> dict[str, Any]:
    """What the state file says, whether that process lives, and (with health) the API's /health if it answers."""
    path = state_file()
    if not path.is_file():
        return {"running": False}
    state = json.loads(path.read_text())
    if not _alive(state["pid"]):
        return {"running": False, "stale_state": str(path)}
    try:
        live = requests.get(state["url"] + "/health/live", timeout=5).status_code == 200
        report = requests.get(state["url"] + "/health", timeout=30).json() if health else None
    except requests.RequestException as exc:
        return {**state, "running": True, "live": False, "error": str(exc)}
    return {**state, "running": True, "live": live, **({"health": report} if health else {})}


def stop(timeout_s: float = 120) -> dict[str, Any]:
    """SIGTERM the detached API and wait for it to shut Serve and Ray down."""
    current = status()
    if not current["running"]:
        state_file().unlink(missing_ok=True)
        return current
    os.kill(current["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(current["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(current["pid"]):
        raise OutputError(f"the API (pid {current['pid']}) did not stop within {timeout_s:.0f} s")
    state_file().unlink(missing_ok=True)
    return {"running": False, "stopped_pid": current["pid"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the SynFinance API until SIGTERM.")
    parser.add_argument("--port", type=int, default=None)
    serve_forever(parser.parse_args().port)
