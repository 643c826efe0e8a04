"""A TCP proxy that can cut a dependency off for real: put it between SynFinance and PostgreSQL (or anything).

    with TcpProxy("127.0.0.1", 5432) as proxy:    # listens on 127.0.0.1:<proxy.port>, in its own thread
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/test"
        proxy.cut()        # every open connection is reset, new ones are closed at once
        proxy.refuse()     # open connections go on; new ones are closed at once (a server at max_connections)
        proxy.slow(latency_ms=500, jitter_ms=50)   # every chunk each way waits that long (+- jitter)
        proxy.throttle(bytes_per_s=64_000)         # each direction of each connection capped
        proxy.restore()    # connections pass again, at full speed

Nothing in SynFinance knows it is there: the app is simply configured with the proxy's address.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading

CHUNK = 1 << 16


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.listen_host, self.port = listen_host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.cut_off = False
        self.refusing = False
        self.latency_s = self.jitter_s = 0.0
        self.bytes_per_s: float | None = None
        self.connections = 0  # accepted since start, for tests and reports
        self._random = random.Random()

    # -- control (any thread) -------------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def cut(self) -> None:
        """Reset every open connection and close new ones at once (the server looks down)."""
        asyncio.run_coroutine_threadsafe(self._cut(), self._loop).result(timeout=10)

    def refuse(self) -> None:
        """New connections are closed at once; open ones carry on."""
        self.refusing = True

    def slow(self, latency_ms: float, jitter_ms: float = 0.0) -> None:
        """Every chunk forwarded, either way, waits latency_ms (uniformly +- jitter_ms) first."""
        self.latency_s, self.jitter_s = latency_ms / 1000, jitter_ms / 1000

    def throttle(self, bytes_per_s: float) -> None:
        """Each direction of each connection carries at most bytes_per_s."""
        self.bytes_per_s = bytes_per_s

    def restore(self) -> None:
        """Connections pass again, without delay or cap."""
        self.cut_off = self.refusing = False
        self.latency_s = self.jitter_s = 0.0
        self.bytes_per_s = None

    def delay_s(self, size: int) -> float:
        """How long a chunk of `size` bytes waits before it is forwarded now."""
        wait = self.latency_s + (self._random.uniform(-self.jitter_s, self.jitter_s) if self.jitter_s else 0.0)
        if self.bytes_per_s:
            wait += size / self.bytes_per_s
        return max(0.0, wait)

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- the proxy (its own loop) ---------------------------------------------------------------------------
    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.cut_off or self.refusing:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._open |= {writer, up_writer}
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._open.discard(w)
                _reset(w)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                if wait := self.delay_s(len(data)):
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
        _reset(writer)

    async def _cut(self) -> None:
        self.cut_off = True
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()

    async def _close(self) -> None:
        await self._cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()




def _reset(writer: asyncio.StreamWriter) -> None:
    """Close at once, dropping buffered data (an RST where the platform allows), as a dying server would."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
