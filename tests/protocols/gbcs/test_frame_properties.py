"""Properties of the framing codec: round trips, and only DecodeError on bad bytes."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GbcsMessage, GeneralSigningMessage
from tests.strategies.gbcs import gbcs_messages, general_signing, mac_protected

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(gbcs_messages)
def test_decode_of_encode_is_identity(message: GbcsMessage) -> None:
    data = frame.encode(message)
    assert frame.decode_exact(data) == message


@FAST
@given(gbcs_messages, st.binary(max_size=30))
def test_decode_returns_what_follows(message: GbcsMessage, tail: bytes) -> None:
    # A bare pre-command cannot tell a following 00 or 40 byte from a signature element.
    if (
        isinstance(message, GeneralSigningMessage)
        and message.signature is None
        and tail[:1]
        in (
            b"\x00",
            b"\x40",
        )
    ):
        tail = b"\xdd" + tail
    decoded, rest = frame.decode(frame.encode(message) + tail)
    assert decoded == message
    assert rest == tail


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    try:
        message = frame.decode_exact(data)
    except DecodeError:
        return
    assert frame.decode_exact(frame.encode(message)) == message


@FAST
@given(st.sampled_from([b"\xdd\x00", b"\xdd\x09", b"\xdf\x09"]), st.binary(max_size=120))
def test_plausible_prefixes_raise_only_decode_error(prefix: bytes, body: bytes) -> None:
    try:
        frame.decode(prefix + body)
    except DecodeError as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(prefix + body)


@FAST
@given(mac_protected | general_signing, st.data())
def test_mutated_messages_raise_only_decode_error(
    message: GbcsMessage, data: st.DataObject
) -> None:
    raw = bytearray(frame.encode(message))
    for _ in range(data.draw(st.integers(1, 4))):
        choice = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        index = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if choice == "flip" and raw:
            raw[index] ^= data.draw(st.integers(1, 255))
        elif choice == "cut":
            del raw[index:]
        else:
            raw[index:index] = data.draw(st.binary(min_size=1, max_size=4))
    with contextlib.suppress(DecodeError):
        frame.decode(bytes(raw))
