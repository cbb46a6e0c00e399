"""Declarative field codecs behind every typed ZCL record (ZCL r8 §2.6 data types).

Protocol layer (sans-IO). A record is a frozen dataclass whose fields carry a :class:`Field`
in ``typing.Annotated`` metadata; :class:`ZclRecord` derives ``decode`` / ``decode_exact`` /
``encode`` / ``to_json`` / ``undecoded_bytes`` from those annotations. ZCL integers are
little-endian; the few GBZ-container fields reusing this engine say ``big=True``.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar, Final, Self

from smemu.errors import DecodeError, LocalProtocolError

__all__ = [
    "BITMAP8",
    "BITMAP16",
    "BITMAP24",
    "BITMAP32",
    "BOOL",
    "DATE",
    "I8",
    "I16",
    "I24",
    "I32",
    "I48",
    "OCTETS",
    "REST",
    "U8",
    "U16",
    "U24",
    "U32",
    "U48",
    "U64",
    "UTC",
    "Bitmap",
    "Counted",
    "EnumField",
    "Field",
    "Nested",
    "NibblePair",
    "OctetString",
    "Repeat",
    "RestBytes",
    "SizedBy",
    "Switch",
    "Tail",
    "UInt",
    "UtcTime",
    "ZclDate",
    "ZclRecord",
    "render_octets",
    "render_utc",
]

#: ZigBee UTCTime epoch: seconds since 2000-01-01T00:00:00Z.
EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=timezone.utc)  # noqa: UP017 - UTC is our alias


def _short(data: bytes, pos: int, end: int, size: int) -> DecodeError:
    return DecodeError(f"expected {size} bytes, got {end - pos}", offset=pos)


class Field:
    """How one field is read, written and rendered; subclasses implement all three."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        """Decode the field at ``pos`` (never past ``end``); ``ctx`` holds earlier siblings."""
        raise NotImplementedError

    def write(self, value: Any, out: list[bytes]) -> None:
        """Append the field's encoding to ``out``."""
        raise NotImplementedError

    def render(self, value: Any) -> Any:
        """A JSON-ready, human-readable view of ``value``."""
        return value

    def undecoded(self, value: Any) -> int:
        """How many of the field's bytes are not decoded into typed values."""
        return 0


class UInt(Field):
    """An unsigned (or ``signed``) integer of ``size`` bytes, little-endian unless ``big``."""

    __slots__ = ("big", "hex", "signed", "size")

    def __init__(self, size: int, *, signed: bool = False, big: bool = False, hex: bool = False):
        self.size = size
        self.signed = signed
        self.big = big
        self.hex = hex

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        stop = pos + self.size
        if stop > end:
            raise _short(data, pos, end, self.size)
        order: typing.Literal["big", "little"] = "big" if self.big else "little"
        return int.from_bytes(data[pos:stop], order, signed=self.signed), stop

    def write(self, value: Any, out: list[bytes]) -> None:
        order: typing.Literal["big", "little"] = "big" if self.big else "little"
        out.append(int(value).to_bytes(self.size, order, signed=self.signed))

    def render(self, value: Any) -> Any:
        if self.hex:
            return f"0x{value:0{self.size * 2}X}"
        return int(value)


def render_utc(value: int) -> str:
    """ZigBee UTCTime as ISO 8601, with the GBCS special values spelled out."""
    if value == 0:
        return "now"
    if value == 0xFFFFFFFF:
        return "never"
    if value == 0xFFFFFFFE:
        return "cancel"
    stamp = EPOCH_2000 + timedelta(seconds=value)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


class UtcTime(UInt):
    """ZigBee UTCTime: uint32 seconds since 2000-01-01 UTC (0 now, FFFFFFFE cancel)."""

    __slots__ = ()

    def __init__(self, *, big: bool = False) -> None:
        super().__init__(4, big=big)

    def render(self, value: Any) -> Any:
        return render_utc(int(value))


class EnumField(UInt):
    """An enumeration: rendered by member name when ``names`` knows the value."""

    __slots__ = ("names",)

    def __init__(self, names: type[enum.IntEnum], size: int = 1) -> None:
        super().__init__(size)
        self.names = names

    def render(self, value: Any) -> Any:
        try:
            return self.names(value).name.lower()
        except ValueError:
            return int(value)


class Bitmap(UInt):
    """A bitmap: rendered as hex, plus the names of the set bits when ``flags`` is given."""

    __slots__ = ("flags",)

    def __init__(self, size: int, flags: type[enum.IntFlag] | None = None) -> None:
        super().__init__(size, hex=True)
        self.flags = flags

    def render(self, value: Any) -> Any:
        text = f"0x{value:0{self.size * 2}X}"
        if self.flags is None:
            return text
        names = [m.name.lower() for m in self.flags if m.value & value and m.name]
        return {"raw": text, "set": names}


