"""BER-style lengths (GBCS ref. §2): golden forms, shortest-form rule, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.dlms.length import (
    MAX_LENGTH,
    decode_length,
    encode_length,
    length_size,
    read_length,
)

GOLDEN = [
    (0, "00"),
    (0x15, "15"),
    (127, "7f"),
    (128, "8180"),
    (0x89, "8189"),  # ECS42 ciphered-content length (§5.1)
    (255, "81ff"),
    (256, "820100"),
    (0x0588, "820588"),  # ECS01a ciphered-content length (§14)
    (0xFFFF, "82ffff"),
    (0x10000, "83010000"),
    (MAX_LENGTH, "84ffffffff"),
]


@pytest.mark.parametrize(("value", "wire"), GOLDEN)
def test_golden_lengths(value: int, wire: str) -> None:
    raw = bytes.fromhex(wire)
    assert encode_length(value) == raw
    assert length_size(value) == len(raw)
    assert decode_length(raw + b"\xaa") == (value, b"\xaa")
    assert read_length(b"\x00" + raw, 1) == (value, 1 + len(raw))


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        ("", "end of data"),
        ("80", "1..4 length bytes"),  # indefinite form
        ("85 0000000001", "1..4 length bytes"),
        ("81", "expected 1 length bytes, got 0"),
        ("82 01", "expected 2 length bytes, got 1"),
        ("81 05", "shortest"),  # < 128 in long form
        ("81 7f", "shortest"),
        ("82 00 ff", "shortest"),  # leading zero byte
        ("83 00 01 00", "shortest"),
    ],
)
def test_malformed_lengths_are_rejected(wire: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        decode_length(bytes.fromhex(wire))
    assert info.value.offset == 0
    assert info.value.path == "length"


def test_error_offset_and_path_are_the_callers() -> None:
    with pytest.raises(DecodeError) as info:
        read_length(b"\x01\x02\x81\x05", 2, path="content_length")
    assert (info.value.path, info.value.offset) == ("content_length", 2)


@pytest.mark.parametrize("value", [-1, MAX_LENGTH + 1])
def test_out_of_range_lengths_cannot_be_encoded(value: int) -> None:
    with pytest.raises(LocalProtocolError):
        encode_length(value)


@given(st.integers(0, MAX_LENGTH), st.binary(max_size=8))
def test_decode_inverts_encode(value: int, tail: bytes) -> None:
    raw = encode_length(value)
    assert len(raw) == length_size(value)
    assert decode_length(raw + tail) == (value, tail)


@settings(deadline=200)
@given(st.binary(max_size=8))
def test_random_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        value, rest = decode_length(data)
    except DecodeError:
        return
    # whatever decodes is the unique shortest form
    assert encode_length(value) + rest == data
