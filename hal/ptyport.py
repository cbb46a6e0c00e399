"""``pty://``: a pseudo-terminal pair; the device holds the master, outsiders open the slave.

Layer: hal. Any tool that speaks to a serial device (pyserial, a terminal, a real test harness)
can attach to :attr:`PtyPort.location`, the slave path (``/dev/pts/N``); ``pty://?link=PATH``
also makes a symbolic link to it. The slave is put in raw mode and kept open by the port, so
the master never sees end-of-file when a client detaches and reattaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty

from smemu.errors import ConfigError, HalError
from smemu.hal._buffer import ReceiveBuffer
from smemu.hal.ports import Port, query_options

__all__ = ["PtyPort"]

_CHUNK = 65536


class PtyPort(Port):
    """A pseudo-terminal pair: ``pty://`` or ``pty://?link=/tmp/meter``."""

    scheme = "pty"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        options = query_options(url)
        unknown = sorted(set(options) - {"link"})
        if unknown:
            raise ConfigError(f"{url}: unknown option(s) {unknown}; known: ['link']")
        self.link = options.get("link") or None
        self._master = -1
        self._slave = -1
        self._slave_path = ""
        self._buffer = ReceiveBuffer()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def location(self) -> str:
        """The slave path (or the link) once open; the URL before."""
        return self.link or self._slave_path or self.url

    @property
    def slave_path(self) -> str:
        """The ``/dev/pts/N`` path of the slave side (empty until open)."""
        return self._slave_path

    async def _open(self) -> None:
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._slave_path = os.ttyname(slave)
            if self.link:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.link)
                os.symlink(self._slave_path, self.link)
        except OSError:
            os.close(master)
            os.close(slave)
            raise
        self._master, self._slave = master, slave
        self._buffer.reset()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(master, self._on_readable)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, _CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            self.stats.errors += 1
            self._stop_reading()
            self._buffer.fail(HalError(f"{self.url}: read failed: {exc}"))
            return
        before = self._buffer.dropped
        self._buffer.feed(data)
        self.stats.drops += self._buffer.dropped - before

    def _stop_reading(self) -> None:
        if self._loop is not None and self._master >= 0:
            self._loop.remove_reader(self._master)

    async def _close(self) -> None:
        self._stop_reading()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)
        self._buffer.fail(HalError(f"{self.url}: port closed"))

    async def _read_internal(self, max_bytes: int) -> bytes:
        return await self._buffer.get(max_bytes)

    async def _write_internal(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                sent = os.write(self._master, view)
            except BlockingIOError:
                await self._writable()
                continue
            view = view[sent:]

    async def _writable(self) -> None:
        """Wait until the master accepts more bytes (the slave's reader caught up)."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = self._master

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_writer(fd, wake)
        try:
            await ready
        finally:
            loop.remove_writer(fd)
        if not self.is_open:
            raise HalError(f"{self.url}: port closed")
