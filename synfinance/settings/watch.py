"""Hot reload: watch the active config files, validate a change, swap atomically, tell subscribers.

An invalid edit is logged and ignored (the previous config stays active). Fields marked
restart-only keep their running value; the change is reported as pending a restart. Fields marked
live (settings.models.LIVE) are what a running service applies in place: a ReloadResult says which key
paths changed and whether all of them are live (else the service must redeploy to apply them).
Observers (`observe`) hear every reload attempt, applied or refused (the service counts them in a metric).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import watchfiles
from pydantic import BaseModel

from synfinance.errors import ConfigError
from synfinance.settings.loader import LoadedConfig, content_version
from synfinance.settings.models import SECTIONS, Settings, live_paths, restart_only_paths

log = structlog.get_logger("synfinance.settings")
Subscriber = Callable[[BaseModel, BaseModel], None]  # (old section, new section)
Observer = Callable[["ReloadResult"], None]


@dataclass(frozen=True)
class ReloadResult:
    applied: bool
    version: str
    changed_sections: tuple[str, ...] = ()
    restart_required: tuple[str, ...] = ()  # key paths whose new value waits for a restart
    error: ConfigError | None = None
    changed_paths: tuple[str, ...] = ()  # dotted key paths whose value changed (and is applied)

    @property
    def live(self) -> bool:
        """Applied, and every changed key is one a running service applies in place."""
        return self.applied and all(is_live(p) for p in self.changed_paths)


def is_live(dotted: str) -> bool:
    parts = tuple(dotted.split("."))
    live = live_paths()
    return any(parts[:n] in live for n in range(1, len(parts) + 1))


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves that differ between two model_dump()s (a dict or list differs as a whole
    where its keys differ)."""
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        return [p for k in old for p in changed_paths(old[k], new[k], f"{prefix}.{k}" if prefix else k)]
    return [] if old == new else [prefix]


def _get(model: BaseModel, path: tuple[str, ...]) -> Any:
    value: Any = model
    for key in path:
        value = getattr(value, key)
    return value


def _with_values(settings: Settings, values: dict[tuple[str, ...], Any]) -> Settings:
    data = settings.model_dump()
    for path, value in values.items():
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return Settings.model_validate(data)


@dataclass
class ConfigWatcher:
    """Keeps `current` up to date with the files; `load` re-reads every layer (see load_settings)."""

    load: Callable[[], LoadedConfig]
    current: LoadedConfig = field(init=False)
    pending_restart: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        self.current = self.load()
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)
        self._observers: list[Observer] = []
        self._lock = threading.Lock()
        self._reloaded = threading.Condition()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0  # completed reload attempts, applied or not

    @property
    def settings(self) -> Settings:
        return self.current.settings

    def subscribe(self, section: str, callback: Subscriber) -> Callable[[], None]:
        """Call callback(old, new) whenever that section changes; returns an unsubscribe function."""
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}; expected one of {', '.join(SECTIONS)}")
        self._subscribers[section].append(callback)
        return lambda: self._subscribers[section].remove(callback)

    def observe(self, observer: Observer) -> None:
        """Call observer(result) after every reload attempt, applied or refused."""
        self._observers.append(observer)

    def reload(self) -> ReloadResult:
        """Load every layer again; apply it only if it is valid."""
        with self._lock:
            try:
                result = self._apply(self.load())
            except ConfigError as exc:
                log.warning("security.config_refused", reason=exc.lines(), kept_version=self.current.version)
                result = ReloadResult(False, self.current.version, error=exc)
            for observer in list(self._observers):
                try:
                    observer(result)
                except Exception:  # an observer's bug must not stop the watcher
                    log.exception("config_observer_failed")
            with self._reloaded:
                self.reloads += 1
                self._reloaded.notify_all()
            return result

    def wait_until(self, condition: Callable[[ConfigWatcher], bool], timeout_s: float = 10.0) -> bool:
        """Block until condition(watcher) holds, re-checking after every reload; False on timeout."""
        with self._reloaded:
            return self._reloaded.wait_for(lambda: condition(self), timeout=timeout_s)

    def _apply(self, fresh: LoadedConfig) -> ReloadResult:
        old = self.current.settings
        held = {p: _get(old, p) for p in restart_only_paths() if _get(fresh.settings, p) != _get(old, p)}
        settings = _with_values(fresh.settings, held) if held else fresh.settings
        restart = tuple(sorted(".".join(p) for p in held))
        if restart:
            log.warning("config_restart_required", keys=restart)
        changed = tuple(s for s in SECTIONS if getattr(old, s) != getattr(settings, s))
        paths = tuple(changed_paths(old.model_dump(), settings.model_dump()))
        self.current = LoadedConfig(
            settings, fresh.env, content_version(settings), fresh.loaded_at, fresh.files, fresh.provenance
        )
        self.pending_restart = restart
        log.info("security.config_changed", version=self.current.version, changed=changed, keys=paths)
        for section in changed:
            for callback in list(self._subscribers[section]):
                try:
                    callback(getattr(old, section), getattr(settings, section))
                except Exception:  # a subscriber's bug must not stop the others or the watcher
                    log.exception("config_subscriber_failed", section=section)
        return ReloadResult(True, self.current.version, changed, restart, None, paths)

    # -- watching -----------------------------------------------------------------------------
    def _watched(self) -> tuple[set[Path], set[Path]]:
        files = {f.resolve() for f in self.current.files}
        return files, {f.parent for f in files}

    def _run(self) -> None:
        files, folders = self._watched()

        def ours(_change: watchfiles.Change, path: str) -> bool:
            return Path(path).resolve() in files

        # Watch folders, not files: editors replace a file by renaming, which a file watch misses.
        for changes in watchfiles.watch(
            *folders, stop_event=self._stop, debounce=50, step=20, rust_timeout=200, yield_on_timeout=True,
            watch_filter=ours,
        ):
            self._ready.set()  # the first timeout means the OS watch is in place
            if changes:
                self.reload()
                files, folders_now = self._watched()
                if folders_now != folders:
                    break  # the set of active files changed: restart the watch below
        if not self._stop.is_set():
            self._run()

    def start(self, ready_timeout_s: float = 10.0) -> ConfigWatcher:
        """Start watching in a background thread; returns once changes from now on will be seen."""
        if self._thread is None:
            self._stop.clear()
            self._ready.clear()
            self._thread = threading.Thread(target=self._run, name="synfinance-config-watch", daemon=True)
            self._thread.start()
            if not self._ready.wait(ready_timeout_s):
                raise TimeoutError(f"config watcher not ready after {ready_timeout_s} s")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ConfigWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
