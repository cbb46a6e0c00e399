"""``ichi://SERIAL-URL``: the comms hub interface test rig link (docs/ichi-rig.md).

Layer: hal. :class:`IchiLink` runs the link layer over any inner :class:`Port`: it frames with
:mod:`smemu.protocols.framing.ichi`, numbers DATA and EVENT frames, acknowledges what it
receives, retransmits what is not acknowledged (stop-and-wait) and discards duplicates. The
device side is :class:`IchiPort`; the rig side is :class:`smemu.hal.ichi_rig.VirtualRig`.
``ichi:///dev/pts/3`` and ``ichi://serial:///dev/ttyUSB0`` are the same thing;
``ichi://virtual://rig`` runs in process. Link options go in the fragment:
``ichi://virtual://rig#ack_timeout=0.05&retries=20``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final, Self
from urllib.parse import parse_qsl

from smemu.errors import ConfigError, DecodeError, HalError
from smemu.hal._buffer import ReceiveBuffer
from smemu.hal.ports import LineEvent, LineEventKind, Port, PortStats, open_port
from smemu.hal.virtual import VirtualHub
from smemu.protocols.framing.ichi import (
    MAX_PAYLOAD,
    SESSION_ID_LENGTH,
    IchiFrame,
    IchiFramer,
    IchiFrameType,
    LineCode,
    decode_event,
    encode,
    encode_event,
)

__all__ = ["CODE_BY_KIND", "KIND_BY_CODE", "IchiLink", "IchiPort", "LinkSettings"]

#: ICHI line code -> the HAL's line-event kind, and back.
KIND_BY_CODE: Final = {
    LineCode.POWER_ON: LineEventKind.POWER_ON,
    LineCode.POWER_OFF: LineEventKind.POWER_OFF,
    LineCode.TAMPER: LineEventKind.TAMPER,
    LineCode.SEAL: LineEventKind.SEAL,
    LineCode.HOT_SHOE_PRESENT: LineEventKind.HOT_SHOE_PRESENT,
    LineCode.HOT_SHOE_ABSENT: LineEventKind.HOT_SHOE_ABSENT,
}
CODE_BY_KIND: Final = {kind: code for code, kind in KIND_BY_CODE.items()}

_EVENT_QUEUE_LIMIT: Final = 1024


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Timers of the link layer (docs/ichi-rig.md section 4)."""

    ack_timeout: float = 0.2  #: seconds to wait for an ACK before sending again
    retries: int = 10  #: retransmissions before a send fails with HalError

    @classmethod
    def from_fragment(cls, fragment: str) -> LinkSettings:
        """Parse ``ack_timeout=..&retries=..`` (the ``ichi://`` URL fragment)."""
        settings = cls()
        for name, text in parse_qsl(fragment, keep_blank_values=True):
            try:
                if name == "ack_timeout":
                    settings = cls(float(text), settings.retries)
                elif name == "retries":
                    settings = cls(settings.ack_timeout, int(text))
                else:
                    raise ConfigError(f"unknown ichi option {name!r}; known: ack_timeout, retries")
            except ValueError as exc:
                raise ConfigError(f"ichi option {name}={text!r} is not a number") from exc
        if settings.ack_timeout <= 0 or settings.retries < 0:
            raise ConfigError(f"ichi timers must be positive: {settings}")
        return settings


