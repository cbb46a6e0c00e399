"""A virtual comms hub interface test rig speaking ICHI (docs/ichi-rig.md), for tests and users.

Layer: hal. The rig holds one end of a serial line (by default a fresh pseudo-terminal; any
port URL works, e.g. ``virtual://rig``) and a device attaches to the other end with
:attr:`VirtualRig.device_url` (``ichi:///dev/pts/N``). The rig switches the device's DC supply,
the tamper switch and the hot-shoe presence (each change is an EVENT frame), and exchanges data
bytes with it. After the device's RESET it reports the state of every line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Self

from smemu.errors import HalError, HalTimeout
from smemu.hal._buffer import ReceiveBuffer
from smemu.hal.ichi import IchiLink, LinkSettings
from smemu.hal.ports import LineEventKind, Port, PortStats, open_port
from smemu.hal.ptyport import PtyPort
from smemu.hal.virtual import VirtualHub, VirtualPort

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["VirtualRig"]


class VirtualRig:
    """The rig end of an ICHI link: ``rig = await VirtualRig.start()``; ``rig.device_url``."""

    def __init__(
        self,
        port: Port,
        *,
        settings: LinkSettings | None = None,
        powered: bool = True,
        sealed: bool = True,
        hot_shoe: bool = True,
    ) -> None:
        self.port = port
        self.stats = PortStats()
        self.powered = powered  #: whether the rig supplies DC power to the device
        self.sealed = sealed  #: whether the tamper switch is closed
        self.hot_shoe = hot_shoe  #: whether the comms hub is seated
        self._buffer = ReceiveBuffer()
        self._started = time.monotonic()
        self.link = IchiLink(
            port,
            stats=self.stats,
            settings=settings or LinkSettings(),
            on_data=self._buffer.feed,
            on_reset=self._peer_reset,
            on_failure=self._buffer.fail,
        )
        self.resets_seen = 0  #: RESETs received (device (re)starts)

    @classmethod
    async def start(
        cls,
        url: str = "pty://",
        *,
        hub: VirtualHub | None = None,
        settings: LinkSettings | None = None,
        powered: bool = True,
        sealed: bool = True,
        hot_shoe: bool = True,
    ) -> VirtualRig:
        """Open the rig's end of the line at ``url`` and start serving it."""
        port = open_port(url, hub=hub)
        await port.open()
        rig = cls(port, settings=settings, powered=powered, sealed=sealed, hot_shoe=hot_shoe)
        rig.link.start()
        # Tell a device that may already be attached that the rig restarted; nobody need be
        # listening yet, so this runs beside the rig and sequenced frames wait for it.
        rig.link.spawn(rig._hello())
        await asyncio.sleep(0)  # let it take the send lock before anything else is sent
        return rig

    async def _hello(self) -> None:
        with contextlib.suppress(HalError):
            await self.link.reset()

    @property
    def device_url(self) -> str:
        """The URL a device opens to attach to this rig."""
        if isinstance(self.port, PtyPort):
            return "ichi://" + self.port.slave_path
        if isinstance(self.port, VirtualPort):
            return f"ichi://virtual://{self.port.name}"
        return "ichi://" + self.port.location

    def _now_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000) & 0xFFFFFFFF

    def _line_states(self) -> list[LineEventKind]:
        return [
            LineEventKind.POWER_ON if self.powered else LineEventKind.POWER_OFF,
            LineEventKind.SEAL if self.sealed else LineEventKind.TAMPER,
            LineEventKind.HOT_SHOE_PRESENT if self.hot_shoe else LineEventKind.HOT_SHOE_ABSENT,
        ]

    def _peer_reset(self) -> None:
        self.resets_seen += 1
        self.link.spawn(self._report_lines())

    async def _report_lines(self) -> None:
        for kind in self._line_states():
            await self.link.send_event(kind, self._now_ms())

    async def set_power(self, on: bool) -> None:
        """Switch the device's DC supply (POWER_ON / POWER_OFF event)."""
        self.powered = on
        await self.link.send_event(
            LineEventKind.POWER_ON if on else LineEventKind.POWER_OFF, self._now_ms()
        )

    async def set_sealed(self, sealed: bool) -> None:
        """Close (SEAL) or open (TAMPER) the tamper switch."""
        self.sealed = sealed
        await self.link.send_event(
            LineEventKind.SEAL if sealed else LineEventKind.TAMPER, self._now_ms()
        )

    async def set_hot_shoe(self, present: bool) -> None:
        """Seat (HOT_SHOE_PRESENT) or remove (HOT_SHOE_ABSENT) the comms hub."""
        self.hot_shoe = present
        kind = LineEventKind.HOT_SHOE_PRESENT if present else LineEventKind.HOT_SHOE_ABSENT
        await self.link.send_event(kind, self._now_ms())

    async def send(self, data: bytes) -> None:
        """Send data bytes to the device (acknowledged frame by frame)."""
        await self.link.send_data(bytes(data))
        self.stats.bytes_out += len(data)

    async def receive(self, max_bytes: int = 65536, *, timeout: float | None = None) -> bytes:
        """Data bytes the device sent (at least one; HalTimeout after ``timeout`` seconds)."""
        try:
            async with asyncio.timeout(timeout):
                data = await self._buffer.get(max_bytes)
        except TimeoutError as exc:
            raise HalTimeout(f"rig {self.port.url}: nothing received in {timeout} s") from exc
        self.stats.bytes_in += len(data)
        return data

    async def close(self) -> None:
        """Stop the link and close the rig's end of the line."""
        await self.link.stop()
        with contextlib.suppress(HalError):
            await self.port.close()
        self._buffer.fail(HalError("rig closed"))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
