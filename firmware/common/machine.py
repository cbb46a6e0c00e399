"""The Machine base: one deterministic state machine per device, stepped by events.

Layer: firmware. Architecture "How a command flows" and style rules E20-E22.

Theory of operation
-------------------
A machine is a pure function of its non-volatile memory (NVM) and the events it is given.
Events are whole inputs: a message that arrived on a named port, a timer expiry, a line
change (power, tamper), always with the time ``now`` supplied from outside. The machine
never reads a clock, sleeps, or touches a file or socket.

:meth:`Machine.step` is the only entry point and the only writer of :attr:`Machine.state`
and of the in-memory NVM image. It classifies the event into an :class:`EventKind`, looks
the next lifecycle state up in :data:`TRANSITIONS` (an illegal pair raises
:class:`~smemu.errors.LocalProtocolError` and changes nothing), then lets the subclass's
handler work on a :class:`Tx` -- a scratch view of NVM that records writes, messages to
send, timer requests and log entries. Only when the handler returns without raising are
the writes applied and the :class:`Step` handed back; the device layer then persists
``step.writes`` in one storage transaction and sends ``step.sends``. A handler that raises
(for instance on a malformed message) therefore leaves no trace but the exception.

Scope rules: NVM keys are short ``/``-separated strings, values are bytes (helpers below
encode integers and JSON); everything a real device keeps across a power cut goes there.
Timers are named; requesting a timer with a name already pending replaces it.

Base-class hooks: :meth:`Machine.booted` runs after every ``on_boot`` and
:meth:`Machine.base_timer` sees every timer before ``on_timer`` -- shared layers
(:class:`~smemu.firmware.common.commands.CommandMachine`'s future-dated queue) use them so
that device subclasses need not call ``super()``. :meth:`Tx.savepoint` / :meth:`Tx.rollback`
let a handler try a sub-operation and undo it alone (a future-dated instruction that fails).
"""

from __future__ import annotations

import abc
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Final

from smemu.errors import LocalProtocolError
from smemu.protocols.gbcs.types import Eui64


class DeviceType(enum.StrEnum):
    """SMETS2 device types emulated (the value is the short name used in files and logs)."""

    ESME = "esme"
    GSME = "gsme"
    CHF = "chf"
    GPF = "gpf"
    PPMID = "ppmid"
    HCALC = "hcalc"


class MachineState(enum.Enum):
    """Lifecycle state of a machine."""

    OFF = "off"  #: not started, or power removed
    RUNNING = "running"  #: powered and listening
    ASLEEP = "asleep"  #: battery device with its radio off (GSME between wake-ups)


class EventKind(enum.Enum):
    """What an event means to the lifecycle table."""

    POWER_ON = "power_on"
    POWER_OFF = "power_off"
    MESSAGE = "message"
    TIMER = "timer"
    LINE = "line"
    SLEEP = "sleep"
    WAKE = "wake"


#: state -> event kind -> next state. Anything absent is illegal in that state.
TRANSITIONS: Final[Mapping[MachineState, Mapping[EventKind, MachineState]]] = {
    MachineState.OFF: {
        EventKind.POWER_ON: MachineState.RUNNING,
        EventKind.POWER_OFF: MachineState.OFF,
    },
    MachineState.RUNNING: {
        EventKind.POWER_ON: MachineState.RUNNING,
        EventKind.MESSAGE: MachineState.RUNNING,
        EventKind.TIMER: MachineState.RUNNING,
        EventKind.LINE: MachineState.RUNNING,
        EventKind.SLEEP: MachineState.ASLEEP,
        EventKind.WAKE: MachineState.RUNNING,
        EventKind.POWER_OFF: MachineState.OFF,
    },
    MachineState.ASLEEP: {
        EventKind.TIMER: MachineState.ASLEEP,
        EventKind.LINE: MachineState.ASLEEP,
        EventKind.WAKE: MachineState.RUNNING,
        EventKind.SLEEP: MachineState.ASLEEP,
        EventKind.POWER_OFF: MachineState.OFF,
    },
}


