"""Ports: the byte-moving contract of the hardware abstraction layer, and URL resolution.

Layer: hal. A :class:`Port` moves bytes (and, for the comms hub interface rig, line events)
between a device and the outside world; it knows no frames (style rule B8). Public methods own
timeouts, statistics and logging; backends implement ``_open``/``_close``/``_read_internal``/
``_write_internal`` (template methods, style rule F23). :func:`open_port` chooses the backend by
URL scheme through :data:`BACKENDS`, extended by the entry-point group ``smemu.hal`` (F24).
"""

from __future__ import annotations

import abc
import asyncio
import enum
import importlib
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, fields
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, ClassVar, Final, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from smemu.errors import ConfigError, HalError, HalTimeout

if TYPE_CHECKING:
    from types import TracebackType

    from smemu.hal.virtual import VirtualHub

__all__ = [
    "BACKENDS",
    "ENTRY_POINT_GROUP",
    "TRACE",
    "LineEvent",
    "LineEventKind",
    "Port",
    "PortStats",
    "backend_table",
    "open_port",
    "query_options",
    "resolve_backend",
]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Log level below DEBUG for raw bytes on ports (style rule I38).
TRACE: Final = 5
logging.addLevelName(TRACE, "TRACE")

#: URL scheme -> "module:Class" of the backend; imported only when a port of that scheme opens.
BACKENDS: Final[Mapping[str, str]] = {
    "ichi": "smemu.hal.ichi:IchiPort",
    "pty": "smemu.hal.ptyport:PtyPort",
    "serial": "smemu.hal.serialport:SerialPort",
    "tcp": "smemu.hal.tcp:TcpPort",
    "virtual": "smemu.hal.virtual:VirtualPort",
}

#: Entry-point group through which other distributions add backends (name = URL scheme).
ENTRY_POINT_GROUP: Final = "smemu.hal"


class LineEventKind(enum.Enum):
    """A change on one of the comms hub interface's non-data lines (docs/ichi-rig.md)."""

    POWER_ON = "power-on"  #: rig DC supply to the device switched on
    POWER_OFF = "power-off"  #: rig DC supply switched off (the device loses power)
    TAMPER = "tamper"  #: tamper switch opened (terminal cover / seal broken)
    SEAL = "seal"  #: tamper switch closed again (sealed)
    HOT_SHOE_PRESENT = "hot-shoe-present"  #: the comms hub is seated in the hot shoe
    HOT_SHOE_ABSENT = "hot-shoe-absent"  #: the comms hub was removed from the hot shoe


@dataclass(frozen=True, slots=True)
class LineEvent:
    """One line change reported by a port that carries line events (``ichi://``)."""

    kind: LineEventKind
    #: when the rig saw the change, in seconds on the rig's own monotonic clock (None: unknown)
    at: float | None = None


