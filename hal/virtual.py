"""``virtual://NAME``: in-process ports joined through a hub, with a seeded fault injector.

Layer: hal. A :class:`VirtualHub` is an object (style rule F25), never module state: pass one
explicitly, or let ports use the hub of the running event loop. Ports with the same NAME on one
hub form a channel: bytes one port writes reach every other open port of the channel (two ports
make a null-modem cable; more make a shared medium). Bytes written while nobody else listens
are lost, as on a real wire. A :class:`FaultInjector` (drop, delay, duplicate, split, corrupt,
reorder) acts on each write, deterministically for a given seed.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections import deque
from dataclasses import dataclass, fields, replace
from typing import ClassVar, Final, Self

from smemu.errors import ConfigError, HalError
from smemu.hal._buffer import ReceiveBuffer
from smemu.hal.ports import Port, query_options

__all__ = ["Delivery", "FaultConfig", "FaultInjector", "FaultStats", "VirtualHub", "VirtualPort"]

_PROBABILITIES: Final = ("drop", "delay", "duplicate", "split", "corrupt", "reorder")


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """What the fault injector does to each write; probabilities are per write (0..1).

    From a URL: ``virtual://wan?drop=0.1&corrupt=0.05&seed=3`` (same field names).
    """

    drop: float = 0.0  #: probability that a write vanishes entirely
    delay: float = 0.0  #: probability that a write is held back by up to ``max_delay``
    max_delay: float = 0.05  #: seconds; delays keep the byte order of the channel
    duplicate: float = 0.0  #: probability that a write arrives twice
    split: float = 0.0  #: probability that a write arrives in 2..4 pieces
    corrupt: float = 0.0  #: probability that one byte of a write is changed
    reorder: float = 0.0  #: probability that a write is held and delivered after the next one
    seed: int = 0  #: seed of the injector's random generator (same seed, same faults)

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"fault {name} must be a probability 0..1, got {value}")
        if self.max_delay < 0:
            raise ConfigError(f"max_delay must be >= 0, got {self.max_delay}")

    @property
    def active(self) -> bool:
        """Whether any fault can happen."""
        return any(getattr(self, name) > 0 for name in _PROBABILITIES)

    @classmethod
    def from_options(cls, options: dict[str, str]) -> FaultConfig:
        """Build from URL query options (unknown names and bad numbers raise ConfigError)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown fault option(s) {unknown}; known: {sorted(known)}")
        config = cls()
        for name, text in options.items():
            try:
                value = int(text) if name == "seed" else float(text)
            except ValueError as exc:
                raise ConfigError(f"fault option {name}={text!r} is not a number") from exc
            config = replace(config, **{name: value})  # type: ignore[arg-type]
        return config


@dataclass(slots=True)
class FaultStats:
    """How many of each fault the injector applied."""

    writes: int = 0
    dropped: int = 0
    delayed: int = 0
    duplicated: int = 0
    split: int = 0
    corrupted: int = 0
    reordered: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """A piece of a write as it reaches the peers: after ``delay`` seconds, these bytes."""

    delay: float
    data: bytes


class FaultInjector:
    """Turns each write into the deliveries the peers see. Pure: no I/O, no clock.

    The random draws happen in a fixed order per write, so a given config (seed included) and
    sequence of writes always produce the same deliveries.
    """

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.stats = FaultStats()
        self._rng = random.Random(config.seed)
        self._held: list[Delivery] = []

    def plan(self, data: bytes) -> list[Delivery]:
        """The deliveries for one write of ``data``, in order."""
        cfg, rng = self.config, self._rng
        self.stats.writes += 1
        if not cfg.active:
            return [Delivery(0.0, data)]
        if rng.random() < cfg.drop:
            self.stats.dropped += 1
            return []
        if data and rng.random() < cfg.corrupt:
            index = rng.randrange(len(data))
            flipped = data[index] ^ rng.randrange(1, 256)
            data = data[:index] + bytes((flipped,)) + data[index + 1 :]
            self.stats.corrupted += 1
        pieces = [data]
        if len(data) > 1 and rng.random() < cfg.split:
            cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 3))))
            pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
            self.stats.split += 1
        if rng.random() < cfg.duplicate:
            pieces = pieces + pieces
            self.stats.duplicated += 1
        delay = 0.0
        if rng.random() < cfg.delay:
            delay = rng.uniform(0.0, cfg.max_delay)
            self.stats.delayed += 1
        deliveries = [Delivery(delay, piece) for piece in pieces]
        if self._held:
            deliveries += self._held
            self._held = []
        elif rng.random() < cfg.reorder:
            self._held = deliveries
            self.stats.reordered += 1
            return []
        return deliveries

    def release(self) -> list[Delivery]:
        """Deliveries held back for reordering (given up when the writer closes)."""
        held, self._held = self._held, []
        return held