class NibblePair(UInt):
    """One byte holding two 4-bit numbers (e.g. trailing digits | price tier)."""

    __slots__ = ("high", "low")

    def __init__(self, high: str, low: str) -> None:
        super().__init__(1)
        self.high = high
        self.low = low

    def render(self, value: Any) -> Any:
        return {self.high: value >> 4, self.low: value & 0x0F}


class OctetString(Field):
    """ZCL octet / character string: 1-byte length (2 if ``long``) then the octets."""

    __slots__ = ("prefix",)

    def __init__(self, *, long: bool = False) -> None:
        self.prefix = 2 if long else 1

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        if pos + self.prefix > end:
            raise _short(data, pos, end, self.prefix)
        size = int.from_bytes(data[pos : pos + self.prefix], "little")
        start = pos + self.prefix
        if start + size > end:
            raise DecodeError(f"expected {size} string bytes, got {end - start}", offset=start)
        return data[start : start + size], start + size

    def write(self, value: Any, out: list[bytes]) -> None:
        raw = bytes(value)
        out.append(len(raw).to_bytes(self.prefix, "little"))
        out.append(raw)

    def render(self, value: Any) -> Any:
        return render_octets(value)


def render_octets(value: bytes) -> str:
    """Printable ASCII as text, anything else as hex."""
    if value.isascii() and value.decode("ascii").isprintable():
        return value.decode("ascii")
    return value.hex().upper()


class RestBytes(Field):
    """Every remaining byte, kept raw; counts as undecoded unless ``opaque`` (GBCS-defined)."""

    __slots__ = ("opaque",)

    def __init__(self, *, opaque: bool = False) -> None:
        self.opaque = opaque

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        return data[pos:end], end

    def write(self, value: Any, out: list[bytes]) -> None:
        out.append(bytes(value))

    def render(self, value: Any) -> Any:
        return bytes(value).hex().upper()

    def undecoded(self, value: Any) -> int:
        return 0 if self.opaque else len(value)


@dataclass(frozen=True, slots=True)
class ZclDate:
    """ZCL Date (4 octets): year - 1900, month, day of month, day of week (1 = Monday).

    0xFF in any octet means "any" (a recurring date).
    """

    #: Year minus 1900 (0xFF = any year).
    year_offset: int
    #: 1..12 (0xFF = any).
    month: int
    #: 1..31 (0xFF = any).
    day: int
    #: 1..7, Monday first (0xFF = any).
    weekday: int

    def render(self) -> str:
        """``YYYY-MM-DD`` with ``*`` for "any", plus ``/dow`` when a weekday is set."""
        year = "*" if self.year_offset == 0xFF else str(1900 + self.year_offset)
        month = "*" if self.month == 0xFF else f"{self.month:02d}"
        day = "*" if self.day == 0xFF else f"{self.day:02d}"
        text = f"{year}-{month}-{day}"
        return text if self.weekday == 0xFF else f"{text}/dow{self.weekday}"


class DateField(Field):
    """A :class:`ZclDate`."""

    __slots__ = ()

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        if pos + 4 > end:
            raise _short(data, pos, end, 4)
        return ZclDate(data[pos], data[pos + 1], data[pos + 2], data[pos + 3]), pos + 4

    def write(self, value: Any, out: list[bytes]) -> None:
        out.append(bytes((value.year_offset, value.month, value.day, value.weekday)))

    def render(self, value: Any) -> Any:
        return value.render()


class Nested(Field):
    """A sub-record (a :class:`ZclRecord` subclass) inline."""

    __slots__ = ("record",)

    def __init__(self, record: type[ZclRecord]) -> None:
        self.record = record

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        return self.record.read_record(data, pos, end)

    def write(self, value: Any, out: list[bytes]) -> None:
        value.write_record(out)

    def render(self, value: Any) -> Any:
        return value.to_json()

    def undecoded(self, value: Any) -> int:
        return int(value.undecoded_bytes)


def _as_field(item: Field | type[ZclRecord]) -> Field:
    return item if isinstance(item, Field) else Nested(item)


