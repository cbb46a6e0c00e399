"""A-XDR ``Data`` codec of DLMS/COSEM: decode, decode_exact, encode (GBCS ref. §7.3, §2).

Protocol layer (sans-IO); re-exports the value classes of ``data`` and ``dates``.
``encode(decode(b)) == b`` for every input accepted: non-minimal lengths are rejected
(A-XDR is canonical), odd-but-valid octets (boolean 0xFF, NaN bits, padding) are kept.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final, TypeAlias

from smemu.errors import DecodeError
from smemu.protocols.dlms.data import (
    MAX_DEPTH,
    SIMPLE_TYPE_SIZES,
    Array,
    Bcd,
    BitString,
    Boolean,
    CompactArray,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Float32,
    Float64,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    TypeDescription,
    Unsigned,
    Utf8String,
    VisibleString,
    min_packed_size,
)
from smemu.protocols.dlms.dates import (
    DATE_STRUCT,
    DATE_TIME_STRUCT,
    TIME_STRUCT,
    Date,
    DateTime,
    Time,
)
from smemu.protocols.dlms.length import read_length

__all__ = [
    "MAX_DEPTH",
    "Array",
    "Bcd",
    "BitString",
    "Boolean",
    "CompactArray",
    "Data",
    "Date",
    "DateTime",
    "DoubleLong",
    "DoubleLongUnsigned",
    "Enum",
    "Float32",
    "Float64",
    "Integer",
    "Long",
    "Long64",
    "Long64Unsigned",
    "LongUnsigned",
    "NullData",
    "OctetString",
    "Structure",
    "Time",
    "TypeDescription",
    "Unsigned",
    "Utf8String",
    "VisibleString",
    "decode",
    "decode_at",
    "decode_exact",
    "encode",
    "encode_into",
]

_I16: Final = struct.Struct(">h")
_U16: Final = struct.Struct(">H")
_I32: Final = struct.Struct(">i")
_U32: Final = struct.Struct(">I")
_I64: Final = struct.Struct(">q")
_U64: Final = struct.Struct(">Q")
_DATE_TIME: Final = DATE_TIME_STRUCT
_DATE: Final = DATE_STRUCT
_TIME: Final = TIME_STRUCT
_NULL: Final = NullData()
_TAG_BYTES: Final = tuple(bytes((n,)) for n in range(256))


# ----------------------------------------------------------------------------- decoding

# A reader takes (data, position just after the tag, depth) and returns (value, next position).
_Reader: TypeAlias = Callable[[bytes, int, int], tuple["Data", int]]


def _short(data: bytes, pos: int, size: int, what: str) -> DecodeError:
    return DecodeError(f"expected {size} bytes, got {len(data) - pos}", path=what, offset=pos)


def _need(data: bytes, pos: int, size: int, what: str) -> int:
    end = pos + size
    if end > len(data):
        raise _short(data, pos, size, what)
    return end


def _read_null(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    return _NULL, pos


def _read_items(data: bytes, pos: int, depth: int, what: str) -> tuple[tuple[Data, ...], int]:
    # Hot path: counts below 128 are one byte; read_length handles the rest and the errors.
    count = data[pos] if pos < len(data) else 0x80
    if count < 0x80:
        pos += 1
    else:
        count, pos = read_length(data, pos, path=what)
    if count > len(data) - pos:
        raise DecodeError(
            f"expected at most {len(data) - pos} elements in the bytes left, got count {count}",
            path=what,
            offset=pos,
        )
    if depth >= MAX_DEPTH:
        raise DecodeError(f"nesting deeper than {MAX_DEPTH}", path=what, offset=pos)
    items: list[Data] = []
    append = items.append
    readers = _READERS
    depth += 1
    try:
        for _ in range(count):
            if pos >= len(data):
                raise DecodeError("expected a Data type tag, got end of data", offset=pos)
            reader = readers[data[pos]]
            if reader is None:
                raise DecodeError(f"expected a Data type tag, got 0x{data[pos]:02X}", offset=pos)
            value, pos = reader(data, pos + 1, depth)
            append(value)
    except DecodeError as exc:
        raise exc.within(f"{what}[{len(items)}]") from None
    return tuple(items), pos


def _read_array(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    items, pos = _read_items(data, pos, depth, "array")
    return Array(items), pos


def _read_structure(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    items, pos = _read_items(data, pos, depth, "structure")
    return Structure(items), pos


def _read_boolean(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    _need(data, pos, 1, "boolean")
    return Boolean(data[pos]), pos + 1


def _read_bit_string(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    bits, pos = read_length(data, pos, path="bit_string")
    end = _need(data, pos, (bits + 7) >> 3, "bit_string")
    return BitString(bits, data[pos:end]), end


def _read_double_long(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 4, "double_long")
    return DoubleLong(_I32.unpack_from(data, pos)[0]), end


def _read_double_long_unsigned(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = pos + 4
    if end > len(data):
        raise _short(data, pos, 4, "double_long_unsigned")
    return DoubleLongUnsigned(_U32.unpack_from(data, pos)[0]), end


def _read_octets(data: bytes, pos: int, what: str) -> tuple[bytes, int]:
    size = data[pos] if pos < len(data) else 0x80
    if size < 0x80:  # hot path: one length byte
        pos += 1
    else:
        size, pos = read_length(data, pos, path=what)
    end = pos + size
    if end > len(data):
        raise _short(data, pos, size, what)
    return data[pos:end], end


def _read_octet_string(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    value, pos = _read_octets(data, pos, "octet_string")
    return OctetString(value), pos


def _read_visible_string(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    value, pos = _read_octets(data, pos, "visible_string")
    return VisibleString(value), pos


def _read_utf8_string(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    value, pos = _read_octets(data, pos, "utf8_string")
    return Utf8String(value), pos


def _read_bcd(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    _need(data, pos, 1, "bcd")
    return Bcd(data[pos]), pos + 1


def _read_integer(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    _need(data, pos, 1, "integer")
    value = data[pos]
    return Integer(value - 256 if value >= 0x80 else value), pos + 1


def _read_long(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 2, "long")
    return Long(_I16.unpack_from(data, pos)[0]), end


def _read_unsigned(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    if pos >= len(data):
        raise _short(data, pos, 1, "unsigned")
    return Unsigned(data[pos]), pos + 1


def _read_long_unsigned(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = pos + 2
    if end > len(data):
        raise _short(data, pos, 2, "long_unsigned")
    return LongUnsigned((data[pos] << 8) | data[pos + 1]), end


def _read_long64(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 8, "long64")
    return Long64(_I64.unpack_from(data, pos)[0]), end


def _read_long64_unsigned(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 8, "long64_unsigned")
    return Long64Unsigned(_U64.unpack_from(data, pos)[0]), end


def _read_enum(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    _need(data, pos, 1, "enum")
    return Enum(data[pos]), pos + 1


def _read_float32(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 4, "float32")
    return Float32(data[pos:end]), end


def _read_float64(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 8, "float64")
    return Float64(data[pos:end]), end


def _read_date_time(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 12, "date_time")
    return DateTime(*_DATE_TIME.unpack_from(data, pos)), end


def _read_date(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 5, "date")
    return Date(*_DATE.unpack_from(data, pos)), end


def _read_time(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    end = _need(data, pos, 4, "time")
    return Time(*_TIME.unpack_from(data, pos)), end


def _read_compact_array(data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    try:
        description, pos = _read_description(data, pos, depth)
    except DecodeError as exc:
        raise exc.within("compact_array.type_description") from None
    size, pos = read_length(data, pos, path="compact_array.contents_length")
    end = _need(data, pos, size, "compact_array.contents")
    if size and min_packed_size(description) == 0:
        raise DecodeError(
            f"expected no contents for a zero-size type description, got {size} bytes",
            path="compact_array.contents",
            offset=pos,
        )
    # The packed values are read from a copy of the contents, so that no value can run
    # past the contents length; error offsets are moved back into ``data``.
    contents = data[pos:end]
    values: list[Data] = []
    at = 0
    try:
        while at < size:
            value, at = _read_packed(description, contents, at, depth + 1)
            values.append(value)
    except DecodeError as exc:
        raise exc.within(f"compact_array.contents[{len(values)}]", pos) from None
    return CompactArray(description, tuple(values)), end


_READERS: Final[list[_Reader | None]] = [None] * 256
for _tag, _reader in (
    (0, _read_null),
    (1, _read_array),
    (2, _read_structure),
    (3, _read_boolean),
    (4, _read_bit_string),
    (5, _read_double_long),
    (6, _read_double_long_unsigned),
    (9, _read_octet_string),
    (10, _read_visible_string),
    (12, _read_utf8_string),
    (13, _read_bcd),
    (15, _read_integer),
    (16, _read_long),
    (17, _read_unsigned),
    (18, _read_long_unsigned),
    (19, _read_compact_array),
    (20, _read_long64),
    (21, _read_long64_unsigned),
    (22, _read_enum),
    (23, _read_float32),
    (24, _read_float64),
    (25, _read_date_time),
    (26, _read_date),
    (27, _read_time),
):
    _READERS[_tag] = _reader
del _tag, _reader

# ------------------------------------------------------------ compact-array descriptions


def _read_description(data: bytes, pos: int, depth: int) -> tuple[TypeDescription, int]:
    if depth >= MAX_DEPTH:
        raise DecodeError(f"nesting deeper than {MAX_DEPTH}", offset=pos)
    _need(data, pos, 1, "")
    tag = data[pos]
    pos += 1
    if tag == 1:
        end = _need(data, pos, 2, "array.count")
        count = _U16.unpack_from(data, pos)[0]
        try:
            element, pos = _read_description(data, end, depth + 1)
        except DecodeError as exc:
            raise exc.within("array") from None
        if count and min_packed_size(element) == 0:
            raise DecodeError(
                f"expected an array element type of non-zero size, got {count} zero-size elements",
                path="array",
                offset=end,
            )
        return TypeDescription(1, count, (element,)), pos
    if tag == 2:
        count, pos = read_length(data, pos, path="structure.count")
        if count > len(data) - pos:
            raise DecodeError(
                f"expected at most {len(data) - pos} field types, got count {count}",
                path="structure.count",
                offset=pos,
            )
        fields: list[TypeDescription] = []
        try:
            for _ in range(count):
                field, pos = _read_description(data, pos, depth + 1)
                fields.append(field)
        except DecodeError as exc:
            raise exc.within(f"structure[{len(fields)}]") from None
        return TypeDescription(2, 0, tuple(fields)), pos
    if tag not in SIMPLE_TYPE_SIZES:
        raise DecodeError(f"expected a compact-array type tag, got 0x{tag:02X}", offset=pos - 1)
    return TypeDescription(tag), pos


def _read_packed(desc: TypeDescription, data: bytes, pos: int, depth: int) -> tuple[Data, int]:
    tag = desc.tag
    if tag in (1, 2):
        if depth >= MAX_DEPTH:
            raise DecodeError(f"nesting deeper than {MAX_DEPTH}", offset=pos)
        items: list[Data] = []
        fields = desc.elements * desc.count if tag == 1 else desc.elements
        try:
            for field in fields:
                value, pos = _read_packed(field, data, pos, depth + 1)
                items.append(value)
        except DecodeError as exc:
            what = "array" if tag == 1 else "structure"
            raise exc.within(f"{what}[{len(items)}]") from None
        return (Array(tuple(items)) if tag == 1 else Structure(tuple(items))), pos
    reader = _READERS[tag]
    if reader is None:  # pragma: no cover - descriptions are validated when read
        raise DecodeError(f"expected a compact-array type tag, got 0x{tag:02X}", offset=pos)
    return reader(data, pos, depth)


# ---------------------------------------------------------------------------- public API


def decode_at(data: bytes, pos: int = 0) -> tuple[Data, int]:
    """Decode one Data value at ``data[pos]``; the primitive the APDU codecs build on.

    :param data: the whole buffer (``bytes``; offsets in errors are into it).
    :param pos: where the value's type tag is.
    :returns: ``(value, position after the value)``.
    :raises DecodeError: malformed value; ``path`` is relative to the value (no prefix).
    """
    try:
        reader = _READERS[data[pos]]
    except IndexError:
        raise DecodeError("expected a Data type tag, got end of data", offset=pos) from None
    if reader is None:
        raise DecodeError(f"expected a Data type tag, got 0x{data[pos]:02X}", offset=pos)
    return reader(data, pos + 1, 0)


def decode(data: bytes, offset: int = 0) -> tuple[Data, bytes]:
    """Decode one Data value from the start of ``data`` (or from ``offset``).

    :param data: bytes holding an A-XDR Data value.
    :param offset: where the value starts (default 0).
    :returns: ``(value, rest)``, ``rest`` being the bytes after the value.
    :raises DecodeError: malformed value, path prefixed ``axdr``; offsets into ``data``.
    """
    data = bytes(data)
    if not 0 <= offset <= len(data):
        raise DecodeError(f"offset {offset} is outside the {len(data)} bytes given", path="axdr")
    try:
        value, end = decode_at(data, offset)
    except DecodeError as exc:
        raise exc.within("axdr") from None
    return value, data[end:]


def decode_exact(data: bytes) -> Data:
    """Decode ``data`` as exactly one Data value.

    :raises DecodeError: malformed value or trailing bytes after it.
    """
    data = bytes(data)
    try:
        value, end = decode_at(data, 0)
    except DecodeError as exc:
        raise exc.within("axdr") from None
    if end != len(data):
        raise DecodeError(
            f"expected end of data, got {len(data) - end} trailing bytes", path="axdr", offset=end
        )
    return value


def encode_into(value: Data, out: list[bytes]) -> None:
    """Append the encoding of ``value`` (tag first) to ``out``; joined later by the caller.

    :raises LocalProtocolError: a field is out of range or a value is inconsistent.
    """
    out.append(_TAG_BYTES[value.TAG])
    value._write_body(out)


def encode(value: Data) -> bytes:
    """Encode one Data value.

    :raises LocalProtocolError: a field is out of range or a value is inconsistent.
    """
    out: list[bytes] = [_TAG_BYTES[value.TAG]]
    value._write_body(out)
    return b"".join(out)
