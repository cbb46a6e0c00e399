"""ICHI frame codec and framer (docs/ichi-rig.md): vectors, round trips, resync, bad input."""

from __future__ import annotations

import contextlib

import crcmod  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.framing.ichi import (
    MAX_PAYLOAD,
    MAX_WIRE_LENGTH,
    IchiFrame,
    IchiFramer,
    IchiFrameType,
    LineCode,
    crc16,
    decode,
    decode_event,
    decode_exact,
    encode,
    encode_event,
    stuff,
    unstuff,
)

#: The worked examples of docs/ichi-rig.md (written from the specification, not recorded).
DOC_VECTORS = [
    (IchiFrame(IchiFrameType.RESET, 1, bytes.fromhex("c0ffee01")),
     "7e 14 01 c0 ff ee 01 e7 3f 7e"),
    (IchiFrame(IchiFrameType.RESET_ACK, 1, bytes.fromhex("c0ffee01")),
     "7e 15 01 c0 ff ee 01 a2 9f 7e"),
    (IchiFrame(IchiFrameType.EVENT, 0, bytes.fromhex("01000005dc")),
     "7e 12 00 01 00 00 05 dc f9 03 7e"),
    (IchiFrame(IchiFrameType.ACK, 0), "7e 13 00 4b 2f 7e"),
    (IchiFrame(IchiFrameType.DATA, 0, bytes.fromhex("7e7d41")),
     "7e 11 00 7d 5e 7d 5d 41 5a ee 7e"),
]


