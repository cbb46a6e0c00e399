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

Mains outages: a meter without power measures nothing. :func:`power_lost` and
:func:`power_restored` keep the spans without supply (``esme/dark``); :func:`catch_up`
gives every interval only the share of its energy that falls outside them (an interval cut
by the loss or the return is pro-rated by the seconds it had power).

A twin-element meter keeps a second engine meter for its secondary element under its own
NVM keys (:data:`SECONDARY`); every function here takes the :class:`Element` whose keys it
works on (default: :data:`PRIMARY`).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Sequence
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
#: JSON [[off, on or null], ...]: UTC seconds of the mains outages the engine may still meet
DARK: Final = "esme/dark"


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


Span = tuple[int, int | None]  #: a mains outage: (lost, restored or None while it lasts)


def dark_spans(tx: Tx) -> list[Span]:
    """The outages kept in NVM, oldest first."""
    raw = tx.get_json(DARK, [])
    spans: list[Span] = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], int):
                spans.append((item[0], item[1] if isinstance(item[1], int) else None))
    return spans


def power_lost(tx: Tx, at: int) -> None:
    """The mains supply went at UTC ``at``: no consumption from then on.

    The caller brings every element's engine to the loss first, so a span that ended
    before the interval of the loss can no longer touch an interval still to advance over:
    it is forgotten.
    """
    if any(on is None for _, on in dark_spans(tx)):
        return  # already dark
    kept = [s for s in dark_spans(tx) if s[1] is None or s[1] > floor_interval(at)]
    tx.put_json(DARK, [list(s) for s in kept] + [[at, None]])


def power_restored(tx: Tx, at: int) -> None:
    """The mains supply came back at UTC ``at``: consumption resumes from that instant."""
    spans = dark_spans(tx)
    if not spans or spans[-1][1] is not None:
        return
    off = spans[-1][0]
    spans[-1] = (off, max(off, at))
    tx.put_json(DARK, [list(s) for s in spans])


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def imports(
    load: LoadModel, t_from: int, t_to: int, *, closed: bool, dark: Sequence[Span] = ()
) -> array[int]:
    """uint16 Wh per interval over [t_from, t_to) (one value when every interval takes the
    same): nothing while the load switch is open; outside the ``dark`` spans only."""
    if not closed:
        return array("H", (0,))
    step = lay.INTERVAL
    hit = [
        (max(off, t_from), t_to if on is None else min(on, t_to))
        for off, on in dark
        if off < t_to and (on is None or on > t_from)
    ]
    hit = _union([(a, b) for a, b in hit if a < b])
    series = load.series(t_from, t_to)
    if not hit:
        return series
    count = (t_to - t_from) // step
    base = series if len(series) == count else series * count
    out = array("H", base)
    partial: dict[int, int] = {}  # interval index -> dark seconds in it
    for a, b in hit:
        lo, hi = -(-(a - t_from) // step), (b - t_from) // step
        if hi > lo:
            out[lo:hi] = array("H", bytes(2 * (hi - lo)))
        first, last = (a - t_from) // step, (b - 1 - t_from) // step
        for i in {first, last}:
            if lo <= i < hi:
                continue  # wholly dark
            start = t_from + i * step
            dark_s = min(b, start + step) - max(a, start)
            partial[i] = min(step, partial.get(i, 0) + dark_s)
    for i, dark_s in partial.items():
        out[i] = base[i] * (step - dark_s) // step
    return out


def catch_up(
    tx: Tx,
    load: LoadModel,
    *,
    closed: bool,
    until: int | None = None,
    element: Element = PRIMARY,
) -> list[Event]:
    """Advance the engine to the last half-hour boundary at or before ``until`` (default
    ``tx.now``) in one call; ``closed`` False (supply open by command) means no consumption,
    and nothing is consumed while the meter has no mains supply (:func:`dark_spans`)."""
    migrate(tx, element)
    state = state_words(tx, element)
    t_from = state[lay.S_T]
    t_to = floor_interval(epoch(tx.now) if until is None else until)
    if t_to <= t_from:
        return []
    table = tx.get(element.table) or bytes(lay.TABLE_BYTES)
    log_region = bytearray(tx.get(element.logs) or b"")
    imports_wh = imports(load, t_from, t_to, closed=closed, dark=dark_spans(tx))
    data = engine_advance(
        table, memoryview(state).cast("B"), log_region or None, t_from, t_to, imports_wh, None
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
    "DARK",
    "LOAD",
    "PRIMARY",
    "SECONDARY",
    "Element",
    "LoadModel",
    "Span",
    "catch_up",
    "dark_spans",
    "epoch",
    "floor_interval",
    "has_state",
    "imports",
    "initialise",
    "instant",
    "intervals_of_credit",
    "logs",
    "mutate",
    "power_lost",
    "power_restored",
    "registers",
    "replace_table",
    "state_words",
    "table_words",
]