class VirtualHub:
    """Channels of in-process ports, by name. Create one per test, or use :meth:`for_loop`."""

    _per_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, VirtualHub]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self._channels: dict[str, list[VirtualPort]] = {}
        self._faults: dict[str, FaultConfig] = {}

    @classmethod
    def for_loop(cls, loop: asyncio.AbstractEventLoop | None = None) -> VirtualHub:
        """The default hub of ``loop`` (default: the running loop), created on first use."""
        loop = loop or asyncio.get_running_loop()
        hub = cls._per_loop.get(loop)
        if hub is None:
            hub = cls._per_loop[loop] = cls()
        return hub

    def set_faults(self, name: str, config: FaultConfig | None) -> None:
        """Apply ``config`` to every write on channel ``name`` from now on (``None`` clears).

        Ports whose URL names faults keep their own. Each port gets its own injector, seeded
        from the config, so that faults do not depend on which port writes first.
        """
        if config is None:
            self._faults.pop(name, None)
        else:
            self._faults[name] = config
        for port in self._channels.get(name, []):
            if not port.own_faults:
                port.injector = None if config is None else FaultInjector(config)

    def faults(self, name: str) -> FaultConfig | None:
        """The channel-wide fault config of ``name``, if any."""
        return self._faults.get(name)

    def ports(self, name: str) -> list[VirtualPort]:
        """The open ports of channel ``name``."""
        return list(self._channels.get(name, []))

    def _attach(self, port: VirtualPort) -> None:
        self._channels.setdefault(port.name, []).append(port)
        if not port.own_faults:
            config = self._faults.get(port.name)
            port.injector = None if config is None else FaultInjector(config)

    def _detach(self, port: VirtualPort) -> None:
        members = self._channels.get(port.name, [])
        if port in members:
            members.remove(port)
        if not members:
            self._channels.pop(port.name, None)

    def _deliver(self, sender: VirtualPort, deliveries: list[Delivery]) -> None:
        peers = [p for p in self._channels.get(sender.name, []) if p is not sender]
        if not peers:
            sender.stats.drops += sum(len(d.data) for d in deliveries)
            return
        loop = asyncio.get_running_loop()
        for delivery in deliveries:
            if delivery.delay <= 0.0 and not sender.delayed:
                for peer in peers:
                    peer._receive(delivery.data)
                continue
            # Delays keep the channel's byte order: a delivery never overtakes an earlier one.
            when = max(loop.time() + delivery.delay, sender.last_delivery_at)
            sender.last_delivery_at = when
            sender.delayed.append((peers, delivery.data))
            loop.call_at(when, self._deliver_later, sender)

    @staticmethod
    def _deliver_later(sender: VirtualPort) -> None:
        # Each timer delivers the oldest held piece, not "its own": timers due at the same
        # instant may run in any order, the FIFO keeps the bytes in order.
        peers, data = sender.delayed.popleft()
        for peer in peers:
            if peer.is_open:
                peer._receive(data)


class VirtualPort(Port):
    """One end of channel ``NAME`` on a :class:`VirtualHub`: ``virtual://NAME[?faults]``."""

    scheme = "virtual"

    def __init__(
        self, url: str, *, hub: VirtualHub | None = None, faults: FaultConfig | None = None
    ) -> None:
        super().__init__(url)
        parts = url.partition("://")[2]
        name = parts.split("?", 1)[0].split("#", 1)[0].strip("/")
        if not name:
            raise ConfigError(f"expected virtual://NAME, got {url!r}")
        self.name = name
        if faults is None:
            options = query_options(url)
            faults = FaultConfig.from_options(options) if options else None
        self.own_faults = faults is not None
        self.injector: FaultInjector | None = None if faults is None else FaultInjector(faults)
        self._hub = hub
        self._buffer = ReceiveBuffer()
        #: pieces held back by an injected delay, oldest first, with the peers they go to
        self.delayed: deque[tuple[list[VirtualPort], bytes]] = deque()
        self.last_delivery_at = 0.0

    @classmethod
    def from_url(cls, url: str, *, hub: VirtualHub | None = None) -> Self:
        """Build the port for ``url`` on ``hub`` (default: the running loop's hub at open)."""
        return cls(url, hub=hub)

    @property
    def hub(self) -> VirtualHub:
        """The hub this port joins (resolved at open when not given)."""
        if self._hub is None:
            self._hub = VirtualHub.for_loop()
        return self._hub

    async def _open(self) -> None:
        self._buffer.reset()
        self.hub._attach(self)

    async def _close(self) -> None:
        if self.injector is not None:
            held = self.injector.release()
            if held:
                self.hub._deliver(self, held)
        self.hub._detach(self)
        self._buffer.fail(HalError(f"{self.url}: port closed"))

    async def _read_internal(self, max_bytes: int) -> bytes:
        return await self._buffer.get(max_bytes)

    async def _write_internal(self, data: bytes) -> None:
        if self.injector is None:
            self.hub._deliver(self, [_plain(data)])
            return
        before = self.injector.stats.dropped
        deliveries = self.injector.plan(data)
        if self.injector.stats.dropped != before:
            self.stats.drops += len(data)
        self.hub._deliver(self, deliveries)

    def _receive(self, data: bytes) -> None:
        before = self._buffer.dropped
        self._buffer.feed(data)
        self.stats.drops += self._buffer.dropped - before


def _plain(data: bytes) -> Delivery:
    return Delivery(0.0, data)