class Repeat(Field):
    """Items (a field or a record) repeated to the end of the payload, as a tuple."""

    __slots__ = ("item",)

    def __init__(self, item: Field | type[ZclRecord]) -> None:
        self.item = _as_field(item)

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        items: list[Any] = []
        while pos < end:
            try:
                value, pos = self.item.read(data, pos, end, {})
            except DecodeError as exc:
                raise exc.within(f"[{len(items)}]") from None
            items.append(value)
        return tuple(items), pos

    def write(self, value: Any, out: list[bytes]) -> None:
        for item in value:
            self.item.write(item, out)

    def render(self, value: Any) -> Any:
        return [self.item.render(v) for v in value]

    def undecoded(self, value: Any) -> int:
        return sum(self.item.undecoded(v) for v in value)


class Counted(Repeat):
    """Items preceded by their count (an unsigned integer of ``count_size`` bytes)."""

    __slots__ = ("count_size",)

    def __init__(self, item: Field | type[ZclRecord], count_size: int = 1) -> None:
        super().__init__(item)
        self.count_size = count_size

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        if pos + self.count_size > end:
            raise _short(data, pos, end, self.count_size)
        count = int.from_bytes(data[pos : pos + self.count_size], "little")
        pos += self.count_size
        items: list[Any] = []
        for index in range(count):
            try:
                value, pos = self.item.read(data, pos, end, {})
            except DecodeError as exc:
                raise exc.within(f"[{index}]") from None
            items.append(value)
        return tuple(items), pos

    def write(self, value: Any, out: list[bytes]) -> None:
        out.append(len(value).to_bytes(self.count_size, "little"))
        super().write(value, out)


class SizedBy(Repeat):
    """Items whose count a sibling gives (``count_of(sibling value)``)."""

    __slots__ = ("count_of", "selector")

    def __init__(
        self, item: Field | type[ZclRecord], selector: str, count_of: Callable[[int], int]
    ) -> None:
        super().__init__(item)
        self.selector = selector
        self.count_of = count_of

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        items: list[Any] = []
        for index in range(self.count_of(ctx[self.selector])):
            try:
                value, pos = self.item.read(data, pos, end, {})
            except DecodeError as exc:
                raise exc.within(f"[{index}]") from None
            items.append(value)
        return tuple(items), pos

    def check(self, owner: ZclRecord, value: Any) -> None:
        """Refuse a tuple whose length disagrees with the sibling's count."""
        expected = self.count_of(getattr(owner, self.selector))
        if len(value) != expected:
            raise LocalProtocolError(
                f"{len(value)} items given, {self.selector} says {expected}"
            )


class Tail(Field):
    """An optional trailing field: absent (``None``) when the payload has ended."""

    __slots__ = ("inner",)

    def __init__(self, inner: Field) -> None:
        self.inner = inner

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        if pos >= end:
            return None, pos
        return self.inner.read(data, pos, end, ctx)

    def write(self, value: Any, out: list[bytes]) -> None:
        if value is not None:
            self.inner.write(value, out)

    def render(self, value: Any) -> Any:
        return None if value is None else self.inner.render(value)

    def undecoded(self, value: Any) -> int:
        return 0 if value is None else self.inner.undecoded(value)


class Switch(Field):
    """The rest of the payload as the record ``cases[sibling]`` selects, else raw bytes."""

    __slots__ = ("cases", "selector")

    def __init__(self, selector: str, cases: dict[int, type[ZclRecord]]) -> None:
        self.selector = selector
        self.cases = cases

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        record = self.cases.get(ctx[self.selector])
        if record is None:
            return data[pos:end], end
        return record.read_record(data, pos, end)

    def write(self, value: Any, out: list[bytes]) -> None:
        if isinstance(value, ZclRecord):
            value.write_record(out)
        else:
            out.append(bytes(value))

    def render(self, value: Any) -> Any:
        if isinstance(value, ZclRecord):
            return value.to_json()
        return bytes(value).hex().upper()

    def undecoded(self, value: Any) -> int:
        return value.undecoded_bytes if isinstance(value, ZclRecord) else len(value)

    def check(self, owner: ZclRecord, value: Any) -> None:
        """Refuse a typed value that does not match its selector."""
        expected = self.cases.get(getattr(owner, self.selector))
        typed = isinstance(value, ZclRecord)
        if (typed and type(value) is not expected) or (not typed and expected is not None):
            raise LocalProtocolError(
                f"{type(value).__name__} does not match {self.selector}="
                f"{getattr(owner, self.selector)}"
            )


# --------------------------------------------------------------------- the aliases in use

