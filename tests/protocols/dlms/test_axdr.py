"""A-XDR Data (GBCS ref. §7.3, §7.4): golden triple per tag, rejections, properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.axdr import (
    Array,
    Bcd,
    BitString,
    Boolean,
    CompactArray,
    Data,
    Date,
    DateTime,
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
    Time,
    TypeDescription,
    Unsigned,
    Utf8String,
    VisibleString,
)
from tests.strategies.dlms import data_values

GBCS_NOW = DateTime(0x07DF, 1, 1, 0xFF, 0, 0, 0, 0, -0x8000, 0xFF)  # 07DF0101FF000000008000FF

# (wire, value): one or more per type tag; wire bytes annotated by field.
GOLDEN: list[tuple[str, Data]] = [
    ("00", NullData()),
    ("01 00", Array(())),
    ("01 02 11 01 11 02", Array((Unsigned(1), Unsigned(2)))),
    ("02 02 0f 00 16 1e", Structure((Integer(0), Enum(30)))),  # scaler 0, unit Wh (§4.5)
    ("03 00", Boolean(0)),
    ("03 01", Boolean(1)),
    ("03 ff", Boolean(0xFF)),  # GBCS true (ECS01a currency unit)
    ("04 00", BitString(0, b"")),
    ("04 05 a8", BitString(5, b"\xa8")),
    ("04 05 af", BitString(5, b"\xaf")),  # non-zero padding bits are kept
    ("05 ff ff ff fe", DoubleLong(-2)),
    ("06 00 00 00 0a", DoubleLongUnsigned(10)),
    ("09 00", OctetString(b"")),
    ("09 04 01 23 ab cd", OctetString(bytes.fromhex("0123abcd"))),  # ECS52 version
    ("0a 03 61 6c 6c", VisibleString(b"all")),
    ("0c 02 7b 7d", Utf8String(b"{}")),
    ("0d 42", Bcd(0x42)),
    ("0f fb", Integer(-5)),
    ("10 80 00", Long(-0x8000)),
    ("11 ff", Unsigned(255)),
    ("12 00 33", LongUnsigned(51)),  # ECS42 script selector
    ("14 ff ff ff ff ff ff ff ff", Long64(-1)),
    ("15 00 00 00 01 00 00 00 00", Long64Unsigned(1 << 32)),
    ("16 02", Enum(2)),
    ("17 3f c0 00 00", Float32(bytes.fromhex("3fc00000"))),
    ("17 7f 80 00 01", Float32(bytes.fromhex("7f800001"))),  # signalling NaN bits kept
    ("18 3f f8 00 00 00 00 00 00", Float64(bytes.fromhex("3ff8000000000000"))),
    ("19 07df 01 01 ff 00 00 00 00 8000 ff", GBCS_NOW),
    ("1a 07ee 01 0f ff", Date(2030, 1, 15, 0xFF)),
    ("1b 09 00 00 ff", Time(9, 0, 0, 0xFF)),
    # event-log compact array (§7.3): structure{double-long-unsigned, long-unsigned, octets}
    (
        "13 02 03 06 12 09  0f  00000001 8f36 01 aa  00000002 8f37 00",
        CompactArray(
            TypeDescription(2, 0, (TypeDescription(6), TypeDescription(18), TypeDescription(9))),
            (
                Structure((DoubleLongUnsigned(1), LongUnsigned(0x8F36), OctetString(b"\xaa"))),
                Structure((DoubleLongUnsigned(2), LongUnsigned(0x8F37), OctetString(b""))),
            ),
        ),
    ),
    # array type description: 2 x unsigned per value, two values
    (
        "13 01 0002 11  04  01 02 03 04",
        CompactArray(
            TypeDescription(1, 2, (TypeDescription(17),)),
            (Array((Unsigned(1), Unsigned(2))), Array((Unsigned(3), Unsigned(4)))),
        ),
    ),
    ("13 00 00", CompactArray(TypeDescription(0), ())),
    # long (two-byte) lengths
    ("09 81 80 " + "55" * 128, OctetString(b"\x55" * 128)),
    ("09 82 0100 " + "55" * 256, OctetString(b"\x55" * 256)),
]


@pytest.mark.parametrize(("wire", "value"), GOLDEN, ids=[w[:20] for w, _ in GOLDEN])
def test_golden_triple(wire: str, value: Data) -> None:
    raw = bytes.fromhex(wire)
    assert axdr.decode_exact(raw) == value
    assert axdr.encode(value) == raw
    assert axdr.decode(raw + b"\x01\x02") == (value, b"\x01\x02")
    assert axdr.decode_at(b"\xee" + raw, 1) == (value, 1 + len(raw))


def test_decoded_values_are_typed() -> None:
    dt = axdr.decode_exact(bytes.fromhex("19 07df0101ff000000008000ff"))
    assert isinstance(dt, DateTime)
    assert (dt.year, dt.month, dt.day, dt.deviation, dt.clock_status) == (2015, 1, 1, -32768, 255)
    assert Boolean(0xFF).value is True and Boolean(0).value is False
    assert Boolean.of(True) == Boolean(0xFF) and Boolean.of(False) == Boolean(0)
    assert Float32.of(1.5).value == 1.5
    assert math.isnan(Float32(bytes.fromhex("7f800001")).value)
    assert Float64.of(-2.25).raw == bytes.fromhex("c002000000000000")
    assert BitString(5, b"\xaf").bits() == (True, False, True, False, True)
    assert BitString.from_bits([True, False, True, False, True]) == BitString(5, b"\xa8")
    assert VisibleString(b"all").text == "all"
    assert Utf8String("é".encode()).text == "é"


def test_date_time_octets_round_trip() -> None:
    octets = bytes.fromhex("07df0101ff000000008000ff")
    assert DateTime.from_octets(octets) == GBCS_NOW
    assert GBCS_NOW.octets() == octets
    with pytest.raises(DecodeError, match="12 date-time octets"):
        DateTime.from_octets(octets[:11])


@pytest.mark.parametrize(
    ("wire", "path", "offset", "reason"),
    [
        ("", "axdr", 0, "got end of data"),
        ("07", "axdr", 0, "got 0x07"),  # tag 7 is not a Data type
        ("02 02 11 05 09 05 01", "axdr.structure[1].octet_string", 6, "expected 5 bytes, got 1"),
        ("02 02 11 05", "axdr.structure[1]", 4, "got end of data"),
        ("01 01 02 01 08", "axdr.array[0].structure[0]", 4, "got 0x08"),
        ("09 81 05 0102030405", "axdr.octet_string", 1, "shortest"),
        ("02 81 7f", "axdr.structure", 1, "shortest"),
        ("01 05 00 00", "axdr.array", 2, "count 5"),
        ("12 00", "axdr.long_unsigned", 1, "expected 2 bytes"),
        ("04 09 ff", "axdr.bit_string", 2, "expected 2 bytes"),
        ("19 07df", "axdr.date_time", 1, "expected 12 bytes"),
        ("13 07 00", "axdr.compact_array.type_description", 1, "got 0x07"),
        ("13 13 00", "axdr.compact_array.type_description", 1, "got 0x13"),
        ("13 01 0005 00 00", "axdr.compact_array.type_description.array", 4, "zero-size"),
        ("13 00 01 00", "axdr.compact_array.contents", 3, "zero-size"),
        ("13 12 03 000100", "axdr.compact_array.contents[1].long_unsigned", 5, "2 bytes"),
        ("13 12 03 0001", "axdr.compact_array.contents", 3, "expected 3 bytes"),
        (
            "13 02 02 12 09 04 0001 05 00 01020304",
            "axdr.compact_array.contents[0].structure[1].octet_string",
            9,
            "expected 5 bytes, got 1",  # bounded by the contents length, not the buffer
        ),
    ],
)
def test_malformed_data_raises_decode_error_with_path(
    wire: str, path: str, offset: int, reason: str
) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        axdr.decode_exact(bytes.fromhex(wire))
    assert (info.value.path, info.value.offset) == (path, offset)


def test_trailing_bytes_are_rejected_by_decode_exact() -> None:
    with pytest.raises(DecodeError, match="1 trailing") as info:
        axdr.decode_exact(b"\x00\x00")
    assert (info.value.path, info.value.offset) == ("axdr", 1)


def test_deep_nesting_is_a_decode_error_not_a_recursion_error() -> None:
    hostile = b"\x02\x01" * 5000 + b"\x00"
    with pytest.raises(DecodeError, match="nesting deeper"):
        axdr.decode_exact(hostile)
    nested = b"\x02\x01" * (axdr.MAX_DEPTH - 1) + b"\x00"
    assert axdr.encode(axdr.decode_exact(nested)) == nested


def test_hostile_counts_fail_fast() -> None:
    # a count of 2**32-1 elements in a 10-byte buffer must not loop
    with pytest.raises(DecodeError, match="count"):
        axdr.decode_exact(bytes.fromhex("01 84ffffffff 00 00 00"))
    # array(65535) of array(65535) of unsigned: bounded by the contents, not the product
    with pytest.raises(DecodeError):
        axdr.decode_exact(bytes.fromhex("13 01ffff 01ffff 11 02 0102"))


@pytest.mark.parametrize(
    "value",
    [
        Unsigned(256),
        Integer(128),
        Long(1 << 15),
        LongUnsigned(-1),
        DoubleLongUnsigned(1 << 32),
        Long64Unsigned(-1),
        Boolean(0x100),
        Enum(-1),
        Float32(b"\x00"),
        BitString(9, b"\x00"),
        DateTime(0x10000, 1, 1, 1, 0, 0, 0, 0, 0, 0),
        Date(2030, 256, 1, 1),
        Time(-1, 0, 0, 0),
        CompactArray(TypeDescription(17), (LongUnsigned(1),)),
        CompactArray(TypeDescription(1, 2, (TypeDescription(17),)), (Array((Unsigned(1),)),)),
        CompactArray(TypeDescription(2, 0, (TypeDescription(0),)), (Structure((NullData(),)),)),
        CompactArray(TypeDescription(7), ()),
        Structure((Unsigned(1), Array((Integer(-200),)))),
    ],
)
def test_unencodable_values_raise_local_protocol_error(value: Data) -> None:
    with pytest.raises(LocalProtocolError):
        axdr.encode(value)


def test_type_description_encodes_alone() -> None:
    desc = TypeDescription(2, 0, (TypeDescription(6), TypeDescription(1, 3, (TypeDescription(9),))))
    assert desc.encode() == bytes.fromhex("0202 06 01000309")


@given(data_values)
def test_decode_inverts_encode(value: Data) -> None:
    raw = axdr.encode(value)
    assert axdr.decode_exact(raw) == value
    assert axdr.encode(axdr.decode_exact(raw)) == raw


@settings(deadline=500)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    try:
        value, rest = axdr.decode(data)
    except DecodeError:
        return
    assert axdr.encode(value) + rest == data


@settings(deadline=500)
@given(data_values, st.data())
def test_mutated_values_raise_only_decode_error(value: Data, data: st.DataObject) -> None:
    raw = bytearray(axdr.encode(value))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        decoded, rest = axdr.decode(bytes(raw[:cut]))
    except DecodeError:
        return
    assert axdr.encode(decoded) + rest == bytes(raw[:cut])
