"""Calendar arithmetic of the register engine: civil dates, GB local time, day profiles.

Layer: firmware (pure integers, no ``time`` / ``zoneinfo``). The engine keeps UTC inside and
switches tariffs on Europe/London local time: British Summer Time runs from 01:00 UTC on the
last Sunday of March to 01:00 UTC on the last Sunday of October (the EU rule GB follows).
``_engine.c`` computes exactly the same functions; the differential tests hold them equal.
"""

from __future__ import annotations

from typing import Final

from smemu.firmware.registers import layout as lay

DAY: Final = 86_400
HOUR: Final = 3_600
INTERVAL: Final = 1_800  #: the engine's interval: one half-hour


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day number since 1970-01-01 (inverse of :func:`days_from_civil`)."""
    z = days + 719_468
    era = (z if z >= 0 else z - 146_096) // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def weekday(days: int) -> int:
    """ISO weekday index of a day number, Monday = 0 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _last_sunday_0100(year: int, month: int) -> int:
    last = days_from_civil(year, month, 31)
    return (last - (last + 4) % 7) * DAY + HOUR  # (days + 4) % 7 == 0 on Sundays


def utc_offset(t: int) -> int:
    """Seconds to add to UTC instant ``t`` to get GB local time (0 or 3600)."""
    year = civil_from_days(t // DAY)[0]
    return HOUR if _last_sunday_0100(year, 3) <= t < _last_sunday_0100(year, 10) else 0


def local_day(t: int) -> int:
    """The local (GB) day number that contains UTC instant ``t``."""
    return (t + utc_offset(t)) // DAY


def local_midnight(day: int) -> int:
    """The UTC instant at which local day ``day`` begins."""
    t = day * DAY
    return t - utc_offset(t - HOUR)  # midnight is never inside a transition hour


def profile_for_day(table: lay.Words, day: int) -> int:
    """The day-profile index in force on local day ``day``: special day, else season/week."""
    year, month, dom = civil_from_days(day)
    for i in range(table[lay.T_N_SPECIAL]):
        packed = table[lay.T_SPECIAL + 2 * i]
        sy, sm, sd = packed >> 16, (packed >> 8) & 0xFF, packed & 0xFF
        if sm == month and sd == dom and sy in (0, year):
            return table[lay.T_SPECIAL + 2 * i + 1]
    week = 0
    best = None
    for i in range(table[lay.T_N_SEASONS]):
        base = lay.T_SEASONS + 4 * i
        sy, sm, sd = table[base], table[base + 1], table[base + 2]
        start = days_from_civil(sy or year, sm, sd)
        if start > day and sy == 0:
            start = days_from_civil(year - 1, sm, sd)
        if start <= day and (best is None or start >= best):
            best, week = start, table[base + 3]
    return table[lay.T_WEEKS + 7 * week + weekday(day)]


def slot_of(t: int) -> int:
    """Local half-hour slot (0..47) of the interval starting at UTC instant ``t``."""
    return (t + utc_offset(t)) % DAY // INTERVAL
