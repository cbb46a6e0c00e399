"""The pcap writer: exact bytes of the format, round trips, the streaming writer, bad input."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.hil.capture import (
    EPOCH,
    CapturedPacket,
    PcapWriter,
    decode_pcap,
    encode_pcap,
    exported_pdu_tags,
    file_header,
    packet_record,
    split_messages,
    write_pcap,
)
from smemu.hil.demo import demo_keystore, demo_messages

# the pcap global header written out from the libpcap format description: magic A1B2C3D4,
# version 2.4, zone 0, sigfigs 0, snaplen 262144 and link type 252, all little-endian
GOLDEN_HEADER = bytes.fromhex("d4c3b2a1 0200 0400 00000000 00000000 00000400 fc000000")
# tag 12 (dissector name), length 12, "gbcs_message" (12 bytes: no padding), tag 0 length 0
GOLDEN_TAGS = bytes.fromhex("000c 000c") + b"gbcs_message" + bytes.fromhex("0000 0000")

instants = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def test_file_header_golden() -> None:
    assert file_header() == GOLDEN_HEADER


def test_tags_golden_and_padding() -> None:
    assert exported_pdu_tags() == GOLDEN_TAGS
    # a name that is not a multiple of 4 is NUL-padded, the padding counted in the length
    assert exported_pdu_tags("sip") == bytes.fromhex("000c 0004") + b"sip\x00" + bytes(4)
    assert exported_pdu_tags("gbcs_gbz") == bytes.fromhex("000c 0008") + b"gbcs_gbz" + bytes(4)


@pytest.mark.parametrize("name", ["", "gbcs\u00e9"])
def test_tags_reject_bad_names(name: str) -> None:
    with pytest.raises(LocalProtocolError):
        exported_pdu_tags(name)


def test_packet_record_golden() -> None:
    stamp = datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    record = packet_record(b"\xdf\x09", stamp)
    seconds = int(stamp.timestamp())
    assert record[:16] == (
        seconds.to_bytes(4, "little")
        + (250_000).to_bytes(4, "little")
        + (len(GOLDEN_TAGS) + 2).to_bytes(4, "little") * 2
    )
    assert record[16:] == GOLDEN_TAGS + b"\xdf\x09"


def test_timestamps_in_other_zones_are_converted() -> None:
    plus_one = timezone(timedelta(hours=1))
    a = packet_record(b"x", datetime(2024, 1, 1, 1, 0, tzinfo=plus_one))
    b = packet_record(b"x", datetime(2024, 1, 1, 0, 0, tzinfo=UTC))
    assert a == b


@pytest.mark.parametrize(
    "stamp",
    [datetime(2024, 1, 1), datetime(1969, 12, 31, tzinfo=UTC), datetime(2107, 1, 1, tzinfo=UTC)],
)
def test_bad_timestamps_raise(stamp: datetime) -> None:
    with pytest.raises(LocalProtocolError):
        packet_record(b"x", stamp)


def test_oversized_packet_raises() -> None:
    with pytest.raises(LocalProtocolError, match="at most"):
        packet_record(bytes(262144), EPOCH)


@given(st.lists(st.binary(max_size=300), max_size=8), instants)
def test_round_trip(messages: list[bytes], start: datetime) -> None:
    data = encode_pcap(messages, start=start)
    step = timedelta(microseconds=1)
    assert decode_pcap(data) == [
        CapturedPacket(start + i * step, "gbcs_message", m) for i, m in enumerate(messages)
    ]


@given(st.binary(max_size=200), st.booleans())
def test_random_bytes_raise_only_decode_error(data: bytes, after_header: bool) -> None:
    # behind a valid file header the random bytes reach the record and TLV parsing
    with contextlib.suppress(DecodeError):
        decode_pcap(file_header() + data if after_header else data)


@given(st.binary(min_size=1, max_size=60))
def test_truncated_capture_raises_decode_error(extra: bytes) -> None:
    data = encode_pcap([b"\xdf\x09" + extra])
    for cut in (1, 5, len(extra) + 1):
        with pytest.raises(DecodeError):
            decode_pcap(data[:-cut])


def test_decode_rejects_other_link_types() -> None:
    data = bytearray(encode_pcap([b"ab"]))
    data[20] = 1  # Ethernet
    with pytest.raises(DecodeError, match="link type") as info:
        decode_pcap(bytes(data))
    assert info.value.offset == 20


def test_writer_streams_and_matches_encode(tmp_path: Path) -> None:
    messages = [m.data for m in demo_messages(demo_keystore())]
    start = datetime(2024, 5, 1, tzinfo=UTC)
    path = tmp_path / "demo.pcap"
    with PcapWriter.open(path, start=start) as capture:
        capture.write(messages[0])
        # a live file: each packet is on disk as soon as it is written
        assert path.read_bytes() == encode_pcap(messages[:1], start=start)
        for message in messages[1:]:
            capture.write(message)
        assert capture.count == len(messages)
    assert path.read_bytes() == encode_pcap(messages, start=start)
    with pytest.raises(LocalProtocolError, match="closed"):
        capture.write(b"late")
    capture.close()  # idempotent


def test_writer_explicit_timestamps_set_the_pace() -> None:
    stream = io.BytesIO()
    t0 = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    writer = PcapWriter(stream, step=timedelta(seconds=2))
    writer.write(b"a")
    writer.write(b"b", t0)
    writer.write(b"c")  # one step after the last explicit stamp
    writer.close()
    assert not stream.closed  # a stream it was handed stays open
    stamps = [p.timestamp for p in decode_pcap(stream.getvalue())]
    assert stamps == [EPOCH, t0, t0 + timedelta(seconds=2)]


def test_writer_rejects_naive_start() -> None:
    with pytest.raises(LocalProtocolError, match="time zone"):
        PcapWriter(io.BytesIO(), start=datetime(2024, 1, 1))


def test_write_pcap_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    assert write_pcap(a, [b"\xdf\x09\x01", b"\xdd\x00"]) == 2
    write_pcap(b, [b"\xdf\x09\x01", b"\xdd\x00"])
    assert a.read_bytes() == b.read_bytes()


def test_split_messages_cuts_back_to_back_messages() -> None:
    messages = [m.data for m in demo_messages(demo_keystore())]
    assert split_messages(b"".join(messages)) == messages


def test_split_messages_names_the_bad_message_and_offset() -> None:
    first = demo_messages(demo_keystore())[0].data
    with pytest.raises(DecodeError) as info:
        split_messages(first + b"\xdf\x09\x07")
    assert info.value.path.startswith("message[1]")
    assert info.value.offset is not None and info.value.offset >= len(first)
