"""The stored reference as it changes: PostgreSQL LISTEN/NOTIFY on the population tables.

Migration 0010's statement triggers notify channel `synfinance_reference` with '<schema>.<table>' whenever a
change to customers or merchants commits. A `ReferenceFeed` listens on a connection of its own, in a daemon
thread with its own event loop, and hands `on_change` the reference rows (PopulationRepository.reference) once
it listens, and again after every change to its schema's tables (the notifications of one load, arriving
within `quiet_s`, give one read). A lost connection is retried every `retry_s` and followed by a fresh read, so
a change made while it was away is not missed.

    feed = ReferenceFeed(config, lambda customers, merchants: ...)
    first = feed.start(wait_s=10)   # True once the first read was handed over
    ...
    feed.stop()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from synfinance.errors import StoreUnavailable
from synfinance.observability.logs import get_logger
from synfinance.settings.models import DatabaseConfig
from synfinance.store.connect import FAILURES, Database
from synfinance.store.repository import PopulationRepository

CHANNEL = "synfinance_reference"
APPLICATION = "synfinance-reference-feed"  # how the listening connection shows in pg_stat_activity
Rows = list[dict[str, Any]]
LOST: tuple[type[BaseException], ...] = (StoreUnavailable, OSError, TimeoutError, *FAILURES)  # then: again
log = get_logger("synfinance.store")


class ReferenceFeed:
    def __init__(self, config: DatabaseConfig, on_change: Callable[[Rows, Rows], None], quiet_s: float = 0.2,
                 retry_s: float = 1.0) -> None:
        self.db = Database.from_config(config)
        self.on_change, self.quiet_s, self.retry_s = on_change, quiet_s, retry_s
        self._first = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="reference-feed", daemon=True)

    def start(self, wait_s: float) -> bool:
        """Listen from now on; whether the first read reached on_change within wait_s (the database may be down:
        the feed keeps trying, and hands over the rows when it gets them)."""
        self._thread.start()
        return self._first.wait(wait_s)

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=5)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop, self._stopped = asyncio.get_running_loop(), asyncio.Event()
        while not self._stopped.is_set():
            try:
                await self._listen()
            except LOST as exc:
                log.warning("reference.feed_lost", reason=str(exc) or type(exc).__name__, retry_s=self.retry_s)
            try:
                await asyncio.wait_for(self._stopped.wait(), self.retry_s)
            except TimeoutError:
                continue

    async def _listen(self) -> None:
        """One connection's life: listen, read, and read again after each burst of changes until it is lost."""
        assert self._stopped is not None
        conn = await self.db.connect(application=APPLICATION)
        changed, lost = asyncio.Event(), asyncio.Event()
        mine = f"{self.db.schema}."

        def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            if payload.startswith(mine):
                changed.set()

        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANNEL, notified)
            changed.set()  # listening: read now (first start, or after a lost connection)
            while True:
                waits = [asyncio.ensure_future(e.wait()) for e in (changed, lost, self._stopped)]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for w in waits:
                    w.cancel()
                if self._stopped.is_set():
                    return
                if lost.is_set():
                    raise StoreUnavailable(f"PostgreSQL at {self.db.where}: the listening connection was closed")
                await asyncio.sleep(self.quiet_s)  # the rest of a load's statements
                changed.clear()
                customers, merchants = await PopulationRepository(conn).reference()
                try:
                    self.on_change(customers, merchants)
                except Exception as exc:  # a bad row must not end the feed; the next change is read again
                    log.error("reference.feed_refused", reason=f"{type(exc).__name__}: {exc}")
                    continue
                self._first.set()
        finally:
            if not conn.is_closed():
                await conn.close()