class IchiLink:
    """The ICHI link layer over ``port``, shared by the device and the rig side.

    Received DATA payloads go to ``on_data``, EVENT payloads (decoded) to ``on_event``, and a
    peer's RESET to ``on_reset``; callbacks must not block (they run in the receive pump).
    """

    def __init__(
        self,
        port: Port,
        *,
        stats: PortStats,
        settings: LinkSettings,
        on_data: Callable[[bytes], None],
        on_event: Callable[[LineEvent], None] = lambda event: None,
        on_reset: Callable[[], None] = lambda: None,
        on_failure: Callable[[HalError], None] = lambda error: None,
    ) -> None:
        self.port = port
        self.stats = stats
        self.settings = settings
        self.framer = IchiFramer()
        self._on_data = on_data
        self._on_event = on_event
        self._on_reset = on_reset
        self._on_failure = on_failure
        self._tx_seq = 0
        self._rx_last: int | None = None
        # A RESET is identified by (counter, session id); the session id is random per link,
        # so that a restarted peer's RESET is never taken for a copy of its previous one.
        self._session = random.randbytes(SESSION_ID_LENGTH)
        self._resets = 0
        self._peer_reset: tuple[int, bytes] | None = None
        self._send_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._pending: tuple[IchiFrameType, int, asyncio.Future[None]] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[None]] = set()
        self.duplicates = 0  #: frames received again (their ACK was lost) and not delivered

    def start(self) -> None:
        """Start the receive pump (the inner port must be open)."""
        self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self) -> None:
        """Stop the pump and anything it started."""
        tasks = [t for t in (self._pump_task, *self._side_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pump_task = None
        if self._pending is not None and not self._pending[2].done():
            self._pending[2].set_exception(HalError("ICHI link stopped"))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine beside the pump (used to answer a RESET without blocking it)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_task_done)

    def _side_task_done(self, task: asyncio.Task[None]) -> None:
        self._side_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.stats.errors += 1

    # -- sending -------------------------------------------------------------------------

    async def reset(self) -> None:
        """Restart our sequence numbers and tell the peer (RESET, acknowledged by RESET_ACK)."""
        async with self._send_lock:
            self._resets = (self._resets + 1) & 0xFF
            self._tx_seq = 0
            frame = IchiFrame(IchiFrameType.RESET, self._resets, self._session)
            await self._send_acknowledged(frame, IchiFrameType.RESET_ACK)

    async def send_data(self, data: bytes) -> None:
        """Send ``data`` in DATA frames of at most MAX_PAYLOAD bytes, each acknowledged."""
        for start in range(0, len(data), MAX_PAYLOAD):
            await self._send_sequenced(IchiFrameType.DATA, data[start : start + MAX_PAYLOAD])

    async def send_event(self, kind: LineEventKind, at_ms: int | None = None) -> None:
        """Send one line event (rig side)."""
        await self._send_sequenced(IchiFrameType.EVENT, encode_event(CODE_BY_KIND[kind], at_ms))

    async def _send_sequenced(self, kind: IchiFrameType, payload: bytes) -> None:
        async with self._send_lock:
            seq = self._tx_seq
            self._tx_seq = (seq + 1) & 0xFF
            await self._send_acknowledged(IchiFrame(kind, seq, payload), IchiFrameType.ACK)

    async def _send_acknowledged(self, frame: IchiFrame, answer: IchiFrameType) -> None:
        wire = encode(frame)
        loop = asyncio.get_running_loop()
        for attempt in range(self.settings.retries + 1):
            done: asyncio.Future[None] = loop.create_future()
            self._pending = (answer, frame.seq, done)
            if attempt:
                self.stats.retransmissions += 1
            await self._write(wire)
            try:
                await asyncio.wait_for(asyncio.shield(done), self.settings.ack_timeout)
                return
            except TimeoutError:
                continue
            finally:
                self._pending = None
        raise HalError(
            f"{self.port.url}: no {answer.name} for {frame.kind.name} {frame.seq} after "
            f"{self.settings.retries + 1} tries"
        )

    async def _write(self, wire: bytes) -> None:
        async with self._write_lock:
            await self.port.write(wire)
        self.stats.frames_out += 1

    # -- receiving -----------------------------------------------------------------------

    async def _pump(self) -> None:
        try:
            while True:
                data = await self.port.read()
                dropped, bad = self.framer.dropped, self.framer.bad_frames
                self.framer.feed(data)
                self.stats.drops += self.framer.dropped - dropped
                self.stats.errors += self.framer.bad_frames - bad
                for frame in self.framer:
                    self.stats.frames_in += 1
                    await self._handle(frame)
        except HalError as exc:
            if self._pending is not None and not self._pending[2].done():
                self._pending[2].set_exception(exc)
            self._on_failure(exc)

    async def _handle(self, frame: IchiFrame) -> None:
        kind = frame.kind
        if kind is IchiFrameType.ACK or kind is IchiFrameType.RESET_ACK:
            pending = self._pending
            if (
                pending is not None
                and pending[0] is kind
                and pending[1] == frame.seq
                and not pending[2].done()
            ):
                pending[2].set_result(None)
            return
        if kind is IchiFrameType.RESET:
            # A copy of the RESET acted on last (a retransmission after a lost RESET_ACK, or a
            # duplicate) is answered again but acted on once.
            identity = (frame.seq, frame.payload)
            await self._write(encode(IchiFrame(IchiFrameType.RESET_ACK, *identity)))
            if identity != self._peer_reset:
                self._peer_reset = identity
                self._rx_last = None
                self._on_reset()
            return
        # DATA or EVENT: acknowledge always, deliver unless it repeats the last one delivered.
        await self._write(encode(IchiFrame(IchiFrameType.ACK, frame.seq)))
        if frame.seq == self._rx_last:
            self.duplicates += 1
            return
        self._rx_last = frame.seq
        if kind is IchiFrameType.DATA:
            self._on_data(frame.payload)
        else:
            try:
                code, at_ms = decode_event(frame.payload)
            except DecodeError:  # the codec already checked EVENT bodies; keep it defensive
                self.stats.errors += 1
                return
            self._on_event(LineEvent(KIND_BY_CODE[code], None if at_ms is None else at_ms / 1000))


def split_ichi_url(url: str) -> tuple[str, LinkSettings]:
    """``ichi://INNER#options`` -> (inner port URL, link settings).

    A bare device path (``ichi:///dev/pts/3``) means ``serial:///dev/pts/3``.
    """
    rest = url.partition("://")[2]
    inner, _, fragment = rest.partition("#")
    if inner.startswith("/"):
        inner = "serial://" + inner
    if "://" not in inner:
        raise ConfigError(f"expected ichi://SERIAL-URL (e.g. ichi:///dev/pts/3), got {url!r}")
    return inner, LinkSettings.from_fragment(fragment)


class IchiPort(Port):
    """The device side of an ICHI rig: data bytes plus line events, over an inner port."""

    scheme = "ichi"
    carries_line_events = True

    def __init__(
        self, url: str, *, hub: VirtualHub | None = None, inner: Port | None = None
    ) -> None:
        super().__init__(url)
        inner_url, self.settings = split_ichi_url(url)
        self.inner = inner if inner is not None else open_port(inner_url, hub=hub)
        self._buffer = ReceiveBuffer()
        self._events: asyncio.Queue[LineEvent | None] = asyncio.Queue()
        self._link: IchiLink | None = None

    @classmethod
    def from_url(cls, url: str, *, hub: VirtualHub | None = None) -> Self:
        """Build the port; the inner port joins ``hub`` when it is virtual."""
        return cls(url, hub=hub)

    @property
    def location(self) -> str:
        """Where the inner serial line is."""
        return self.inner.location

    @property
    def link(self) -> IchiLink:
        """The running link layer (open ports only)."""
        if self._link is None:
            raise HalError(f"{self.url}: port is not open")
        return self._link

    async def _open(self) -> None:
        await self.inner.open()
        self._buffer.reset()
        self._events = asyncio.Queue()
        link = IchiLink(
            self.inner,
            stats=self.stats,
            settings=self.settings,
            on_data=self._received,
            on_event=self._event,
            on_failure=self._failed,
        )
        link.start()
        self._link = link
        try:
            await link.reset()  # synchronise sequence numbers; the rig answers with line states
        except HalError as exc:
            await self._close()
            raise HalError(f"{self.url}: no ICHI rig answers on {self.inner.url}") from exc

    def _received(self, data: bytes) -> None:
        before = self._buffer.dropped
        self._buffer.feed(data)
        self.stats.drops += self._buffer.dropped - before

    def _event(self, event: LineEvent) -> None:
        if self._events.qsize() >= _EVENT_QUEUE_LIMIT:
            self._events.get_nowait()
            self.stats.drops += 1
        self._events.put_nowait(event)

    def _failed(self, error: HalError) -> None:
        self.stats.errors += 1
        self._buffer.fail(error)
        self._events.put_nowait(None)

    async def _close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.stop()
        with contextlib.suppress(HalError):
            await self.inner.close()
        self._buffer.fail(HalError(f"{self.url}: port closed"))
        self._events.put_nowait(None)

    async def _read_internal(self, max_bytes: int) -> bytes:
        return await self._buffer.get(max_bytes)

    async def _write_internal(self, data: bytes) -> None:
        await self.link.send_data(data)

    async def _read_line_event_internal(self) -> LineEvent:
        event = await self._events.get()
        if event is None:  # closed or failed: leave the marker for other readers
            self._events.put_nowait(None)
            raise HalError(f"{self.url}: port closed")
        return event
