"""Device: a firmware machine with its storage, clock, timers and links, pumped by asyncio.

Layer: devices (the only layer with an event loop).

Every input -- bytes framed from a port, a frame from the in-process HAN, a timer expiry,
a line event -- becomes one :meth:`Device.deliver` call: one machine step, whose NVM writes
and log entries are committed in one storage transaction before any output leaves. Bad
input (a decode failure, an illegal event for the state, a security exception) is caught,
counted in :attr:`Device.stats` and logged; the machine's state is untouched because a
failed step commits nothing. Nothing a peer sends can stop the device.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from smemu.errors import DecodeError, LocalProtocolError, SecurityError
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.machine import (
    BootEvent,
    DeviceType,
    Event,
    LineEvent,
    LogEntry,
    MachineState,
    MessageEvent,
    Outgoing,
    Step,
    TimerEvent,
)
from smemu.firmware.common.registry import MACHINES
from smemu.hal.clock import Clock, TimerHandle
from smemu.hal.storage import Storage
from smemu.protocols.gbcs.types import Eui64

log = logging.getLogger(__name__)

#: persisted log entries kept per log kind (older ones are deleted as new ones arrive)
LOG_KEEP: Final = 1000
_LOG_NEXT: Final = "log/next"
#: log kinds that are persisted (``trace`` goes to Python logging only)
PERSISTED_LOGS: Final = frozenset({"event", "security"})

#: device-level record of supply outages: ``dev/supply/<seq>`` JSON {"off": iso, "on": iso|null}
SUPPLY_PREFIX: Final = "dev/supply/"
#: line -> state in which a device is assumed to start (powered, sealed, seated)
NOMINAL_LINES: Final = {"power": True, "tamper": False, "hot_shoe": True}
#: event-log text of a line change, by (line, active)
_LINE_TEXT: Final = {
    ("power", False): "supply outage: power lost",
    ("power", True): "supply restored",
    ("tamper", True): "tamper: seal broken",
    ("tamper", False): "tamper: sealed again",
    ("hot_shoe", True): "hot shoe: comms hub seated",
    ("hot_shoe", False): "hot shoe: comms hub removed",
}

#: Callback through which a device's outputs leave: (device, outgoing message).
Sender = Callable[["Device", Outgoing], None]
#: Observer of every committed step: (device, step), after its outputs left.
StepObserver = Callable[["Device", Step], None]


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """What a premises file says about one device."""

    type: DeviceType
    eui: Eui64
    name: str  #: short label, e.g. ``esme``
    #: extra NVM settings applied at first start (e.g. ``{"gsme/wake_s": 1800}``)
    settings: tuple[tuple[str, int], ...] = ()


class Device:
    """One emulated device. Construct with :meth:`open`."""

    def __init__(
        self, spec: DeviceSpec, machine: CommandMachine, storage: Storage, clock: Clock
    ) -> None:
        self.spec = spec
        self.machine = machine
        self.storage = storage
        self.clock = clock
        #: counters: received, sent, accepted, rejected, bad_input, errors, ...
        self.stats: Counter[str] = Counter()
        #: recent log entries (all kinds), newest last
        self.recent: deque[LogEntry] = deque(maxlen=200)
        self._timers: dict[str, TimerHandle] = {}
        self._sender: Sender | None = None
        #: called after every committed step (tests, tools)
        self.observers: list[StepObserver] = []
        self.closed = False
        #: the last known state of each discrete line (``power``, ``tamper``, ``hot_shoe``)
        self.lines: dict[str, bool] = dict(NOMINAL_LINES)

    @property
    def eui(self) -> Eui64:
        return self.spec.eui

    @property
    def label(self) -> str:
        return f"{self.spec.name} {self.spec.eui}"

    @classmethod
    def open(
        cls,
        spec: DeviceSpec,
        path: Path,
        clock: Clock,
        provisioning: Callable[[], dict[str, bytes]],
    ) -> Device:
        """Open (or create) the device's store; provision keys on first start.

        ``provisioning`` is called only for a new store; its entries and the spec's
        settings are written in one transaction before the machine first sees them.
        """
        storage = Storage.open(path)
        if storage.get("cred/ds") is None:
            writes = provisioning()
            with storage.transaction() as tx:
                for key, value in writes.items():
                    tx.put(key, value)
                for key, number in spec.settings:
                    tx.put(key, number.to_bytes(8, "big"))
        nvm = dict(storage.items())
        machine = MACHINES[spec.type](spec.eui, nvm)
        return cls(spec, machine, storage, clock)

    def connect(self, sender: Sender) -> None:
        """Set where outputs go (the premises wires ports and the HAN)."""
        self._sender = sender

    def boot(self) -> None:
        self.deliver(BootEvent())

    def deliver(self, event: Event) -> Step | None:
        """Run one machine step; persist; dispatch outputs. Never raises for bad input."""
        if self.closed:
            return None
        now = self.clock.now()
        try:
            step = self.machine.step(event, now)
        except (DecodeError, LocalProtocolError, SecurityError) as exc:
            self.stats["bad_input"] += 1
            self._note(LogEntry(now, "trace", 0, f"bad input ({type(exc).__name__}): {exc}"))
            log.info("%s: bad input dropped: %s", self.label, exc)
            return None
        except Exception:  # a firmware bug must not take the device down
            self.stats["errors"] += 1
            log.exception("%s: firmware error on %s", self.label, type(event).__name__)
            return None
        self._persist(step)
        for name in step.tallies:
            self.stats[name] += 1
        for entry in step.logs:
            self._note(entry)
        for request in step.timers:
            self._set_timer(request.name, request.at)
        if self._sender is not None:
            for out in step.sends:
                self._sender(self, out)
        for observer in self.observers:
            observer(self, step)
        return step

    def message(self, port: str, data: bytes, source: Eui64 | None = None) -> None:
        """Deliver one framed message that arrived on ``port``."""
        self.stats[f"in_{port}"] += 1
        self.deliver(MessageEvent(port, data, source))

    @property
    def powered(self) -> bool:
        """Whether the device has power (its machine is not OFF)."""
        return self.machine.state is not MachineState.OFF

    def line(self, line: str, active: bool) -> Step | None:
        """A discrete line changed (rig power, tamper switch, hot shoe).

        A report that repeats the known state is ignored. A change is one machine step
        (:class:`LineEvent`) plus the device's own event-log entry; a power-off then
        power-on pair is kept as one supply outage (:meth:`outages`), the story the ESME
        firmware turns into supply outage / restore alerts.
        """
        if self.closed or self.lines.get(line) == active:
            return None
        self.lines[line] = active
        self.stats[f"line_{line}_{'on' if active else 'off'}"] += 1
        now = self.clock.now()
        writes: dict[str, bytes | None] = {}
        text = _LINE_TEXT.get((line, active), f"line {line} {'active' if active else 'inactive'}")
        if line == "power":
            writes = self._supply_writes(active, now)
            for raw in writes.values():
                record = json.loads(raw or b"{}")
                if active:
                    lasted = now - datetime.fromisoformat(str(record["off"]))
                    text = f"supply restored after {lasted}"
        entry = LogEntry(now, "event", 0, text)
        self._write(writes, [entry])
        self._note(entry)
        return self.deliver(LineEvent(line, active))

    def _supply_writes(self, on: bool, now: datetime) -> dict[str, bytes | None]:
        items = list(self.storage.items(SUPPLY_PREFIX))
        if not on:
            seq = 0
            if items:
                seq = int(items[-1][0].removeprefix(SUPPLY_PREFIX)) + 1
            record = {"off": now.isoformat(), "on": None}
            return {f"{SUPPLY_PREFIX}{seq:012d}": json.dumps(record).encode()}
        if not items:
            return {}
        key, raw = items[-1]
        record = json.loads(raw)
        if record.get("on") is not None:
            return {}
        record["on"] = now.isoformat()
        return {key: json.dumps(record).encode()}

    def outages(self) -> list[dict[str, str | None]]:
        """Supply outages seen, oldest first: ``{"off": iso, "on": iso or None}``."""
        return [json.loads(v) for _, v in self.storage.items(SUPPLY_PREFIX)]

    def _note(self, entry: LogEntry) -> None:
        self.recent.append(entry)
        if entry.log != "trace":
            log.debug("%s [%s] %s", self.label, entry.log, entry.text)

    def _persist(self, step: Step) -> None:
        self._write(step.writes, step.logs)

    def _write(self, writes: Mapping[str, bytes | None], logs: Iterable[LogEntry]) -> None:
        persisted = [e for e in logs if e.log in PERSISTED_LOGS]
        if not writes and not persisted:
            return
        with self.storage.transaction() as tx:
            for key, value in writes.items():
                if value is None:
                    tx.delete(key)
                else:
                    tx.put(key, value)
            if persisted:
                raw = tx.get(_LOG_NEXT)
                seq = 0 if raw is None else int.from_bytes(raw, "big")
                for entry in persisted:
                    record = {"at": entry.at.isoformat(), "code": entry.code, "text": entry.text}
                    tx.put(f"log/{entry.log}/{seq:012d}", json.dumps(record).encode())
                    old = seq - LOG_KEEP
                    if old >= 0:
                        tx.delete(f"log/{entry.log}/{old:012d}")
                    seq += 1
                tx.put(_LOG_NEXT, seq.to_bytes(8, "big"))

    def logs(self, kind: str) -> list[dict[str, object]]:
        """The persisted entries of log ``kind`` (``event`` or ``security``), oldest first."""
        return [json.loads(v) for _, v in self.storage.items(f"log/{kind}/")]

    def _set_timer(self, name: str, at: datetime | None) -> None:
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()
        if at is None:
            return

        def fire() -> None:
            self._timers.pop(name, None)
            self.deliver(TimerEvent(name))

        self._timers[name] = self.clock.call_at(at, fire)

    def close(self) -> None:
        """Cancel timers and close the store (idempotent)."""
        if self.closed:
            return
        self.closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self.storage.close()
