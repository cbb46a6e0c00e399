"""``serial://``: pyserial ports by URL (``loop://``, ``socket://``, ``rfc2217://``, /dev/tty*).

Layer: hal. ``serial:///dev/ttyUSB0?baudrate=115200`` opens a device path;
``serial://loop://`` (or any pyserial URL after ``serial://``) goes to
``serial.serial_for_url`` as is. pyserial blocks, so a reader thread hands received bytes to
the event loop and writes run in the default executor.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Final

import serial

from smemu.errors import ConfigError, HalError
from smemu.hal._buffer import ReceiveBuffer
from smemu.hal.ports import Port, query_options

__all__ = ["SerialPort"]

_POLL: Final = 0.05  #: seconds the reader thread blocks before checking for close
_OPTIONS: Final = {"baudrate": int, "bytesize": int, "parity": str, "stopbits": float}


class SerialPort(Port):
    """A pyserial port: ``serial://PYSERIAL-URL`` or ``serial:///dev/PATH[?baudrate=N]``."""

    scheme = "serial"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        target = url.partition("://")[2]
        self.baudrate = 115200
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1.0
        if "://" not in target:
            path, _, _query = target.partition("?")
            if not path:
                raise ConfigError(f"expected serial://PYSERIAL-URL or serial:///dev/PATH: {url!r}")
            for name, text in query_options(url).items():
                convert = _OPTIONS.get(name)
                if convert is None:
                    raise ConfigError(f"{url}: unknown option {name!r}; known: {sorted(_OPTIONS)}")
                try:
                    setattr(self, name, convert(text))
                except ValueError as exc:
                    raise ConfigError(f"{url}: {name}={text!r} is not valid") from exc
            target = path
        self.target = target  #: what pyserial opens
        self._serial: serial.Serial | None = None
        self._buffer = ReceiveBuffer()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def location(self) -> str:
        """The device path or pyserial URL."""
        return self.target

    def _open_serial(self) -> serial.Serial:
        return serial.serial_for_url(
            self.target,
            baudrate=self.baudrate,
            bytesize=self.bytesize,
            parity=self.parity,
            stopbits=self.stopbits,
            timeout=_POLL,
        )

    async def _open(self) -> None:
        try:
            port = await asyncio.to_thread(self._open_serial)
        except (serial.SerialException, ValueError) as exc:
            raise HalError(f"{self.url}: cannot open: {exc}") from exc
        self._serial = port
        self._buffer.reset()
        self._stop.clear()
        loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._reader, args=(port, loop), name=f"smemu-serial {self.target}", daemon=True
        )
        self._thread.start()

    def _reader(self, port: serial.Serial, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if not self._stop.is_set():
                    error = HalError(f"{self.url}: read failed: {exc}")
                    loop.call_soon_threadsafe(self._failed, error)
                return
            if data:
                try:
                    loop.call_soon_threadsafe(self._received, data)
                except RuntimeError:  # the loop closed under us
                    return

    def _received(self, data: bytes) -> None:
        before = self._buffer.dropped
        self._buffer.feed(data)
        self.stats.drops += self._buffer.dropped - before

    def _failed(self, error: HalError) -> None:
        self.stats.errors += 1
        self._buffer.fail(error)

    async def _close(self) -> None:
        self._stop.set()
        port, self._serial = self._serial, None
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        if port is not None:
            await asyncio.to_thread(port.close)
        self._buffer.fail(HalError(f"{self.url}: port closed"))

    async def _read_internal(self, max_bytes: int) -> bytes:
        return await self._buffer.get(max_bytes)

    async def _write_internal(self, data: bytes) -> None:
        port = self._serial
        if port is None:
            raise HalError(f"{self.url}: port closed")
        try:
            await asyncio.to_thread(port.write, data)
        except serial.SerialException as exc:
            raise HalError(f"{self.url}: write failed: {exc}") from exc