U8 = Annotated[int, UInt(1)]
U16 = Annotated[int, UInt(2)]
U24 = Annotated[int, UInt(3)]
U32 = Annotated[int, UInt(4)]
U48 = Annotated[int, UInt(6)]
U64 = Annotated[int, UInt(8)]
I8 = Annotated[int, UInt(1, signed=True)]
I16 = Annotated[int, UInt(2, signed=True)]
I24 = Annotated[int, UInt(3, signed=True)]
I32 = Annotated[int, UInt(4, signed=True)]
I48 = Annotated[int, UInt(6, signed=True)]
BOOL = Annotated[int, UInt(1)]
BITMAP8 = Annotated[int, Bitmap(1)]
BITMAP16 = Annotated[int, Bitmap(2)]
BITMAP24 = Annotated[int, Bitmap(3)]
BITMAP32 = Annotated[int, Bitmap(4)]
UTC = Annotated[int, UtcTime()]
DATE = Annotated[ZclDate, DateField()]
OCTETS = Annotated[bytes, OctetString()]
REST = Annotated[bytes, RestBytes()]


# --------------------------------------------------------------------------- the records

_PLANS: dict[type, tuple[tuple[str, Field], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, Field], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        items: list[Any] = []
        for f in fields(cls):
            meta = [m for m in getattr(hints[f.name], "__metadata__", ()) if isinstance(m, Field)]
            if len(meta) != 1:
                raise TypeError(f"{cls.__name__}.{f.name} needs exactly one Field annotation")
            items.append((f.name, meta[0]))
        plan = _PLANS[cls] = tuple(items)
    return plan


class ZclRecord:
    """Base of every typed ZCL record and command (subclasses are frozen dataclasses).

    The wire layout is the field order; each field's ``Annotated`` :class:`Field` says how
    it is coded. ``decode`` returns ``(record, rest)``; ``decode_exact`` rejects trailing
    bytes; ``encode`` raises :class:`LocalProtocolError` for out-of-range values.
    """

    __slots__ = ()

    #: Readable name used in JSON (snake_case of the class name unless overridden).
    NAME: ClassVar[str] = ""

    @classmethod
    def read_record(cls, data: bytes, pos: int, end: int) -> tuple[Self, int]:
        """Decode one record from ``data[pos:end]``; returns the record and the new offset."""
        ctx: dict[str, Any] = {}
        values = []
        for name, field in _plan(cls):
            try:
                value, pos = field.read(data, pos, end, ctx)
            except DecodeError as exc:
                raise exc.within(name) from None
            ctx[name] = value
            values.append(value)
        return cls(*values), pos

    @classmethod
    def decode(cls, data: bytes) -> tuple[Self, bytes]:
        """Decode from the start of ``data``; returns ``(record, rest)``.

        :raises DecodeError: path names the field, offset counts from the start of ``data``.
        """
        data = bytes(data)
        record, pos = cls.read_record(data, 0, len(data))
        return record, data[pos:]

    @classmethod
    def decode_exact(cls, data: bytes) -> Self:
        """Decode ``data`` as exactly one record.

        :raises DecodeError: malformed, or bytes left over.
        """
        data = bytes(data)
        record, pos = cls.read_record(data, 0, len(data))
        if pos != len(data):
            raise DecodeError(
                f"expected end of {type(record).__name__}, got {len(data) - pos} trailing bytes",
                offset=pos,
            )
        return record

    def write_record(self, out: list[bytes]) -> None:
        """Append the record's encoding to ``out``."""
        absent = None
        for name, field in _plan(type(self)):
            value = getattr(self, name)
            if isinstance(field, Tail):
                if value is None:
                    absent = name
                    continue
                if absent is not None:
                    raise LocalProtocolError(f"{name} is given but the earlier {absent} is not")
            elif isinstance(field, Switch | SizedBy):
                field.check(self, value)
            try:
                field.write(value, out)
            except LocalProtocolError as exc:
                raise LocalProtocolError(f"{name}: {exc}") from exc
            except (OverflowError, ValueError, TypeError, AttributeError) as exc:
                raise LocalProtocolError(f"{name}: cannot encode {value!r}: {exc}") from exc

    def encode(self) -> bytes:
        """The record's ZCL encoding.

        :raises LocalProtocolError: a value does not fit its field.
        """
        out: list[bytes] = []
        self.write_record(out)
        return b"".join(out)

    def to_json(self) -> dict[str, Any]:
        """Field name -> readable value (times, enums, strings spelled out)."""
        return {name: field.render(getattr(self, name)) for name, field in _plan(type(self))}

    @property
    def undecoded_bytes(self) -> int:
        """Bytes of this record left as raw (unknown) data; 0 when fully typed."""
        return sum(field.undecoded(getattr(self, name)) for name, field in _plan(type(self)))

    @classmethod
    def field_plan(cls) -> tuple[tuple[str, Field], ...]:
        """The (name, field) pairs in wire order (for strategies and tools)."""
        return _plan(cls)
