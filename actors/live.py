"""Live configuration across a running service: one hub per app or run, a follower in every process.

The process that watches the configuration files (`api start`, a `generate` driver) holds a ConfigHub named
after its app and publishes every valid change to it (the whole Settings and its version). Every replica and
actor of that app runs a Follower: a daemon thread that long-polls the hub (it answers when a newer version
is published, or after `POLL_S` with the same one) and hands each newer version to the component's apply
function, which swaps in what can change without a restart. A process with no hub (an app deployed with
`serve deploy`, which has no watcher) keeps the settings it started with and looks for a hub again later.

    publisher = Publisher(watcher, "synfinance")        # the watching process: its hub, fed by the watcher
    Follower(hub_name("synfinance"), version, apply, "ingress").start()                   # each component
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator

import ray

from actors.handles import ConfigHubHandle
from synfinance.errors import ActorDied, ActorRestarting
from synfinance.observability import metrics
from synfinance.observability.logs import get_logger
from synfinance.settings.loader import LoadedConfig
from synfinance.settings.models import Settings
from synfinance.settings.watch import ConfigWatcher, ReloadResult

POLL_S = 10.0  # longest a follower's call waits at the hub before asking again
LOOKUP_S = 2.0  # how often a follower without a hub looks for one
log = get_logger("synfinance.live")
Apply = Callable[[Settings, str], None]  # (settings, version): swap in what can change live


def hub_name(app: str) -> str:
    return f"synfinance-config:{app}"


@ray.remote(num_cpus=0)
class ConfigHub:
    """The configuration in force for one app or run; `newer` answers as soon as a newer one is published."""

    def __init__(self, version: str, settings: Settings) -> None:
        self.version, self.settings = version, settings
        self._published = asyncio.Event()

    async def publish(self, version: str, settings: Settings) -> None:
        self.version, self.settings = version, settings
        self._published.set()
        self._published = asyncio.Event()  # waiters hold the set one; later waiters get a fresh one

    async def newer(self, version: str, wait_s: float) -> tuple[str, Settings]:
        """(version, settings) in force: at once if they differ from `version`, else when published or after
        wait_s."""
        if version == self.version:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._published.wait(), wait_s)
        return self.version, self.settings


class Publisher:
    """Keeps app's hub in step with a ConfigWatcher: a change of live keys only is published at once (from the
    watcher's thread); any other applied change sets `pending` for the owner to redeploy (then `publish`);
    a refused one is counted. on_published(version) hears every publication."""

    def __init__(self, watcher: ConfigWatcher, app: str, on_published: Callable[[str], None] | None = None) -> None:
        self.watcher, self.on_published = watcher, on_published
        current = watcher.current
        self.hub = ConfigHubHandle.create(ConfigHub, hub_name(app), current.version, current.settings)
        self.pending = threading.Event()
        watcher.observe(self._reloaded)

    def _reloaded(self, result: ReloadResult) -> None:
        if not result.applied:
            metrics.CONFIG_RELOADS.labels("driver", "refused").inc()
        elif result.changed_paths and result.live:
            self.publish()
        elif result.changed_paths:
            self.pending.set()

    def publish(self) -> None:
        current = self.watcher.current
        self.hub.publish(current.version, current.settings)
        if self.on_published is not None:
            self.on_published(current.version)

    def stop(self) -> None:
        self.hub.stop()


class Follower:
    """Applies every newer version published to hub `name` in this process (component names the metric)."""

    def __init__(self, name: str, version: str, apply: Apply, component: str) -> None:
        self.name, self.version, self.apply, self.component = name, version, apply, component
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"synfinance-live-{component}", daemon=True)

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        hub: ConfigHubHandle | None = None
        while not self._stop.is_set():
            if hub is None:
                hub = ConfigHubHandle.find(self.name)
                if hub is None:
                    self._stop.wait(LOOKUP_S)
                    continue
            try:
                version, settings = hub.newer(self.version, POLL_S)
            except (ActorDied, ActorRestarting):
                hub = None  # its driver went away (or it is restarting): look for one again
                continue
            if version != self.version:
                self._apply(version, settings)

    def _apply(self, version: str, settings: Settings) -> None:
        self.version = version  # applied or not, not tried again until a newer version comes
        try:
            self.apply(settings, version)
        except Exception as exc:  # the old settings stay in force in this process; said loudly, counted
            log.exception("security.config_refused", component=self.component, version=version, reason=str(exc))
            metrics.CONFIG_RELOADS.labels(self.component, "failed").inc()
            return
        metrics.CONFIG_RELOADS.labels(self.component, "applied").inc()
        log.info("config.applied", component=self.component, version=version)


def follow(live: tuple[str, str] | None, apply: Apply, component: str) -> None:
    """Apply live configuration changes published to a hub: live is (hub name, version started with); None: none."""
    if live is not None:
        Follower(live[0], live[1], apply, component).start()


@contextlib.contextmanager
def watched_run(load: Callable[[], LoadedConfig], on_live: Apply) -> Iterator[tuple[str, str]]:
    """A pipeline run that follows the configuration files: yields the `live` (hub, version) its actors follow;
    a change of live keys is published to them and handed to on_live (the driver's own); any other change is
    logged as applying from the next run. Ray must be connected."""
    with ConfigWatcher(load) as watcher:
        app = f"pipeline-{uuid.uuid4().hex[:12]}"
        publisher = Publisher(watcher, app, lambda version: on_live(watcher.settings, version))

        def next_run(result: ReloadResult) -> None:
            if publisher.pending.is_set():  # set by the publisher for a change that is not all live
                publisher.pending.clear()
                log.warning("config.next_run", keys=result.changed_paths, reason="not live: applies from the next run")

        watcher.observe(next_run)
        try:
            yield hub_name(app), watcher.current.version
        finally:
            publisher.stop()