@dataclass(slots=True)
class PortStats:
    """Counters of one port. Mutable: the port updates them as traffic passes."""

    bytes_in: int = 0  #: payload bytes delivered to the reader
    bytes_out: int = 0  #: payload bytes accepted from the writer
    frames_in: int = 0  #: link frames received intact (framed backends; 0 for raw streams)
    frames_out: int = 0  #: link frames sent, retransmissions included
    line_events: int = 0  #: line events delivered
    errors: int = 0  #: malformed input, failed operations
    drops: int = 0  #: bytes discarded (bad frames, resync, faults injected, overflow)
    timeouts: int = 0  #: reads or writes that timed out
    retransmissions: int = 0  #: frames sent again for want of an acknowledgement
    connections: int = 0  #: peers that connected (listening backends)

    def as_dict(self) -> dict[str, int]:
        """The counters by name, for status lines and ``premises.json``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def query_options(url: str) -> dict[str, str]:
    """The query parameters of ``url`` as a flat dict (last value wins).

    :raises ConfigError: if a parameter is given without a value.
    """
    query = urlsplit(url).query
    try:
        parsed = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise ConfigError(f"{url}: malformed query {query!r}") from exc
    return {key: values[-1] for key, values in parsed.items()}


class Port(abc.ABC):
    """A bidirectional byte port, asyncio-friendly, chosen by URL.

    Use it as ``async with open_port(url) as port:`` or call :meth:`open` / :meth:`close`.
    :meth:`read` returns at least one byte (never an empty ``bytes``), waiting as needed;
    a closed or broken port raises :class:`HalError` and a timeout :class:`HalTimeout`.

    Backends implement the underscore methods; they are only called while the port is open
    (``_open`` excepted), and ``_read_internal`` is never called by two readers at once.
    """

    #: URL scheme served by the backend (informational; the table maps schemes to classes)
    scheme: ClassVar[str] = ""
    #: whether :meth:`read_line_event` is supported
    carries_line_events: ClassVar[bool] = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.stats = PortStats()
        self._is_open = False
        self._read_lock = asyncio.Lock()
        self._log = logging.getLogger(f"{type(self).__module__}.{type(self).__name__}")

    @classmethod
    def from_url(cls, url: str, *, hub: VirtualHub | None = None) -> Self:
        """Build an unopened port for ``url``. ``hub`` reaches in-process (virtual) backends."""
        del hub
        return cls(url)

    # -- public template methods -------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the port is open."""
        return self._is_open

    @property
    def location(self) -> str:
        """Where an external party attaches (a pty slave path, a bound address, the URL)."""
        return self.url

    async def open(self) -> None:
        """Open the port. Opening an open port does nothing.

        :raises HalError: if the backend cannot open (no such device, address in use, ...).
        """
        if self._is_open:
            return
        try:
            await self._open()
        except HalError:
            raise
        except OSError as exc:
            raise HalError(f"{self.url}: cannot open: {exc}") from exc
        self._is_open = True
        self._log.debug("opened %s at %s", self.url, self.location)

    async def close(self) -> None:
        """Close the port; pending and later reads and writes raise :class:`HalError`."""
        if not self._is_open:
            return
        self._is_open = False
        try:
            await self._close()
        except OSError as exc:  # closing must not fail loudly; say so in the log
            self._log.warning("closing %s: %s", self.url, exc)
        self._log.debug("closed %s", self.url)

    async def read(self, max_bytes: int = 65536, *, timeout: float | None = None) -> bytes:
        """Return between 1 and ``max_bytes`` bytes, waiting until some arrive.

        :raises HalTimeout: if nothing arrived within ``timeout`` seconds.
        :raises HalError: if the port is closed or the link failed.
        """
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        self._check_open()
        async with self._read_lock:
            data = await self._timed(self._read_internal(max_bytes), timeout, "read")
        self.stats.bytes_in += len(data)
        if self._log.isEnabledFor(TRACE):
            self._log.log(TRACE, "%s <- %s", self.url, data.hex(" "))
        return data

    async def write(self, data: bytes, *, timeout: float | None = None) -> None:
        """Send all of ``data`` (returns once the backend accepted it).

        :raises HalTimeout: if the backend did not accept it within ``timeout`` seconds.
        :raises HalError: if the port is closed or the link failed.
        """
        self._check_open()
        if not data:
            return
        data = bytes(data)
        if self._log.isEnabledFor(TRACE):
            self._log.log(TRACE, "%s -> %s", self.url, data.hex(" "))
        await self._timed(self._write_internal(data), timeout, "write")
        self.stats.bytes_out += len(data)

    async def read_line_event(self, *, timeout: float | None = None) -> LineEvent:
        """Wait for the next line event (power, tamper, hot shoe).

        :raises HalError: if this port carries no line events, or is closed.
        :raises HalTimeout: if none arrived within ``timeout`` seconds.
        """
        self._check_open()
        if not self.carries_line_events:
            raise HalError(f"{self.url}: this port carries no line events")
        event = await self._timed(self._read_line_event_internal(), timeout, "line event")
        self.stats.line_events += 1
        self._log.debug("%s line event %s", self.url, event.kind.value)
        return event

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "open" if self._is_open else "closed"
        return f"<{type(self).__name__} {self.url} {state}>"

    # -- backend internals ---------------------------------------------------------------

    @abc.abstractmethod
    async def _open(self) -> None:
        """Acquire the OS or in-process resources."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Release them; wake pending readers so that they raise :class:`HalError`."""

    @abc.abstractmethod
    async def _read_internal(self, max_bytes: int) -> bytes:
        """Wait for and return 1..``max_bytes`` bytes; raise :class:`HalError` if closed."""

    @abc.abstractmethod
    async def _write_internal(self, data: bytes) -> None:
        """Send ``data`` (non-empty) in full."""

    async def _read_line_event_internal(self) -> LineEvent:
        """Wait for the next line event (only backends with ``carries_line_events``)."""
        raise HalError(f"{self.url}: this port carries no line events")

    # -- helpers -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if not self._is_open:
            raise HalError(f"{self.url}: port is not open")

    async def _timed(self, operation: Awaitable[_T], timeout: float | None, what: str) -> _T:
        try:
            async with asyncio.timeout(timeout):
                result = await operation
        except TimeoutError as exc:
            self.stats.timeouts += 1
            raise HalTimeout(f"{self.url}: {what} timed out after {timeout} s") from exc
        except OSError as exc:
            self.stats.errors += 1
            raise HalError(f"{self.url}: {what} failed: {exc}") from exc
        return result


