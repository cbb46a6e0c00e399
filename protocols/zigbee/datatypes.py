"""ZCL attribute data types (ZCL r8 §2.6.2): self-describing values of any type.

Protocol layer (sans-IO). Read Attributes Response, Write / Report Attributes and GBCS
attribute reads carry a data type code before each value; every code ZCL defines is here.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Any, Final

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee._fields import Field, ZclDate, render_octets, render_utc

__all__ = ["DATA_TYPES", "AttributeValue", "TypedValueField", "Value"]




class _Kind(enum.Enum):
    INT = "int"
    SIGNED = "signed"
    FLOAT = "float"
    STRING = "string"
    BYTES = "bytes"
    DATE = "date"
    SEQUENCE = "sequence"
    STRUCTURE = "structure"
    NONE = "none"


def _data_types() -> dict[int, tuple[str, _Kind, int]]:
    table: dict[int, tuple[str, _Kind, int]] = {0x00: ("no_data", _Kind.NONE, 0)}
    for n in range(8):
        table[0x08 + n] = (f"data{8 * (n + 1)}", _Kind.INT, n + 1)
        table[0x18 + n] = (f"bitmap{8 * (n + 1)}", _Kind.INT, n + 1)
        table[0x20 + n] = (f"uint{8 * (n + 1)}", _Kind.INT, n + 1)
        table[0x28 + n] = (f"int{8 * (n + 1)}", _Kind.SIGNED, n + 1)
    table.update({
        0x10: ("bool", _Kind.INT, 1),
        0x30: ("enum8", _Kind.INT, 1),
        0x31: ("enum16", _Kind.INT, 2),
        0x38: ("semi_float", _Kind.FLOAT, 2),
        0x39: ("single_float", _Kind.FLOAT, 4),
        0x3A: ("double_float", _Kind.FLOAT, 8),
        0x41: ("octet_string", _Kind.STRING, 1),
        0x42: ("character_string", _Kind.STRING, 1),
        0x43: ("long_octet_string", _Kind.STRING, 2),
        0x44: ("long_character_string", _Kind.STRING, 2),
        0x48: ("array", _Kind.SEQUENCE, 0),
        0x4C: ("structure", _Kind.STRUCTURE, 0),
        0x50: ("set", _Kind.SEQUENCE, 0),
        0x51: ("bag", _Kind.SEQUENCE, 0),
        0xE0: ("time_of_day", _Kind.INT, 4),
        0xE1: ("date", _Kind.DATE, 4),
        0xE2: ("utc_time", _Kind.INT, 4),
        0xE8: ("cluster_id", _Kind.INT, 2),
        0xE9: ("attribute_id", _Kind.INT, 2),
        0xEA: ("bacnet_oid", _Kind.INT, 4),
        0xF0: ("ieee_address", _Kind.INT, 8),
        0xF1: ("security_key", _Kind.BYTES, 16),
    })
    return table


#: ZCL data type code -> (name, kind, size or length-prefix size).
DATA_TYPES: Final = _data_types()
_FLOAT_FORMATS: Final = {2: "<e", 4: "<f", 8: "<d"}
_MAX_DEPTH: Final = 8

#: An attribute value: int (integers, bitmaps, enums, times, float bit patterns), bytes
#: (strings, keys), ZclDate, a tuple of values (array / set / bag) or of AttributeValue
#: (structure), or None (no data).
Value = int | bytes | ZclDate | tuple[Any, ...] | None


def _read_value(data: bytes, pos: int, end: int, code: int, depth: int) -> tuple[Value, int]:
    spec = DATA_TYPES.get(code)
    if spec is None:
        raise DecodeError(f"unsupported ZCL data type 0x{code:02X}", offset=pos)
    _, kind, size = spec
    if kind in (_Kind.INT, _Kind.SIGNED, _Kind.FLOAT, _Kind.BYTES, _Kind.DATE):
        if pos + size > end:
            raise DecodeError(f"expected {size} value bytes, got {end - pos}", offset=pos)
        raw = data[pos : pos + size]
        if kind is _Kind.BYTES:
            return raw, pos + size
        if kind is _Kind.DATE:
            return ZclDate(raw[0], raw[1], raw[2], raw[3]), pos + size
        return int.from_bytes(raw, "little", signed=kind is _Kind.SIGNED), pos + size
    if kind is _Kind.NONE:
        return None, pos
    if kind is _Kind.STRING:
        if pos + size > end:
            raise DecodeError(f"expected a {size}-byte string length", offset=pos)
        length = int.from_bytes(data[pos : pos + size], "little")
        start = pos + size
        if start + length > end:
            raise DecodeError(f"expected {length} string bytes, got {end - start}", offset=start)
        return data[start : start + length], start + length
    if depth >= _MAX_DEPTH:
        raise DecodeError("attribute values nested too deeply", offset=pos)
    if kind is _Kind.SEQUENCE:
        if pos + 3 > end:
            raise DecodeError("expected an element type and a 2-byte count", offset=pos)
        element = data[pos]
        count = int.from_bytes(data[pos + 1 : pos + 3], "little")
        pos += 3
        items: list[Any] = [element]
        for _ in range(count):
            item, pos = _read_value(data, pos, end, element, depth + 1)
            items.append(item)
        return tuple(items), pos
    if pos + 2 > end:
        raise DecodeError("expected a 2-byte structure count", offset=pos)
    count = int.from_bytes(data[pos : pos + 2], "little")
    pos += 2
    members = []
    for _ in range(count):
        if pos >= end:
            raise DecodeError("expected a structure member type", offset=pos)
        member_type = data[pos]
        value, pos = _read_value(data, pos + 1, end, member_type, depth + 1)
        members.append(AttributeValue(member_type, value))
    return tuple(members), pos


def _write_value(code: int, value: Value, out: list[bytes]) -> None:
    spec = DATA_TYPES.get(code)
    if spec is None:
        raise LocalProtocolError(f"unsupported ZCL data type 0x{code:02X}")
    _, kind, size = spec
    if kind in (_Kind.INT, _Kind.SIGNED, _Kind.FLOAT):
        if not isinstance(value, int):
            raise LocalProtocolError(f"data type 0x{code:02X} takes an int")
        out.append(value.to_bytes(size, "little", signed=kind is _Kind.SIGNED))
    elif kind is _Kind.BYTES:
        if not isinstance(value, bytes) or len(value) != size:
            raise LocalProtocolError(f"data type 0x{code:02X} takes {size} bytes")
        out.append(value)
    elif kind is _Kind.DATE:
        if not isinstance(value, ZclDate):
            raise LocalProtocolError("a date value must be a ZclDate")
        out.append(bytes((value.year_offset, value.month, value.day, value.weekday)))
    elif kind is _Kind.NONE:
        if value is not None:
            raise LocalProtocolError("no-data (0x00) carries no value")
    elif kind is _Kind.STRING:
        if not isinstance(value, bytes):
            raise LocalProtocolError(f"data type 0x{code:02X} takes bytes")
        out.append(len(value).to_bytes(size, "little"))
        out.append(value)
    elif kind is _Kind.SEQUENCE:
        if not isinstance(value, tuple) or not value:
            raise LocalProtocolError("an array/set/bag value is (element type, *elements)")
        element, *items = value
        out.append(bytes((element,)))
        out.append(len(items).to_bytes(2, "little"))
        for item in items:
            _write_value(element, item, out)
    else:
        if not isinstance(value, tuple):
            raise LocalProtocolError("a structure value is a tuple of AttributeValue")
        out.append(len(value).to_bytes(2, "little"))
        for member in value:
            out.append(bytes((member.data_type,)))
            _write_value(member.data_type, member.value, out)


def _render_value(code: int, value: Value) -> Any:
    name, kind, size = DATA_TYPES[code]
    if name == "utc_time":
        return render_utc(int(value))  # type: ignore[arg-type]
    if isinstance(value, ZclDate):
        return value.render()
    if kind is _Kind.FLOAT and isinstance(value, int):
        return struct.unpack(_FLOAT_FORMATS[size], value.to_bytes(size, "little"))[0]
    if isinstance(value, bytes):
        return render_octets(value)
    if kind is _Kind.SEQUENCE and isinstance(value, tuple):
        return [_render_value(value[0], v) for v in value[1:]]
    if kind is _Kind.STRUCTURE and isinstance(value, tuple):
        return [m.to_json() for m in value]
    if isinstance(value, int) and (name.startswith(("bitmap", "data")) or name == "ieee_address"):
        return f"0x{value:0{size * 2}X}"
    return value


@dataclass(frozen=True, slots=True)
class AttributeValue:
    """A self-describing ZCL value: data type code, then the value in that type."""

    #: ZCL data type code (e.g. 0x25 uint48, 0x41 octet string; :data:`DATA_TYPES`).
    data_type: int
    #: See :data:`Value`; floats keep their bit pattern as an int.
    value: Value

    def to_json(self) -> dict[str, Any]:
        """``{"type": name, "value": readable}``."""
        name = DATA_TYPES[self.data_type][0] if self.data_type in DATA_TYPES else "unknown"
        return {"type": name, "value": _render_value(self.data_type, self.value)}


class TypedValueField(Field):
    """An :class:`AttributeValue`; with ``when_success`` only present if sibling status is 0."""

    __slots__ = ("when_success",)

    def __init__(self, *, when_success: bool = False) -> None:
        self.when_success = when_success

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        if self.when_success and ctx["status"] != 0:
            return None, pos
        if pos >= end:
            raise DecodeError("expected a data type", offset=pos)
        code = data[pos]
        try:
            value, after = _read_value(data, pos + 1, end, code, 0)
        except DecodeError as exc:
            raise exc.within("value") from None
        return AttributeValue(code, value), after

    def write(self, value: Any, out: list[bytes]) -> None:
        if value is None:
            return
        out.append(bytes((value.data_type,)))
        _write_value(value.data_type, value.value, out)

    def render(self, value: Any) -> Any:
        return None if value is None else value.to_json()