def slow_crc16(data: bytes) -> int:
    """Bitwise CRC-16/CCITT-FALSE, straight from its definition (poly 0x1021, init 0xFFFF)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


@pytest.mark.parametrize(("frame", "wire"), DOC_VECTORS)
def test_documented_frames(frame: IchiFrame, wire: str) -> None:
    data = bytes.fromhex(wire)
    assert encode(frame) == data
    assert decode_exact(data) == frame
    assert frame.encode() == data


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


@given(st.binary(max_size=600))
def test_crc_agrees_with_crcmod_and_a_bitwise_reference(data: bytes) -> None:
    generic = crcmod.mkCrcFun(0x11021, initCrc=0xFFFF, rev=False, xorOut=0)
    assert crc16(data) == generic(data) == slow_crc16(data)


frames = st.one_of(
    st.builds(IchiFrame, st.just(IchiFrameType.DATA), st.integers(0, 255),
              st.binary(min_size=1, max_size=MAX_PAYLOAD)),
    st.builds(IchiFrame, st.just(IchiFrameType.EVENT), st.integers(0, 255),
              st.builds(encode_event, st.sampled_from(list(LineCode)),
                        st.none() | st.integers(0, 2**32 - 1))),
    st.builds(IchiFrame, st.just(IchiFrameType.ACK), st.integers(0, 255)),
    st.builds(IchiFrame, st.sampled_from([IchiFrameType.RESET, IchiFrameType.RESET_ACK]),
              st.integers(0, 255), st.binary(min_size=4, max_size=4)),
)


@given(frames)
def test_round_trip(frame: IchiFrame) -> None:
    wire = encode(frame)
    assert decode_exact(wire) == frame
    assert decode(wire + b"\x7e\x11")[0] == frame
    assert wire.count(0x7E) == 2  # flags only at the ends
    assert len(wire) <= MAX_WIRE_LENGTH


@given(st.binary(max_size=300))
def test_stuffing_round_trips(data: bytes) -> None:
    stuffed = stuff(data)
    assert 0x7E not in stuffed
    assert unstuff(stuffed) == data


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


def test_corruption_is_detected() -> None:
    wire = bytearray(encode(IchiFrame(IchiFrameType.DATA, 3, b"meter data")))
    wire[5] ^= 0x01
    with pytest.raises(DecodeError, match="CRC"):
        decode_exact(bytes(wire))


@pytest.mark.parametrize(
    ("wire", "path"),
    [
        ("", "ichi"),
        ("11", "ichi"),
        ("7e 11 00", "ichi"),
        ("7e 11 7e", "ichi"),
        ("7e 11 00 7d 41 00 00 7e", "ichi"),
        ("7e 16 00 00 00 7e", "ichi.crc"),
        ("7e 11 00 7d 7e", "ichi"),
    ],
)
def test_malformed_frames_name_the_problem(wire: str, path: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_exact(bytes.fromhex(wire))
    assert caught.value.path == path


def _with_crc(body: bytes) -> bytes:
    return b"\x7e" + stuff(body + crc16(body).to_bytes(2, "big")) + b"\x7e"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (bytes.fromhex("2100aa"), "ichi.version"),
        (bytes.fromhex("1900"), "ichi.type"),
        (bytes.fromhex("1300aa"), "ichi.payload"),  # ACK with a payload
        (bytes.fromhex("1100"), "ichi.payload"),  # empty DATA
        (bytes.fromhex("120009"), "ichi.payload.event.code"),
        (bytes.fromhex("12000100"), "ichi.payload.event"),
        (b"\x11\x00" + bytes(MAX_PAYLOAD + 1), "ichi.payload"),
        (bytes.fromhex("1400aabbcc"), "ichi.payload"),  # RESET with a 3-byte session id
    ],
)
def test_frames_with_a_good_crc_but_bad_content(body: bytes, path: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_exact(_with_crc(body))
    assert caught.value.path == path


def test_trailing_bytes_are_rejected_by_decode_exact() -> None:
    wire = encode(IchiFrame(IchiFrameType.ACK, 1))
    with pytest.raises(DecodeError, match="end of input"):
        decode_exact(wire + b"\x00")


def test_encoding_refuses_what_the_protocol_does_not_allow() -> None:
    with pytest.raises(LocalProtocolError):
        encode(IchiFrame(IchiFrameType.DATA, 256, b"x"))
    with pytest.raises(LocalProtocolError):
        encode(IchiFrame(IchiFrameType.DATA, 0, bytes(MAX_PAYLOAD + 1)))
    with pytest.raises(LocalProtocolError):
        encode(IchiFrame(IchiFrameType.EVENT, 0, b"\x09"))
    with pytest.raises(LocalProtocolError):
        encode(IchiFrame(IchiFrameType.ACK, 0, b"\x01"))
    with pytest.raises(LocalProtocolError):
        encode(IchiFrame(IchiFrameType.RESET, 0))
    with pytest.raises(LocalProtocolError):
        encode_event(LineCode.TAMPER, 2**32)


def test_event_payloads() -> None:
    assert decode_event(encode_event(LineCode.TAMPER)) == (LineCode.TAMPER, None)
    assert decode_event(encode_event(LineCode.SEAL, 7)) == (LineCode.SEAL, 7)


@given(st.lists(frames, max_size=8), st.data())
def test_the_framer_recovers_every_frame_however_the_bytes_are_split(
    items: list[IchiFrame], data: st.DataObject
) -> None:
    stream = b"".join(encode(f) for f in items)
    framer = IchiFramer()
    got: list[IchiFrame] = []
    pos = 0
    while pos < len(stream):
        step = data.draw(st.integers(1, 64))
        framer.feed(stream[pos : pos + step])
        got.extend(framer)
        pos += step
    assert got == items
    assert framer.dropped == 0


@given(st.lists(frames, min_size=1, max_size=6),
       st.lists(st.binary(max_size=40).filter(lambda b: 0x7E not in b), min_size=7, max_size=7))
def test_garbage_between_frames_is_dropped_and_counted(
    items: list[IchiFrame], garbage: list[bytes]
) -> None:
    stream = garbage[0] + b"".join(encode(f) + g for f, g in zip(items, garbage[1:], strict=False))
    stream += b"\x7e"  # garbage after the last frame counts once a flag ends it
    framer = IchiFramer()
    framer.feed(stream)
    assert list(framer) == items
    assert framer.dropped == sum(len(g) for g in garbage[: len(items) + 1])


@given(st.binary(max_size=5000))
def test_random_bytes_never_break_the_framer(data: bytes) -> None:
    framer = IchiFramer()
    framer.feed(data)
    list(framer)
    good = IchiFrame(IchiFrameType.DATA, 9, b"after the noise")
    framer.feed(encode(good))
    assert good in list(framer)
    assert framer.pending() <= MAX_WIRE_LENGTH


def test_a_flood_without_flags_is_bounded() -> None:
    framer = IchiFramer()
    framer.feed(b"\x7e" + b"\x00" * 100_000)
    assert framer.pending() <= MAX_WIRE_LENGTH
    assert framer.dropped >= 100_000 - MAX_WIRE_LENGTH
    framer.feed(b"\x00" * 10 + encode(IchiFrame(IchiFrameType.ACK, 1)))
    assert list(framer) == [IchiFrame(IchiFrameType.ACK, 1)]
