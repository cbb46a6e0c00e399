"""DLMS date-time, date and time values: A-XDR tags 25, 26, 27 (GBCS ref. §7.4).

Protocol layer (sans-IO); Blue Book 4.1.6.1 layouts. Every octet is kept in its own field,
so any twelve (five, four) octets round-trip exactly, "not specified" markers included.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Final

from smemu.errors import DecodeError, LocalProtocolError

__all__ = [
    "DATE_STRUCT",
    "DATE_TIME_STRUCT",
    "TIME_STRUCT",
    "Date",
    "DateTime",
    "Time",
    "utc_instant",
]

#: Wire layout of a date-time (twelve octets, deviation signed).
DATE_TIME_STRUCT: Final = struct.Struct(">HBBBBBBBhB")
#: Wire layout of a date (five octets).
DATE_STRUCT: Final = struct.Struct(">HBBB")
#: Wire layout of a time (four octets).
TIME_STRUCT: Final = struct.Struct(">BBBB")

_DATE_TIME: Final = DATE_TIME_STRUCT
_DATE: Final = DATE_STRUCT
_TIME: Final = TIME_STRUCT


@dataclass(frozen=True, slots=True)
class DateTime:
    """date-time, tag 25 (Blue Book 4.1.6.1; GBCS ref. §7.4). Twelve octets::

        year(2) month day day_of_week hour minute second hundredths deviation(2, signed)
        clock_status

    0xFF (0xFFFF for year) means "not specified"; deviation -32768 (0x8000) likewise.
    The same twelve octets travel as octet-string(12) in GBCS: see :meth:`from_octets`.
    """

    TAG: ClassVar[int] = 25
    year: int
    month: int
    day: int
    day_of_week: int
    hour: int
    minute: int
    second: int
    hundredths: int
    #: Minutes from local time to UTC, signed; -32768 = not specified.
    deviation: int
    clock_status: int

    @classmethod
    def from_octets(cls, octets: bytes) -> DateTime:
        """Read the twelve-octet form (e.g. the content of an octet-string(12)).

        :raises DecodeError: ``octets`` is not twelve bytes long.
        """
        if len(octets) != 12:
            raise DecodeError(
                f"expected 12 date-time octets, got {len(octets)}", path="date_time", offset=0
            )
        return cls(*_DATE_TIME.unpack(octets))

    def octets(self) -> bytes:
        """The twelve-octet form.

        :raises LocalProtocolError: a field is out of its octet range.
        """
        try:
            return _DATE_TIME.pack(
                self.year,
                self.month,
                self.day,
                self.day_of_week,
                self.hour,
                self.minute,
                self.second,
                self.hundredths,
                self.deviation,
                self.clock_status,
            )
        except struct.error as exc:
            raise LocalProtocolError(f"date-time field out of range: {exc}") from exc

    def _write_body(self, out: list[bytes]) -> None:
        out.append(self.octets())


def utc_instant(octets: bytes) -> datetime | None:
    """Twelve date-time octets as the instant they name, read as UTC (GBCS devices keep
    UTC); ``None`` unless year, month, day, hour, minute and second are all specified and
    valid."""
    if len(octets) != 12 or octets[0:2] == b"\xff\xff" or 0xFF in octets[2:4]:
        return None
    if 0xFF in octets[5:8]:
        return None
    try:
        year = int.from_bytes(octets[0:2], "big")
        return datetime(year, octets[2], octets[3], octets[5], octets[6], octets[7], tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Date:
    """date, tag 26: ``1A | year(2) month day day_of_week`` (0xFF / 0xFFFF = not specified)."""

    TAG: ClassVar[int] = 26
    year: int
    month: int
    day: int
    day_of_week: int

    def _write_body(self, out: list[bytes]) -> None:
        try:
            out.append(_DATE.pack(self.year, self.month, self.day, self.day_of_week))
        except struct.error as exc:
            raise LocalProtocolError(f"date field out of range: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Time:
    """time, tag 27: ``1B | hour minute second hundredths`` (0xFF = not specified)."""

    TAG: ClassVar[int] = 27
    hour: int
    minute: int
    second: int
    hundredths: int

    def _write_body(self, out: list[bytes]) -> None:
        try:
            out.append(_TIME.pack(self.hour, self.minute, self.second, self.hundredths))
        except struct.error as exc:
            raise LocalProtocolError(f"time field out of range: {exc}") from exc