# ------------------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class BootEvent:
    """The device was started (power applied, process started)."""


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """Bytes of one whole message arrived on a port."""

    port: str  #: the port's role name: ``wan``, ``han`` ...
    data: bytes  #: one framed unit (a GBCS message, or a HAN tunnel frame)
    source: Eui64 | None = None  #: sender on a shared medium (HAN), when known


@dataclass(frozen=True, slots=True)
class TimerEvent:
    """A timer the machine requested has expired."""

    name: str


@dataclass(frozen=True, slots=True)
class LineEvent:
    """A discrete input changed: ``power``, ``tamper``, ``hot_shoe`` ..."""

    line: str
    active: bool


Event = BootEvent | MessageEvent | TimerEvent | LineEvent


# ----------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to send on a port (``to`` names the HAN destination)."""

    port: str
    data: bytes
    to: Eui64 | None = None


@dataclass(frozen=True, slots=True)
class TimerRequest:
    """Start (``at`` set) or cancel (``at`` None) the timer called ``name``."""

    name: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One entry for a device log (``event`` or ``security``), or a ``trace`` note."""

    at: datetime
    log: str
    code: int  #: GBCS event/alert code where one applies, else 0
    text: str


@dataclass(frozen=True, slots=True)
class Step:
    """Everything one event produced. The device persists ``writes`` in one transaction."""

    state: MachineState
    writes: Mapping[str, bytes | None]  #: ``None`` deletes the key
    sends: tuple[Outgoing, ...] = ()
    timers: tuple[TimerRequest, ...] = ()
    logs: tuple[LogEntry, ...] = ()
    #: named tallies for the device's statistics (``accepted``, ``rejected`` ...)
    tallies: tuple[str, ...] = ()


@dataclass(slots=True)
class Tx:
    """Scratch view of NVM for one step: reads see earlier writes of the same step."""

    now: datetime
    base: Mapping[str, bytes]
    writes: dict[str, bytes | None] = field(default_factory=dict)
    sends: list[Outgoing] = field(default_factory=list)
    timers: list[TimerRequest] = field(default_factory=list)
    logs: list[LogEntry] = field(default_factory=list)
    tallies: list[str] = field(default_factory=list)

    def get(self, key: str) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.base.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: str) -> None:
        self.writes[key] = None

    def keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` as this step sees them, sorted."""
        found = {k for k in self.base if k.startswith(prefix)}
        for k, v in self.writes.items():
            if k.startswith(prefix):
                if v is None:
                    found.discard(k)
                else:
                    found.add(k)
        return sorted(found)

    def get_int(self, key: str, default: int = 0) -> int:
        raw = self.get(key)
        return default if raw is None else int.from_bytes(raw, "big")

    def put_int(self, key: str, value: int) -> None:
        self.put(key, value.to_bytes(max(8, (value.bit_length() + 7) // 8), "big"))

    def get_json(self, key: str, default: object = None) -> object:
        raw = self.get(key)
        return default if raw is None else json.loads(raw)

    def put_json(self, key: str, value: object) -> None:
        self.put(key, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())

    def send(self, port: str, data: bytes, to: Eui64 | None = None) -> None:
        self.sends.append(Outgoing(port, data, to))

    def timer(self, name: str, at: datetime | None) -> None:
        self.timers.append(TimerRequest(name, at))

    def log(self, log: str, text: str, code: int = 0) -> None:
        self.logs.append(LogEntry(self.now, log, code, text))

    def tally(self, name: str) -> None:
        self.tallies.append(name)

    def savepoint(self) -> Savepoint:
        """Mark this step's outputs so far; :meth:`rollback` returns to the mark."""
        return Savepoint(
            dict(self.writes),
            len(self.sends),
            len(self.timers),
            len(self.logs),
            len(self.tallies),
        )

    def rollback(self, mark: Savepoint) -> None:
        """Forget every write, send, timer, log and tally made after ``mark``."""
        self.writes = dict(mark.writes)
        del self.sends[mark.sends :]
        del self.timers[mark.timers :]
        del self.logs[mark.logs :]
        del self.tallies[mark.tallies :]


@dataclass(frozen=True, slots=True)
class Savepoint:
    """Where a :class:`Tx` stood when :meth:`Tx.savepoint` was called."""

    writes: Mapping[str, bytes | None]
    sends: int
    timers: int
    logs: int
    tallies: int


class Machine(abc.ABC):
    """Base of every device machine: identity, NVM image, lifecycle table, the step method.

    Subclasses set :attr:`device_type`, implement :meth:`on_boot` and :meth:`on_message`,
    and may override :meth:`on_timer`, :meth:`on_line` and :meth:`classify`.
    """

    device_type: ClassVar[DeviceType]

    def __init__(self, eui: Eui64, nvm: Mapping[str, bytes]) -> None:
        #: this device's entity identifier
        self.eui = eui
        self._nvm: dict[str, bytes] = dict(nvm)
        self._state = MachineState.OFF

    @property
    def state(self) -> MachineState:
        return self._state

    @property
    def nvm(self) -> Mapping[str, bytes]:
        """The committed NVM image (read-only view for tests and tools)."""
        return self._nvm

    def classify(self, event: Event) -> EventKind:
        """Map an event to its lifecycle kind (subclasses add wake/sleep timers)."""
        if isinstance(event, BootEvent):
            return EventKind.POWER_ON
        if isinstance(event, MessageEvent):
            return EventKind.MESSAGE
        if isinstance(event, TimerEvent):
            return EventKind.TIMER
        if event.line == "power":
            return EventKind.POWER_ON if event.active else EventKind.POWER_OFF
        return EventKind.LINE

    def step(self, event: Event, now: datetime) -> Step:
        """Apply one event at time ``now``; the only writer of :attr:`state` and NVM.

        :raises LocalProtocolError: the event is illegal in the current state (nothing
            changes).
        :raises DecodeError, SecurityError: from handlers, on bad input (nothing changes).
        """
        kind = self.classify(event)
        target = TRANSITIONS[self._state].get(kind)
        if target is None:
            raise LocalProtocolError(
                f"{self.device_type.name} {self.eui}: event {kind.value} is illegal in "
                f"state {self._state.value}"
            )
        tx = Tx(now, self._nvm)
        if isinstance(event, BootEvent) or kind is EventKind.POWER_ON:
            self.on_boot(tx)
            self.booted(tx)
        elif isinstance(event, MessageEvent):
            self.on_message(tx, event)
        elif isinstance(event, TimerEvent):
            if not self.base_timer(tx, event):
                self.on_timer(tx, event)
        elif isinstance(event, LineEvent):
            self.on_line(tx, event)
        # Commit: nothing above mutated the machine.
        for key, value in tx.writes.items():
            if value is None:
                self._nvm.pop(key, None)
            else:
                self._nvm[key] = value
        self._state = target
        self.committed(tx.writes)
        return Step(
            target,
            dict(tx.writes),
            tuple(tx.sends),
            tuple(tx.timers),
            tuple(tx.logs),
            tuple(tx.tallies),
        )

    def committed(self, writes: Mapping[str, bytes | None]) -> None:
        """Hook after a step's writes are applied (e.g. to drop caches built from NVM)."""
        return  # nothing cached in the base class

    def booted(self, tx: Tx) -> None:
        """Hook after :meth:`on_boot` for shared layers (re-arming persisted timers)."""
        return  # nothing shared in the base class

    def base_timer(self, tx: Tx, event: TimerEvent) -> bool:
        """Hook before :meth:`on_timer`: handle timers a shared layer owns (True: handled)."""
        return False

    @abc.abstractmethod
    def on_boot(self, tx: Tx) -> None:
        """Start-up: provision defaults on first boot, request the device's timers."""

    @abc.abstractmethod
    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        """Handle one message."""

    def on_timer(self, tx: Tx, event: TimerEvent) -> None:
        """Handle a timer expiry (default: note it)."""
        tx.log("trace", f"timer {event.name}")

    def on_line(self, tx: Tx, event: LineEvent) -> None:
        """Handle a line change (default: an event-log entry)."""
        tx.log("event", f"line {event.line} {'active' if event.active else 'inactive'}")
