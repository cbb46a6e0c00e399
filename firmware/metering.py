"""The ESME's registers kept in the register engine, and the load model that drives them.

Layer: firmware. The meter's engine state, its log region and its compiled table are NVM
(``reg/state``, ``reg/logs``, ``reg/table``); :func:`catch_up` advances the engine from the
state's instant to the last half-hour boundary before ``tx.now`` in **one** engine call per
span, with the consumption of a deterministic load model (:class:`LoadModel`, set by the
device configuration under ``esme/load``): a constant power, or a seeded half-hourly
profile. Reads of energy, TOU and block registers, balances, debts, maximum demand and the
logs are views of that state (:func:`registers`, :func:`logs`).

Register values are valid at half-hour boundaries (the engine's interval): a read between
two boundaries shows the registers of the last one.

A twin-element meter keeps a second engine meter for its secondary element under its own
NVM keys (:data:`SECONDARY`); every function here takes the :class:`Element` whose keys it
works on (default: :data:`PRIMARY`).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from smemu.firmware.common.machine import Tx
from smemu.firmware.registers import advance as engine_advance
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.ops import Event, Registers, decode_events, read
from smemu.firmware.registers.tables import Table

STATE: Final = "reg/state"
LOGS: Final = "reg/logs"
TABLE: Final = "reg/table"
LOAD: Final = "esme/load"  #: JSON {"watts": int} or {"watts": int, "seed": int}


@dataclass(frozen=True, slots=True)
class Element:
    """The NVM keys of one measuring element's engine meter."""

    state: str  #: the engine state words
    logs: str  #: the engine log region
    table: str  #: the compiled table the element's registers advance under


#: the (primary) measuring element: every ESME has it
PRIMARY: Final = Element(STATE, LOGS, TABLE)
#: the secondary measuring element of a twin-element ESME (:mod:`smemu.firmware.esme_twin`)
SECONDARY: Final = Element("reg2/state", "reg2/logs", "reg2/table")

DEFAULT_WATTS: Final = 400
_MAX_WH: Final = 0xFFFF


def epoch(instant: datetime) -> int:
    """UTC seconds of an aware datetime."""
    return int(instant.timestamp())


def instant(seconds: int) -> datetime:
    """The aware UTC datetime of UTC seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def floor_interval(seconds: int) -> int:
    """The half-hour boundary at or before ``seconds``."""
    return seconds - seconds % lay.INTERVAL


@dataclass(frozen=True, slots=True)
class LoadModel:
    """Deterministic consumption: ``watts`` constant, or a seeded profile around it.

    With a ``seed``, each half-hour's energy is ``watts`` shaped by the UTC hour of day
    (low at night, peaks morning and evening) and varied by a hash of (seed, interval), so
    any span's consumption is the same however the span is cut.
    """

    watts: int = DEFAULT_WATTS
    seed: int | None = None

    @classmethod
    def from_tx(cls, tx: Tx, key: str = LOAD, default: int = DEFAULT_WATTS) -> LoadModel:
        """The model configured under ``key`` (JSON), else a constant ``default`` W."""
        raw = tx.get_json(key, {})
        if not isinstance(raw, dict):
            return cls(default)
        watts = raw.get("watts", default)
        seed = raw.get("seed")
        return cls(
            watts if isinstance(watts, int) and watts >= 0 else default,
            seed if isinstance(seed, int) else None,
        )

    def constant_wh(self) -> int:
        """Wh per half-hour of the constant model."""
        return min(_MAX_WH, self.watts // 2)

    def max_wh(self) -> int:
        """The largest half-hour energy the model produces."""
        if self.seed is None:
            return self.constant_wh()
        return min(_MAX_WH, self.watts * max(_SHAPE) * 125 // 20_000)

    def interval_wh(self, t: int) -> int:
        """Wh in the half-hour starting at UTC ``t``."""
        if self.seed is None:
            return self.constant_wh()
        hour = (t % 86_400) // 3600
        shape = _SHAPE[hour]
        digest = hashlib.blake2b(
            f"{self.seed}:{t // lay.INTERVAL}".encode(), digest_size=2
        ).digest()
        jitter = 75 + int.from_bytes(digest, "big") % 51  # 75 % .. 125 %
        return min(_MAX_WH, self.watts * shape * jitter // 20_000)

    def series(self, t_from: int, t_to: int) -> array[int]:
        """uint16 Wh per interval over [t_from, t_to) (one value for a constant load)."""
        if self.seed is None:
            return array("H", (self.constant_wh(),))
        return array("H", (self.interval_wh(t) for t in range(t_from, t_to, lay.INTERVAL)))


#: hour-of-day shape (percent of the mean power), a domestic day
_SHAPE: Final = (40, 35, 30, 30, 30, 40, 70, 130, 120, 90, 80, 80,
                 85, 80, 75, 80, 100, 160, 190, 170, 140, 110, 80, 55)  # fmt: skip


def has_state(tx: Tx, element: Element = PRIMARY) -> bool:
    return tx.get(element.state) is not None


def initialise(
    tx: Tx, table: Table, *, prepay: bool = False, balance: int = 0, element: Element = PRIMARY
) -> None:
    """A commissioned meter's zeroed registers, valid from the half-hour before now."""
    state = lay.new_state(floor_interval(epoch(tx.now)), prepay=prepay, balance=balance)
    tx.put(element.state, state.tobytes())
    tx.put(element.table, table.data)
    tx.put(element.logs, bytes(lay.log_bytes(table.words)))


