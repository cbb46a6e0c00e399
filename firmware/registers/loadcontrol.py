"""Auxiliary load control switch timing: the state timeline of one switch over a span.

Layer: firmware. :func:`timeline` is the reference; ``_engine.switch_timeline`` computes the
same timeline in C from :func:`packed_inputs` (the package's ``switch_timeline`` picks the
active implementation; the command rules of :func:`_effective` stay here, as they act once per
command, not per instant). The rules are the HCALC / ALCS ones of
seed 004 (product.md): the state comes from, in priority order, the supply state (fail open
on loss, re-established on restore), a test in progress (flip for 5 minutes, then back to
the calendar), the latest ad hoc command or boost in effect (later ones supersede earlier
ones; a boost is 15-minute steps up to 60 minutes and is refused, or cut short, in a
"no override" period), and the switch calendar (on/off per local day profile) with a random
offset per switching instant within the configured limit. Offsets come from SplitMix64
seeded by (seed, switch, day, entry), so every implementation draws the same ones.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass

from smemu.errors import ConfigError
from smemu.firmware.registers.calendar import local_day, local_midnight, weekday

MASK64 = (1 << 64) - 1
TEST_SECONDS = 300
BOOST_STEP = 900
BOOST_MAX = 3600


def splitmix64(x: int) -> int:
    """One SplitMix64 output for state ``x`` (the engine's deterministic PRNG)."""
    z = (x + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def random_offset(seed: int, switch: int, day: int, entry: int, limit: int) -> int:
    """Seconds (0..limit) added to one calendar switching instant."""
    if limit <= 0:
        return 0
    key = splitmix64(seed) ^ (switch << 48) ^ ((day & 0xFFFF_FFFF) << 8) ^ entry
    return splitmix64(key & MASK64) % (limit + 1)


@dataclass(frozen=True, slots=True)
class SwitchCalendar:
    """Per weekday (Monday first): (minute of the local day, closed) switching entries."""

    days: tuple[tuple[tuple[int, bool], ...], ...]
    random_offset_limit: int = 0  #: seconds, up to 600 in practice (performance.md)


@dataclass(frozen=True, slots=True)
class SwitchCommand:
    """An input at UTC ``t``: "adhoc" (closed, duration), "boost", "test", "loss", "restore"."""

    t: int
    kind: str
    closed: bool = True
    duration: int | None = None  #: seconds; None = until superseded
    delay_minutes: int = 0  #: the switch's delay timer, 1..1440 minutes when used


def _calendar_state(cal: SwitchCalendar, seed: int, switch: int, t: int) -> bool:
    """The calendar state at ``t``: the last (offset) entry at or before t, looking back a day."""
    state = False
    best = None
    for day in (local_day(t) - 1, local_day(t)):
        start = local_midnight(day)
        for i, (minute, closed) in enumerate(cal.days[weekday(day)]):
            at = start + minute * 60 + random_offset(seed, switch, day, i, cal.random_offset_limit)
            if at <= t and (best is None or at >= best):
                best, state = at, closed
    return state


def _effective(
    commands: list[SwitchCommand], no_override: tuple[tuple[int, int], ...]
) -> list[tuple[int, int, str, bool]]:
    """Commands as (start, end, kind, closed) with delays, supersession and boost rules."""
    out: list[tuple[int, int, str, bool]] = []
    for cmd in sorted(commands, key=lambda c: c.t):
        if cmd.delay_minutes and not 1 <= cmd.delay_minutes <= 1440:
            raise ConfigError("delay timer is 1..1440 minutes")
        start = cmd.t + cmd.delay_minutes * 60
        if cmd.kind == "boost":
            if any(a <= start < b for a, b in no_override):
                continue  # no override in a "no override" period
            steps = -(-(cmd.duration or BOOST_STEP) // BOOST_STEP)
            end = start + min(steps * BOOST_STEP, BOOST_MAX)
            end = min([end, *(a for a, _b in no_override if start < a < end)])
            closed = True
        elif cmd.kind == "test":
            end, closed = start + TEST_SECONDS, True
        elif cmd.kind in ("adhoc", "loss", "restore"):
            end = start + cmd.duration if cmd.duration is not None else 1 << 62
            closed = cmd.closed
        else:
            raise ConfigError(f"unknown switch command {cmd.kind!r}")
        if cmd.kind in ("adhoc", "boost"):  # a later command supersedes an earlier one
            out = [(a, min(b, start) if k in ("adhoc", "boost") else b, k, c)
                   for a, b, k, c in out]
        out.append((start, end, cmd.kind, closed))
    return out


def timeline(
    cal: SwitchCalendar,
    t_from: int,
    t_to: int,
    commands: list[SwitchCommand] = (),  # type: ignore[assignment]
    *,
    switch: int = 0,
    seed: int = 0,
    no_override: tuple[tuple[int, int], ...] = (),
) -> list[tuple[int, bool]]:
    """The switch's (instant, closed) changes over [t_from, t_to), starting with its state."""
    if len(cal.days) != 7:
        raise ConfigError("a switch calendar has one entry list per weekday")
    effective = _effective(list(commands), no_override)
    supply_lost = sorted((a, k) for a, _b, k, _c in effective if k in ("loss", "restore"))

    def state(t: int) -> bool:
        lost = False
        for at, kind in supply_lost:
            if at <= t:
                lost = kind == "loss"
        if lost:
            return False  # fail open
        calendar = _calendar_state(cal, seed, switch, t)
        for a, b, kind, _c in effective:
            if kind == "test" and a <= t < b:
                return not calendar
        for a, b, kind, closed in reversed(effective):
            if kind in ("adhoc", "boost") and a <= t < b:
                return closed
        return calendar

    instants = {t_from}
    for day in range(local_day(t_from) - 1, local_day(t_to) + 1):
        start = local_midnight(day)
        for i, (minute, _closed) in enumerate(cal.days[weekday(day)]):
            offset = random_offset(seed, switch, day, i, cal.random_offset_limit)
            instants.add(start + minute * 60 + offset)
    for a, b, _k, _c in effective:
        instants.update((a, b))
    out: list[tuple[int, bool]] = []
    for t in sorted(x for x in instants if t_from <= x < t_to):
        closed = state(t)
        if not out or out[-1][1] != closed:
            out.append((t, closed))
    return out


#: command kinds as the C engine numbers them
KIND_CODES = {"adhoc": 0, "boost": 1, "test": 2, "loss": 3, "restore": 4}


def packed_inputs(
    cal: SwitchCalendar,
    commands: list[SwitchCommand] = (),  # type: ignore[assignment]
    no_override: tuple[tuple[int, int], ...] = (),
) -> tuple[array[int], array[int]]:
    """The calendar and the effective commands as the int64 words ``_engine`` reads.

    Calendar: per weekday, a count then (minute, closed) pairs. Commands: (start, end, kind
    code, closed) quads in :func:`_effective`'s order.
    """
    if len(cal.days) != 7:
        raise ConfigError("a switch calendar has one entry list per weekday")
    words = array("q")
    for entries in cal.days:
        words.append(len(entries))
        for minute, closed in entries:
            words.extend((minute, int(closed)))
    effective = array("q")
    for a, b, kind, closed in _effective(list(commands), no_override):
        effective.extend((a, b, KIND_CODES[kind], int(closed)))
    return words, effective


def decode_timeline(data: bytes) -> list[tuple[int, bool]]:
    """The (instant, closed) changes ``_engine.switch_timeline`` returned."""
    return [(t, bool(closed)) for t, closed in struct.iter_unpack("<qq", data)]
