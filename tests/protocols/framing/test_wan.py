"""WAN stream framing: whole GBCS messages out of a byte stream, resync on garbage."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.framing.wan import WanFramer, message_length
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GbcsMessage, GeneralSigningMessage
from smemu.protocols.text import parse_message_text
from tests.strategies.gbcs import gbcs_messages

#: what travels on a WAN: every message except an unsigned pre-command (no signature element)
wan_messages = gbcs_messages.filter(
    lambda m: not (isinstance(m, GeneralSigningMessage) and m.signature is None)
)
no_start_bytes = st.binary(max_size=60).map(lambda b: b.replace(b"\xdd", b"").replace(b"\xdf", b""))


def feed_in_pieces(framer: WanFramer, stream: bytes, cuts: list[int]) -> list[bytes]:
    got: list[bytes] = []
    pos = 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        if cut > pos:
            framer.feed(stream[pos:cut])
            pos = cut
            got.extend(framer)
    return got


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(st.lists(wan_messages, min_size=1, max_size=5), st.lists(st.integers(0, 10**6), max_size=8))
def test_a_stream_of_messages_comes_out_whole_however_it_is_cut(
    messages: list[GbcsMessage], cuts: list[int]
) -> None:
    encoded = [frame.encode(m) for m in messages]
    framer = WanFramer()
    assert feed_in_pieces(framer, b"".join(encoded), cuts) == encoded
    assert framer.dropped == 0 and framer.pending() == 0
    assert all(message_length(e) == len(e) for e in encoded)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(st.lists(wan_messages, min_size=1, max_size=4),
       st.lists(no_start_bytes, min_size=5, max_size=5))
def test_garbage_between_messages_is_skipped_and_counted(
    messages: list[GbcsMessage], garbage: list[bytes]
) -> None:
    encoded = [frame.encode(m) for m in messages]
    stream = garbage[0] + b"".join(e + g for e, g in zip(encoded, garbage[1:], strict=False))
    framer = WanFramer()
    framer.feed(stream)
    assert list(framer) == encoded
    assert framer.dropped == sum(len(g) for g in garbage[: len(encoded) + 1])


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(wan_messages, st.integers(1, 40))
def test_a_damaged_message_is_dropped_and_the_next_one_found(
    message: GbcsMessage, cut: int
) -> None:
    encoded = frame.encode(message)
    truncated_header = encoded[: min(cut, 20)]
    framer = WanFramer()
    framer.feed(truncated_header + b"\x00" * 40 + encoded)
    got = list(framer)
    if framer.pending():
        framer.skip_partial()
        got += list(framer)
    assert got[-1:] == [encoded]
    assert framer.dropped >= len(truncated_header)


@given(st.binary(max_size=3000))
def test_random_bytes_never_raise_and_stay_bounded(data: bytes) -> None:
    framer = WanFramer(max_length=4096)
    framer.feed(data)
    list(framer)
    assert framer.pending() <= 4096 + 70
    with contextlib.suppress(DecodeError):
        message_length(data)


def test_a_flood_is_counted_not_kept() -> None:
    framer = WanFramer(max_length=2048)
    noise = os.urandom(500_000)
    for i in range(0, len(noise), 4096):
        framer.feed(noise[i : i + 4096])
        assert list(framer) == []
    framer.skip_partial()
    while framer.pending():
        framer.skip_partial()
    assert framer.dropped == len(noise)


def test_length_rules_on_a_handmade_mac_header() -> None:
    header = bytes.fromhex("dd 00 00 00 00 00 00 11")
    assert message_length(header) == 8 + 0x11
    assert message_length(header[:5]) is None
    assert message_length(bytes.fromhex("dd 00 00 00 00 00 00 82 01")) is None
    with pytest.raises(DecodeError):
        message_length(bytes.fromhex("dd 00 00 00 00 00 00 05"))  # too short for a MAC
    with pytest.raises(DecodeError):
        message_length(bytes.fromhex("dd 00 00 01"))
    with pytest.raises(DecodeError):
        message_length(bytes.fromhex("30 00"))
    with pytest.raises(DecodeError, match="exceeds"):
        message_length(bytes.fromhex("dd 00 00 00 00 00 00 83 10 00 00"), max_length=4096)


def test_every_reference_message_is_framed_alone_and_in_a_stream(rtds_file: Path) -> None:
    (data,) = parse_message_text(rtds_file.read_text())
    if "PRECOMMAND" in rtds_file.name:
        # No signature element: the end shows only once the next message starts.
        assert message_length(data) is None
        assert message_length(data + b"\xdd") == len(data)
        return
    assert message_length(data) == len(data)
    framer = WanFramer()
    framer.feed(b"\x00junk" + data + data[:7])
    assert list(framer) == [data]
    framer.feed(data[7:])
    assert list(framer) == [data]
    assert framer.dropped == 5