# ---------------------------------------------------------------------------------------
# Backend resolution (style rule F24): one literal table, entry points, lazy imports.


def _entry_point_backends() -> dict[str, str]:
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found and found[ep.name] != ep.value:
            raise ConfigError(
                f"hal backend {ep.name!r} registered twice by entry points: "
                f"{found[ep.name]} and {ep.value}"
            )
        found[ep.name] = ep.value
    return found


def backend_table(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The complete scheme -> "module:Class" table: built-ins, entry points, then ``extra``.

    :raises ConfigError: if a scheme is registered twice with different targets (a plug-in may
        not silently replace a built-in backend or another plug-in).
    """
    table = dict(BACKENDS)
    for source in (_entry_point_backends(), dict(extra or {})):
        for name, target in source.items():
            if name in table and table[name] != target:
                raise ConfigError(
                    f"hal backend {name!r} registered twice: {table[name]} and {target}"
                )
            table[name] = target
    return table


def resolve_backend(scheme: str, *, extra: Mapping[str, str] | None = None) -> type[Port]:
    """Import and return the :class:`Port` class serving ``scheme``.

    :raises ConfigError: for an unknown scheme (listing the known ones) or a target that does
        not name a Port class.
    """
    table = backend_table(extra)
    target = table.get(scheme)
    if target is None:
        known = ", ".join(f"{name}://" for name in sorted(table))
        raise ConfigError(f"unknown port scheme {scheme!r}; known: {known}")
    module_name, _, attribute = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"hal backend {scheme!r} -> {target}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Port)):
        raise ConfigError(f"hal backend {scheme!r} -> {target} is not a Port class")
    return cls


def open_port(
    url: str, *, hub: VirtualHub | None = None, extra: Mapping[str, str] | None = None
) -> Port:
    """Build the (unopened) port a URL names; ``await port.open()`` or ``async with`` it.

    ``virtual://NAME`` ports join ``hub`` (default: the hub of the running event loop).

    :raises ConfigError: for an unknown scheme or a malformed URL.
    """
    scheme, sep, _ = url.partition("://")
    if not sep or not scheme:
        raise ConfigError(f"expected a port URL such as virtual://NAME, got {url!r}")
    return resolve_backend(scheme.lower(), extra=extra).from_url(url, hub=hub)
