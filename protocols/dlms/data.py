"""A-XDR ``Data`` value classes of DLMS/COSEM, one frozen class per type tag (GBCS ref. §7.3).

Protocol layer (sans-IO). Each class knows its tag and how to write itself; reading lives
in :mod:`smemu.protocols.dlms.axdr`, the module callers import. Raw octets are kept where a
value has several encodings (boolean octet, float bit patterns, bit-string padding bits).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Final, TypeAlias

from smemu.errors import LocalProtocolError
from smemu.protocols.dlms.dates import Date, DateTime, Time
from smemu.protocols.dlms.length import encode_length

__all__ = [
    "MAX_DEPTH",
    "SIMPLE_TYPE_SIZES",
    "Array",
    "Bcd",
    "BitString",
    "Boolean",
    "CompactArray",
    "Data",
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
    "TypeDescription",
    "Unsigned",
    "Utf8String",
    "VisibleString",
    "min_packed_size",
]

#: Deepest nesting of arrays/structures (and compact-array type descriptions) accepted.
#: GBCS payloads nest at most 6 deep; the limit turns hostile nesting into a DecodeError.
MAX_DEPTH: Final = 48

_I16: Final = struct.Struct(">h")
_U16: Final = struct.Struct(">H")
_I32: Final = struct.Struct(">i")
_U32: Final = struct.Struct(">I")
_I64: Final = struct.Struct(">q")
_U64: Final = struct.Struct(">Q")
_F32: Final = struct.Struct(">f")
_F64: Final = struct.Struct(">d")

_TAG_BYTES: Final = tuple(bytes((n,)) for n in range(256))


# --------------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class NullData:
    """null-data, tag 0: ``00`` and nothing else."""

    TAG: ClassVar[int] = 0

    def _write_body(self, out: list[bytes]) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Array:
    """array, tag 1: ``01 | count (BER length) | element Data...`` (elements carry tags).

    A-XDR requires the elements to share one type; that is not enforced here.
    """

    TAG: ClassVar[int] = 1
    #: The elements, in wire order.
    items: tuple[Data, ...]

    def _write_body(self, out: list[bytes]) -> None:
        out.append(encode_length(len(self.items)))
        for item in self.items:
            out.append(_TAG_BYTES[item.TAG])
            item._write_body(out)


@dataclass(frozen=True, slots=True)
class Structure:
    """structure, tag 2: ``02 | count (BER length) | element Data...``."""

    TAG: ClassVar[int] = 2
    #: The elements, in wire order.
    items: tuple[Data, ...]

    def _write_body(self, out: list[bytes]) -> None:
        out.append(encode_length(len(self.items)))
        for item in self.items:
            out.append(_TAG_BYTES[item.TAG])
            item._write_body(out)


@dataclass(frozen=True, slots=True)
class Boolean:
    """boolean, tag 3: ``03 | octet`` -- 0x00 is false, anything else true.

    The octet is kept as sent (GBCS uses 0xFF for true) so that re-encoding is exact.
    """

    TAG: ClassVar[int] = 3
    #: The octet on the wire, 0..255.
    raw: int

    @property
    def value(self) -> bool:
        """The truth value: ``raw != 0``."""
        return self.raw != 0

    @classmethod
    def of(cls, value: bool) -> Boolean:
        """Build a boolean the way GBCS devices send it: true as 0xFF, false as 0x00."""
        return cls(0xFF if value else 0x00)

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_byte(self.raw, "boolean"))


@dataclass(frozen=True, slots=True)
class BitString:
    """bit-string, tag 4: ``04 | bit count (BER length) | ceil(count / 8) octets``.

    The octets are kept whole, including the padding bits after the last counted bit.
    """

    TAG: ClassVar[int] = 4
    #: Number of bits.
    bit_count: int
    #: ``ceil(bit_count / 8)`` octets, first bit in the most significant bit of octet 0.
    data: bytes

    def bits(self) -> tuple[bool, ...]:
        """The counted bits, first bit first."""
        return tuple(bool(self.data[i >> 3] & (0x80 >> (i & 7))) for i in range(self.bit_count))

    @classmethod
    def from_bits(cls, bits: tuple[bool, ...] | list[bool]) -> BitString:
        """Pack ``bits`` (first bit into the top bit of the first octet), zero padding."""
        data = bytearray((len(bits) + 7) // 8)
        for i, bit in enumerate(bits):
            if bit:
                data[i >> 3] |= 0x80 >> (i & 7)
        return cls(len(bits), bytes(data))

    def _write_body(self, out: list[bytes]) -> None:
        if len(self.data) != (self.bit_count + 7) // 8:
            raise LocalProtocolError(
                f"bit-string of {self.bit_count} bits needs {(self.bit_count + 7) // 8} "
                f"octets, has {len(self.data)}"
            )
        out.append(encode_length(self.bit_count))
        out.append(self.data)


@dataclass(frozen=True, slots=True)
class DoubleLong:
    """double-long, tag 5: ``05 | int32 big-endian``."""

    TAG: ClassVar[int] = 5
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_pack(_I32, self.value, "double-long"))


@dataclass(frozen=True, slots=True)
class DoubleLongUnsigned:
    """double-long-unsigned, tag 6: ``06 | uint32 big-endian``."""

    TAG: ClassVar[int] = 6
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_pack(_U32, self.value, "double-long-unsigned"))


@dataclass(frozen=True, slots=True)
class OctetString:
    """octet-string, tag 9: ``09 | length (BER) | octets``."""

    TAG: ClassVar[int] = 9
    value: bytes

    def _write_body(self, out: list[bytes]) -> None:
        out.append(encode_length(len(self.value)))
        out.append(self.value)


@dataclass(frozen=True, slots=True)
class VisibleString:
    """visible-string, tag 10: ``0A | length (BER) | ASCII octets`` (octets kept as sent)."""

    TAG: ClassVar[int] = 10
    value: bytes

    @property
    def text(self) -> str:
        """The octets as text (non-ASCII octets shown as U+FFFD)."""
        return self.value.decode("ascii", errors="replace")

    def _write_body(self, out: list[bytes]) -> None:
        out.append(encode_length(len(self.value)))
        out.append(self.value)


@dataclass(frozen=True, slots=True)
class Utf8String:
    """utf8-string, tag 12: ``0C | length (BER) | UTF-8 octets`` (octets kept as sent)."""

    TAG: ClassVar[int] = 12
    value: bytes

    @property
    def text(self) -> str:
        """The octets as text (invalid UTF-8 shown as U+FFFD)."""
        return self.value.decode("utf-8", errors="replace")

    def _write_body(self, out: list[bytes]) -> None:
        out.append(encode_length(len(self.value)))
        out.append(self.value)


@dataclass(frozen=True, slots=True)
class Bcd:
    """bcd, tag 13: ``0D | octet`` (two BCD digits; the octet is kept as sent, 0..255)."""

    TAG: ClassVar[int] = 13
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_byte(self.value, "bcd"))


@dataclass(frozen=True, slots=True)
class Integer:
    """integer, tag 15: ``0F | int8``."""

    TAG: ClassVar[int] = 15
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        if not -0x80 <= self.value < 0x80:
            raise LocalProtocolError(f"integer {self.value} is outside -128..127")
        out.append(_TAG_BYTES[self.value & 0xFF])


@dataclass(frozen=True, slots=True)
class Long:
    """long, tag 16: ``10 | int16 big-endian``."""

    TAG: ClassVar[int] = 16
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_pack(_I16, self.value, "long"))


@dataclass(frozen=True, slots=True)
class Unsigned:
    """unsigned, tag 17: ``11 | uint8``."""

    TAG: ClassVar[int] = 17
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_byte(self.value, "unsigned"))


@dataclass(frozen=True, slots=True)
class LongUnsigned:
    """long-unsigned, tag 18: ``12 | uint16 big-endian``."""

    TAG: ClassVar[int] = 18
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_pack(_U16, self.value, "long-unsigned"))


@dataclass(frozen=True, slots=True)
class TypeDescription:
    """A compact-array type description (Green Book ``TypeDescription``).

    ::

        simple type   : tag
        array (1)     : 01 | element count (uint16 BE) | element TypeDescription
        structure (2) : 02 | field count (BER length) | field TypeDescription...

    """

    #: The Data type tag described (never 19, compact-array).
    tag: int
    #: For an array: the fixed number of elements of each array value; else 0.
    count: int = 0
    #: For an array: exactly one (the element type); for a structure: one per field.
    elements: tuple[TypeDescription, ...] = ()

    def encode(self) -> bytes:
        """The description's wire bytes.

        :raises LocalProtocolError: the tag is unknown or the shape does not fit the tag.
        """
        out: list[bytes] = []
        _write_description(self, out, 0)
        return b"".join(out)


@dataclass(frozen=True, slots=True)
class CompactArray:
    """compact-array, tag 19 (GBCS ref. §7.3).

    ::

        13 | TypeDescription | contents length (BER) | packed value | packed value | ...

    A packed value is the Data of the described type without its tag; arrays and structures
    carry no count (the description fixes it); strings keep their length prefix.
    """

    TAG: ClassVar[int] = 19
    #: The type every value has.
    description: TypeDescription
    #: The values, each a Data instance of the described type (arrays and structures as
    #: :class:`Array` / :class:`Structure` holding the described number of items).
    values: tuple[Data, ...]

    def _write_body(self, out: list[bytes]) -> None:
        _write_description(self.description, out, 0)
        contents: list[bytes] = []
        for value in self.values:
            _write_packed(self.description, value, contents, 0)
        packed = b"".join(contents)
        if self.values and not packed:
            raise LocalProtocolError("compact-array of zero-size values cannot carry a value count")
        out.append(encode_length(len(packed)))
        out.append(packed)


@dataclass(frozen=True, slots=True)
class Long64:
    """long64, tag 20: ``14 | int64 big-endian``."""

    TAG: ClassVar[int] = 20
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_pack(_I64, self.value, "long64"))


@dataclass(frozen=True, slots=True)
class Long64Unsigned:
    """long64-unsigned, tag 21: ``15 | uint64 big-endian``."""

    TAG: ClassVar[int] = 21
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_pack(_U64, self.value, "long64-unsigned"))


@dataclass(frozen=True, slots=True)
class Enum:
    """enum, tag 22: ``16 | uint8``."""

    TAG: ClassVar[int] = 22
    value: int

    def _write_body(self, out: list[bytes]) -> None:
        out.append(_byte(self.value, "enum"))


@dataclass(frozen=True, slots=True)
class Float32:
    """float32, tag 23: ``17 | IEEE 754 binary32 big-endian`` (bit pattern kept, NaNs too)."""

    TAG: ClassVar[int] = 23
    #: The four octets on the wire.
    raw: bytes

    @property
    def value(self) -> float:
        """The number."""
        return float(_F32.unpack(self.raw)[0])

    @classmethod
    def of(cls, value: float) -> Float32:
        """Encode ``value`` (rounded to binary32).

        :raises LocalProtocolError: the value is too large for binary32.
        """
        try:
            return cls(_F32.pack(value))
        except (OverflowError, struct.error) as exc:
            raise LocalProtocolError(f"float32 cannot hold {value!r}") from exc

    def _write_body(self, out: list[bytes]) -> None:
        _fixed(self.raw, 4, "float32")
        out.append(self.raw)


@dataclass(frozen=True, slots=True)
class Float64:
    """float64, tag 24: ``18 | IEEE 754 binary64 big-endian`` (bit pattern kept, NaNs too)."""

    TAG: ClassVar[int] = 24
    #: The eight octets on the wire.
    raw: bytes

    @property
    def value(self) -> float:
        """The number."""
        return float(_F64.unpack(self.raw)[0])

    @classmethod
    def of(cls, value: float) -> Float64:
        """Encode ``value``."""
        return cls(_F64.pack(value))

    def _write_body(self, out: list[bytes]) -> None:
        _fixed(self.raw, 8, "float64")
        out.append(self.raw)


#: Any A-XDR Data value.
Data: TypeAlias = (
    NullData
    | Array
    | Structure
    | Boolean
    | BitString
    | DoubleLong
    | DoubleLongUnsigned
    | OctetString
    | VisibleString
    | Utf8String
    | Bcd
    | Integer
    | Long
    | Unsigned
    | LongUnsigned
    | CompactArray
    | Long64
    | Long64Unsigned
    | Enum
    | Float32
    | Float64
    | DateTime
    | Date
    | Time
)


# ------------------------------------------------------------------------ encode helpers


def _byte(value: int, what: str) -> bytes:
    if 0 <= value < 256:
        return _TAG_BYTES[value]
    raise LocalProtocolError(f"{what} {value} is outside 0..255")


def _pack(fmt: struct.Struct, value: int, what: str) -> bytes:
    try:
        return fmt.pack(value)
    except struct.error as exc:
        raise LocalProtocolError(f"{what} {value} does not fit: {exc}") from exc


def _fixed(raw: bytes, size: int, what: str) -> None:
    if len(raw) != size:
        raise LocalProtocolError(f"{what} needs {size} octets, has {len(raw)}")


# ------------------------------------------------------------ compact-array descriptions

#: Packed size of each simple type a compact-array may describe (strings: their 1-byte
#: minimum length prefix).
SIMPLE_TYPE_SIZES: Final = {
    0: 0, 3: 1, 4: 1, 5: 4, 6: 4, 9: 1, 10: 1, 12: 1, 13: 1, 15: 1, 16: 2, 17: 1, 18: 2,
    20: 8, 21: 8, 22: 1, 23: 4, 24: 8, 25: 12, 26: 5, 27: 4,
}  # fmt: skip


def min_packed_size(desc: TypeDescription) -> int:
    """Fewest bytes one packed value of type ``desc`` takes (0 for nothing but nulls)."""
    if desc.tag == 1:
        return desc.count * min_packed_size(desc.elements[0]) if desc.count else 0
    if desc.tag == 2:
        return sum(min_packed_size(field) for field in desc.elements)
    return SIMPLE_TYPE_SIZES[desc.tag]


def _write_description(desc: TypeDescription, out: list[bytes], depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise LocalProtocolError(f"type description nested deeper than {MAX_DEPTH}")
    tag = desc.tag
    if tag == 1:
        if len(desc.elements) != 1:
            raise LocalProtocolError("an array type description needs exactly one element type")
        out.append(b"\x01" + _pack(_U16, desc.count, "array type count"))
        _write_description(desc.elements[0], out, depth + 1)
        if desc.count and min_packed_size(desc.elements[0]) == 0:
            raise LocalProtocolError("an array type description of zero-size elements")
    elif tag == 2:
        if desc.count:
            raise LocalProtocolError("a structure type description has no count of its own")
        out.append(b"\x02" + encode_length(len(desc.elements)))
        for field in desc.elements:
            _write_description(field, out, depth + 1)
    elif tag in SIMPLE_TYPE_SIZES:
        if desc.count or desc.elements:
            raise LocalProtocolError(f"type 0x{tag:02X} takes no count or element types")
        out.append(_TAG_BYTES[tag])
    else:
        raise LocalProtocolError(f"0x{tag:02X} is not a compact-array type tag")


def _write_packed(desc: TypeDescription, value: Data, out: list[bytes], depth: int) -> None:
    tag = desc.tag
    if tag != value.TAG:
        raise LocalProtocolError(
            f"compact-array value of type {value.TAG} where type {tag} is described"
        )
    if isinstance(value, Array):
        if len(value.items) != desc.count:
            raise LocalProtocolError(
                f"compact-array array value of {len(value.items)} items, {desc.count} described"
            )
        element = desc.elements[0]
        for item in value.items:
            _write_packed(element, item, out, depth + 1)
    elif isinstance(value, Structure):
        if len(value.items) != len(desc.elements):
            raise LocalProtocolError(
                f"compact-array structure value of {len(value.items)} fields, "
                f"{len(desc.elements)} described"
            )
        for field, item in zip(desc.elements, value.items, strict=True):
            _write_packed(field, item, out, depth + 1)
    else:
        value._write_body(out)
