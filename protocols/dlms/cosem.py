"""Typed COSEM values GBCS uses: tariff calendars, special days, prices, scaler-units, buffers.

Layer: protocols (sans-IO). Each class reads itself from A-XDR ``Data`` (``from_data``, which
raises :class:`ViewMismatchError` when the value has another shape) and builds itself back
(``to_data``); ``to_json`` renders values as people read them (gbcs-reference.md 7.4, 7.5,
10.1; Blue Book interface classes 3, 7, 8, 11, 20, 21, 70, 71, 113). Which attribute takes
which view is the table in :mod:`smemu.protocols.dlms.views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from smemu.errors import DecodeError
from smemu.protocols.dlms.apdu import format_obis
from smemu.protocols.dlms.data import (
    Array,
    Boolean,
    CompactArray,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    Unsigned,
    Utf8String,
    VisibleString,
)
from smemu.protocols.dlms.dates import DateTime

__all__ = [
    "UNITS",
    "CaptureObject",
    "ChargeTableEntry",
    "DayProfile",
    "DayScheduleAction",
    "ScalerUnit",
    "SeasonProfile",
    "SpecialDay",
    "UnitCharge",
    "ViewMismatchError",
    "WeekProfile",
    "format_date",
    "format_date_time",
    "render",
]


class ViewMismatchError(DecodeError):
    """A Data value does not have the shape a typed view expects (raised by ``from_data``)."""


#: Blue Book unit enumeration (IEC 62056-6-2 table 4), the units GBCS registers use.
UNITS: Final[dict[int, str]] = {
    1: "a", 2: "mo", 3: "wk", 4: "d", 5: "h", 6: "min", 7: "s", 8: "°", 9: "°C",
    10: "currency", 11: "m", 12: "m/s", 13: "m³", 14: "m³ (corrected)", 15: "m³/h",
    16: "m³/h (corrected)", 17: "m³/d", 18: "m³/d (corrected)", 19: "l", 20: "kg", 21: "N",
    22: "Nm", 23: "Pa", 24: "bar", 25: "J", 26: "J/h", 27: "W", 28: "VA", 29: "var",
    30: "Wh", 31: "VAh", 32: "varh", 33: "A", 34: "C", 35: "V", 36: "V/m", 37: "F",
    38: "Ω", 44: "Hz", 52: "K", 56: "%", 57: "Ah", 254: "other", 255: "count",
}  # fmt: skip

_INTEGERS: Final = (
    Integer, Long, DoubleLong, Long64, Unsigned, LongUnsigned, DoubleLongUnsigned,
    Long64Unsigned, Enum,
)  # fmt: skip


def _items(value: Data, count: int | None, what: str) -> tuple[Data, ...]:
    if not isinstance(value, Structure) or (count is not None and len(value.items) != count):
        raise ViewMismatchError(f"expected a structure of {count} elements", path=what)
    return value.items


def _array(value: Data, what: str) -> tuple[Data, ...]:
    if not isinstance(value, Array):
        raise ViewMismatchError("expected an array", path=what)
    return value.items


def _octets(value: Data, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, OctetString) or (size is not None and len(value.value) != size):
        raise ViewMismatchError(f"expected an octet-string({size or 'n'})", path=what)
    return value.value


def _int(value: Data, kind: type[Data], what: str) -> int:
    if not isinstance(value, kind) or not isinstance(value, _INTEGERS):
        raise ViewMismatchError(f"expected {kind.__name__}", path=what)
    return value.value


# ------------------------------------------------------------------------------ rendering


def format_date_time(octets: bytes) -> str:
    """Render a 12-octet COSEM date-time: ISO 8601 where specified, GBCS conventions else.

    All zero (``00..00 8000 FF``) is ``now`` and all 0xFF ``cancel`` (GBCS activation times,
    gbcs-reference.md 7.4); unspecified fields show as ``*``.
    """
    if octets[:9] == bytes(9):
        return "now"
    if octets[:9] == b"\xff" * 9:
        return "cancel"
    dt = DateTime.from_octets(octets)
    date = _date_text(dt.year, dt.month, dt.day)
    parts = [_field(v, 2) for v in (dt.hour, dt.minute, dt.second)]
    text = f"{date}T{':'.join(parts)}"
    if dt.hundredths not in (0, 0xFF):
        text += f".{dt.hundredths:02d}"
    if dt.deviation == 0:
        text += "Z"
    elif dt.deviation != -0x8000:
        sign = "-" if dt.deviation > 0 else "+"  # deviation is local -> UTC, in minutes
        text += f"{sign}{abs(dt.deviation) // 60:02d}:{abs(dt.deviation) % 60:02d}"
    return text


def _field(value: int, width: int) -> str:
    return "*" * width if value == 0xFF else f"{value:0{width}d}"


def _date_text(year: int, month: int, day: int) -> str:
    y = "****" if year == 0xFFFF else f"{year:04d}"
    m = {0xFD: "DST-end", 0xFE: "DST-begin"}.get(month) or _field(month, 2)
    d = {0xFD: "second-last", 0xFE: "last"}.get(day) or _field(day, 2)
    return f"{y}-{m}-{d}"


def format_date(octets: bytes) -> str:
    """Render a 5-octet COSEM date (``year(2) month day day_of_week``); ``*`` = any."""
    year = int.from_bytes(octets[:2], "big")
    return _date_text(year, octets[2], octets[3])


def _time_text(octets: bytes) -> str:
    return ":".join(_field(v, 2) for v in octets[:3])


def render(value: Data) -> Any:
    """Render any Data value as JSON: numbers, text, hex octets, lists for containers."""
    if isinstance(value, (Structure, Array)):
        return [render(v) for v in value.items]
    if isinstance(value, CompactArray):
        return [render(v) for v in value.values]
    if isinstance(value, Enum):
        return {"enum": value.value}
    if isinstance(value, _INTEGERS):
        return value.value
    if isinstance(value, OctetString):
        return value.value.hex()
    if isinstance(value, (VisibleString, Utf8String)):
        return value.text
    if isinstance(value, Boolean):
        return value.value
    if isinstance(value, NullData):
        return None
    if isinstance(value, DateTime):
        return format_date_time(value.octets())
    return repr(value)


# ------------------------------------------------------------------------ register values


@dataclass(frozen=True, slots=True)
class ScalerUnit:
    """scaler_unit of Register / Extended register (IC 3/4 attribute 3)::

    structure { integer scaler, enum unit }   value = raw x 10^scaler unit
    """

    scaler: int
    unit: int

    @classmethod
    def from_data(cls, value: Data) -> ScalerUnit:
        scaler, unit = _items(value, 2, "scaler_unit")
        return cls(_int(scaler, Integer, "scaler"), _int(unit, Enum, "unit"))

    def to_data(self) -> Data:
        return Structure((Integer(self.scaler), Enum(self.unit)))

    @property
    def unit_text(self) -> str:
        return UNITS.get(self.unit, f"unit {self.unit}")

    def scale(self, raw: int) -> str:
        """``raw`` scaled and with its unit, e.g. ``12.345 kWh`` shown as ``12345 Wh``."""
        return f"{Decimal(raw).scaleb(self.scaler)} {self.unit_text}"

    def to_json(self) -> Any:
        return {"scaler": self.scaler, "unit": self.unit_text}


# ----------------------------------------------------------------- activity calendar (IC 20)


@dataclass(frozen=True, slots=True)
class SeasonProfile:
    """season_profile entry: ``structure { octet-string name, octet-string(12) start,
    octet-string week_name }``."""

    name: bytes
    start: bytes  #: the 12 date-time octets
    week_name: bytes

    @classmethod
    def from_data(cls, value: Data) -> SeasonProfile:
        name, start, week = _items(value, 3, "season_profile")
        return cls(_octets(name, "name"), _octets(start, "season_start", 12), _octets(week, "week"))

    def to_data(self) -> Data:
        return Structure(
            (OctetString(self.name), OctetString(self.start), OctetString(self.week_name))
        )

    def to_json(self) -> Any:
        return {
            "name": _name(self.name),
            "start": format_date_time(self.start),
            "week": _name(self.week_name),
        }


def _name(raw: bytes) -> str | int:
    """Profile names: printable ASCII as text, a one-byte id as its number, else hex."""
    if len(raw) == 1:
        return raw[0]
    if raw and all(0x20 <= b < 0x7F for b in raw):
        return raw.decode("ascii")
    return raw.hex()


_DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class WeekProfile:
    """week_profile entry: ``structure { octet-string name, unsigned day_id x 7 (Mon..Sun) }``."""

    name: bytes
    day_ids: tuple[int, int, int, int, int, int, int]

    @classmethod
    def from_data(cls, value: Data) -> WeekProfile:
        name, *days = _items(value, 8, "week_profile")
        d = tuple(_int(v, Unsigned, "day_id") for v in days)
        return cls(_octets(name, "name"), (d[0], d[1], d[2], d[3], d[4], d[5], d[6]))

    def to_data(self) -> Data:
        return Structure((OctetString(self.name), *(Unsigned(d) for d in self.day_ids)))

    def to_json(self) -> Any:
        return {"name": _name(self.name), **dict(zip(_DAYS, self.day_ids, strict=True))}


@dataclass(frozen=True, slots=True)
class DayScheduleAction:
    """day_profile_action: ``structure { octet-string(4) start_time, octet-string(6) script,
    long-unsigned script_selector }``. GBCS selectors (section 7.3.7): 1..48 TOU rate n,
    101..108 block-tariff set n-100."""

    start_time: bytes
    script: bytes
    selector: int

    @classmethod
    def from_data(cls, value: Data) -> DayScheduleAction:
        start, script, selector = _items(value, 3, "day_profile_action")
        return cls(
            _octets(start, "start_time", 4),
            _octets(script, "script_logical_name", 6),
            _int(selector, LongUnsigned, "script_selector"),
        )

    def to_data(self) -> Data:
        return Structure(
            (OctetString(self.start_time), OctetString(self.script), LongUnsigned(self.selector))
        )

    def to_json(self) -> Any:
        if 1 <= self.selector <= 48:
            action = f"TOU rate {self.selector}"
        elif 101 <= self.selector <= 108:
            action = f"block tariff set {self.selector - 100}"
        else:
            action = f"selector {self.selector}"
        return {
            "start": _time_text(self.start_time),
            "script": format_obis(self.script),
            "selector": self.selector,
            "action": action,
        }


@dataclass(frozen=True, slots=True)
class DayProfile:
    """day_profile entry: ``structure { unsigned day_id, array day_profile_action }``."""

    day_id: int
    actions: tuple[DayScheduleAction, ...]

    @classmethod
    def from_data(cls, value: Data) -> DayProfile:
        day_id, schedule = _items(value, 2, "day_profile")
        actions = tuple(DayScheduleAction.from_data(v) for v in _array(schedule, "day_schedule"))
        return cls(_int(day_id, Unsigned, "day_id"), actions)

    def to_data(self) -> Data:
        return Structure((Unsigned(self.day_id), Array(tuple(a.to_data() for a in self.actions))))

    def to_json(self) -> Any:
        return {"day_id": self.day_id, "schedule": [a.to_json() for a in self.actions]}


# ---------------------------------------------------------------- special days table (IC 11)


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """spec_day_entry: ``structure { long-unsigned index, octet-string(5) date, unsigned
    day_id }`` (year 0xFFFF = every year)."""

    index: int
    date: bytes
    day_id: int

    @classmethod
    def from_data(cls, value: Data) -> SpecialDay:
        index, date, day_id = _items(value, 3, "spec_day_entry")
        return cls(
            _int(index, LongUnsigned, "index"),
            _octets(date, "specialday_date", 5),
            _int(day_id, Unsigned, "day_id"),
        )

    def to_data(self) -> Data:
        return Structure((LongUnsigned(self.index), OctetString(self.date), Unsigned(self.day_id)))

    def to_json(self) -> Any:
        return {"index": self.index, "date": format_date(self.date), "day_id": self.day_id}


# ---------------------------------------------------------------------------- charge (IC 113)


@dataclass(frozen=True, slots=True)
class ChargeTableEntry:
    """charge_table_element: ``structure { octet-string index, long charge_per_unit }``.

    GBCS price-matrix index (gbcs-reference.md 10.1): 0x01..0x30 TOU rate n; 0xA1..0xD8 block
    b (A=1..D=4) of block-tariff set n (low nibble).
    """

    index: bytes
    charge: int

    @classmethod
    def from_data(cls, value: Data) -> ChargeTableEntry:
        index, charge = _items(value, 2, "charge_table_element")
        return cls(_octets(index, "index"), _int(charge, Long, "charge_per_unit"))

    def to_data(self) -> Data:
        return Structure((OctetString(self.index), Long(self.charge)))

    def label(self) -> str:
        if len(self.index) != 1:
            return self.index.hex() or "standing charge"
        i = self.index[0]
        if 1 <= i <= 0x30:
            return f"TOU rate {i}"
        if 0xA1 <= i <= 0xD8 and 1 <= (i & 0x0F) <= 8:
            return f"block {(i >> 4) - 9} of set {i & 0x0F}"
        return f"index 0x{i:02X}"


@dataclass(frozen=True, slots=True)
class UnitCharge:
    """unit_charge (IC 113 attributes 5 and 6, active / passive)::

    structure { structure { integer commodity_scale, integer price_scale },
                structure { long-unsigned class_id, octet-string(6) logical_name,
                            integer attribute_index },
                array charge_table_element }

    A price is charge_per_unit x 10^price_scale currency units per 10^commodity_scale of
    the commodity register's unit.
    """

    commodity_scale: int
    price_scale: int
    commodity_class: int
    commodity_obis: bytes
    commodity_attribute: int
    entries: tuple[ChargeTableEntry, ...]

    @classmethod
    def from_data(cls, value: Data) -> UnitCharge:
        scaling, reference, table = _items(value, 3, "unit_charge")
        commodity, price = _items(scaling, 2, "charge_per_unit_scaling")
        klass, obis, attribute = _items(reference, 3, "commodity_reference")
        return cls(
            _int(commodity, Integer, "commodity_scale"),
            _int(price, Integer, "price_scale"),
            _int(klass, LongUnsigned, "class_id"),
            _octets(obis, "logical_name", 6),
            _int(attribute, Integer, "attribute_index"),
            tuple(ChargeTableEntry.from_data(v) for v in _array(table, "charge_table")),
        )

    def to_data(self) -> Data:
        return Structure(
            (
                Structure((Integer(self.commodity_scale), Integer(self.price_scale))),
                Structure(
                    (
                        LongUnsigned(self.commodity_class),
                        OctetString(self.commodity_obis),
                        Integer(self.commodity_attribute),
                    )
                ),
                Array(tuple(e.to_data() for e in self.entries)),
            )
        )

    def to_json(self) -> Any:
        prices = [
            {"index": e.index.hex(), "label": e.label(), "raw": e.charge,
             "price": str(Decimal(e.charge).scaleb(self.price_scale))}
            for e in self.entries
        ]  # fmt: skip
        return {
            "commodity_scale": self.commodity_scale,
            "price_scale": self.price_scale,
            "commodity": {
                "class_id": self.commodity_class,
                "obis": format_obis(self.commodity_obis),
                "attribute": self.commodity_attribute,
            },
            "prices": prices,
        }


# ------------------------------------------------------------------ profile generic (IC 7)


@dataclass(frozen=True, slots=True)
class CaptureObject:
    """capture_object_definition / restricting object: ``structure { long-unsigned class_id,
    octet-string(6) logical_name, integer attribute_index, long-unsigned data_index }``."""

    class_id: int
    obis: bytes
    attribute: int
    data_index: int

    @classmethod
    def from_data(cls, value: Data) -> CaptureObject:
        klass, obis, attribute, index = _items(value, 4, "capture_object")
        return cls(
            _int(klass, LongUnsigned, "class_id"),
            _octets(obis, "logical_name", 6),
            _int(attribute, Integer, "attribute_index"),
            _int(index, LongUnsigned, "data_index"),
        )

    def to_data(self) -> Data:
        return Structure(
            (
                LongUnsigned(self.class_id),
                OctetString(self.obis),
                Integer(self.attribute),
                LongUnsigned(self.data_index),
            )
        )

    def to_json(self) -> Any:
        return {
            "class_id": self.class_id,
            "obis": format_obis(self.obis),
            "attribute": self.attribute,
            "data_index": self.data_index,
        }