def migrate(tx: Tx, element: Element = PRIMARY) -> None:
    """Bring a meter stored under an older engine layout to the current one (a no-op when
    it is current or not yet commissioned); see :func:`~smemu.firmware.registers.layout.upgrade`."""
    table, state = tx.get(element.table), tx.get(element.state)
    if table is None or state is None or len(state) == lay.STATE_BYTES:
        return
    logs = tx.get(element.logs) or b""
    new_table, new_state, new_logs = lay.upgrade(table, state, logs)
    tx.put(element.table, new_table)
    tx.put(element.state, new_state)
    if new_logs:
        tx.put(element.logs, new_logs)


def state_words(tx: Tx, element: Element = PRIMARY) -> array[int]:
    """A mutable copy of the engine state."""
    words = array("q")
    raw = tx.get(element.state)
    words.frombytes(raw or lay.new_state(floor_interval(epoch(tx.now))).tobytes())
    return words


def table_words(tx: Tx, element: Element = PRIMARY) -> array[int]:
    words = array("q")
    words.frombytes(tx.get(element.table) or bytes(lay.TABLE_BYTES))
    return words


def registers(tx: Tx, element: Element = PRIMARY) -> Registers:
    """The registers at the state's instant (call :func:`catch_up` first)."""
    return read(state_words(tx, element))


def logs(tx: Tx, element: Element = PRIMARY) -> bytes:
    return tx.get(element.logs) or b""


def catch_up(
    tx: Tx,
    load: LoadModel,
    *,
    closed: bool,
    until: int | None = None,
    element: Element = PRIMARY,
) -> list[Event]:
    """Advance the engine to the last half-hour boundary at or before ``until`` (default
    ``tx.now``) in one call; ``closed`` False (supply open by command) means no consumption."""
    migrate(tx, element)
    state = state_words(tx, element)
    t_from = state[lay.S_T]
    t_to = floor_interval(epoch(tx.now) if until is None else until)
    if t_to <= t_from:
        return []
    table = tx.get(element.table) or bytes(lay.TABLE_BYTES)
    log_region = bytearray(tx.get(element.logs) or b"")
    imports = load.series(t_from, t_to) if closed else array("H", (0,))
    data = engine_advance(
        table, memoryview(state).cast("B"), log_region or None, t_from, t_to, imports, None
    )
    tx.put(element.state, state.tobytes())
    if log_region:
        tx.put(element.logs, bytes(log_region))
    return decode_events(data)


def mutate(
    tx: Tx, change: Callable[[array[int], array[int]], object], element: Element = PRIMARY
) -> object:
    """Apply an instantaneous operation (``ops.*``) to (table words, state words)."""
    migrate(tx, element)
    state = state_words(tx, element)
    result = change(table_words(tx, element), state)
    tx.put(element.state, state.tobytes())
    return result


def replace_table(tx: Tx, table: Table, element: Element = PRIMARY) -> None:
    """Install a new compiled table (tariff or prepayment change), keeping the logs when
    the new table keeps the same log sections."""
    old = table_words(tx, element)
    tx.put(element.table, table.data)
    if lay.log_bytes(old) != lay.log_bytes(table.words):
        tx.put(element.logs, bytes(lay.log_bytes(table.words)))


def intervals_of_credit(table: array[int], load: LoadModel, credit: int) -> int:
    """A lower bound of the half-hours ``credit`` (fine units) lasts: daily charges (standing
    charge, daily debt recovery) taken at once, then the dearest price at the largest
    interval energy and hourly debt recovery every half-hour. At least 1."""
    prices = list(table[lay.T_TOU_PRICE : lay.T_THRESH])
    per_interval = max(prices, default=0) * load.max_wh() + 1
    lumps = table[lay.T_STANDING]
    for i in range(2):
        rate = table[lay.T_DEBT_RATE + i]
        if table[lay.T_DEBT_PERIOD + i] == 0:
            per_interval += rate
        else:
            lumps += rate
    return max(1, (credit - lumps) // per_interval)


__all__ = [
    "LOAD",
    "PRIMARY",
    "SECONDARY",
    "Element",
    "LoadModel",
    "catch_up",
    "epoch",
    "floor_interval",
    "has_state",
    "initialise",
    "instant",
    "intervals_of_credit",
    "logs",
    "mutate",
    "registers",
    "replace_table",
    "state_words",
    "table_words",
]
