"""``tcp://HOST:PORT``: a TCP stream, listening or connecting; loopback unless told otherwise.

Layer: hal. ``tcp://127.0.0.1:8716?mode=listen`` accepts connections (``listen=1`` is the same);
``tcp://127.0.0.1:8716`` (``mode=connect``, the default) connects. A listening port serves one
peer at a time: a new connection replaces the previous one, whose socket is closed, and bytes
written while nobody is connected are dropped and counted. Port 0 picks a free port;
:attr:`TcpPort.location` then reports the bound ``HOST:PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from smemu.errors import ConfigError, HalError
from smemu.hal._buffer import ReceiveBuffer
from smemu.hal.ports import Port, query_options

__all__ = ["TcpPort"]

_CHUNK = 65536
_TRUE = frozenset(("1", "true", "yes", "on"))


class TcpPort(Port):
    """A TCP stream port: ``tcp://HOST:PORT[?mode=listen|connect]``."""

    scheme = "tcp"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        parts = urlsplit(url)
        options = query_options(url)
        unknown = sorted(set(options) - {"mode", "listen"})
        if unknown:
            raise ConfigError(f"{url}: unknown option(s) {unknown}; known: ['listen', 'mode']")
        mode = options.get("mode", "listen" if options.get("listen", "") in _TRUE else "connect")
        if mode not in ("listen", "connect"):
            raise ConfigError(f"{url}: mode must be listen or connect, got {mode!r}")
        self.listening = mode == "listen"
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"{url}: bad port number") from exc
        if port is None:
            raise ConfigError(f"expected tcp://HOST:PORT, got {url!r}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = port
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._buffer = ReceiveBuffer()
        self._connected = asyncio.Event()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port): the bound address of a listener once open, else the URL's."""
        if self._server is not None and self._server.sockets:
            host, port = self._server.sockets[0].getsockname()[:2]
            return str(host), int(port)
        return self.host, self.port

    @property
    def location(self) -> str:
        """``HOST:PORT`` (for a listener, the address actually bound)."""
        host, port = self.address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def connected(self) -> bool:
        """Whether a peer is connected."""
        return self._writer is not None

    async def wait_connected(self, *, timeout: float | None = None) -> None:
        """Wait until a peer is connected (listening ports)."""
        async with asyncio.timeout(timeout):
            await self._connected.wait()

    async def _open(self) -> None:
        self._buffer.reset()
        if self.listening:
            self._server = await asyncio.start_server(self._accept, self.host, self.port)
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._attach(reader, writer)

    def _attach(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:
            self._writer.close()  # newest peer wins; the old pump ends at its EOF
        self._writer = writer
        self.stats.connections += 1
        self._connected.set()
        task = asyncio.get_running_loop().create_task(self._pump(reader, writer))
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.is_open:
            writer.close()
            return
        self._log.info("%s: peer %s connected", self.url, writer.get_extra_info("peername"))
        self._attach(reader, writer)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                if writer is self._writer:
                    before = self._buffer.dropped
                    self._buffer.feed(data)
                    self.stats.drops += self._buffer.dropped - before
        except OSError as exc:
            self.stats.errors += 1
            self._log.info("%s: connection failed: %s", self.url, exc)
        finally:
            if writer is self._writer:
                self._writer = None
                self._connected.clear()
                if not self.listening:
                    self._buffer.fail(HalError(f"{self.url}: connection closed by peer"))
            writer.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        for task in list(self._pumps):
            task.cancel()
        if self._pumps:
            await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self._buffer.fail(HalError(f"{self.url}: port closed"))

    async def _read_internal(self, max_bytes: int) -> bytes:
        return await self._buffer.get(max_bytes)

    async def _write_internal(self, data: bytes) -> None:
        writer = self._writer
        if writer is None:
            if self.listening:
                self.stats.drops += len(data)  # nobody connected: lost, as on a dead line
                return
            raise HalError(f"{self.url}: not connected")
        writer.write(data)
        await writer.drain()
