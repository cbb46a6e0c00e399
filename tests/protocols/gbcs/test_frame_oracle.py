"""Differential test: the hand-written framing codec against a declarative construct definition.

The construct structs below are written independently from the GBCS layout tables
(gbcs-reference.md 3.1-3.3); they are slow but plain, which makes them a good oracle for
the fast path (performance.md: construct as the declarative definition and test oracle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import construct as cs
from hypothesis import given, settings

from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GbcsMessage, GbtBlockMessage, MacProtectedMessage
from smemu.protocols.text import parse_message_text
from tests.strategies.gbcs import mac_protected

_BER_LENGTH = cs.Select(
    cs.ExprValidator(cs.Byte, lambda v, _: v < 0x80),
    cs.FocusedSeq("v", cs.Const(b"\x81"), "v" / cs.Byte),
    cs.FocusedSeq("v", cs.Const(b"\x82"), "v" / cs.Int16ub),
    cs.FocusedSeq("v", cs.Const(b"\x83"), "v" / cs.Int24ub),
)
_GROUPING_HEADER = cs.Struct(
    cs.Const(b"\xdf\x09"),
    "cra" / cs.OneOf(cs.Byte, [1, 2, 3]),
    "counter" / cs.Int64ub,
    cs.Const(b"\x08"),
    "originator" / cs.Bytes(8),
    cs.Const(b"\x08"),
    "recipient" / cs.Bytes(8),
    "date_time" / cs.Prefixed(cs.Byte, cs.GreedyBytes),
    "other_information" / cs.Prefixed(_BER_LENGTH, cs.GreedyBytes),
    "payload" / cs.Prefixed(_BER_LENGTH, cs.GreedyBytes),
)
_MAC_HEADER = cs.Struct(
    cs.Const(b"\xdd\x00\x00\x00\x00\x00\x00"),
    "content"
    / cs.Prefixed(
        _BER_LENGTH,
        cs.Struct(
            "security_control" / cs.Byte,
            "invocation_counter" / cs.Int32ub,
            "apdu" / cs.Bytes(cs.this._._.length_hint - 17),
            "mac" / cs.Bytes(12),
        ),
    ),
)


def _oracle(data: bytes) -> dict[str, Any]:
    if data[:2] == b"\xdd\x00":
        length = _BER_LENGTH.parse(data[7:])
        outer = _MAC_HEADER.parse(data, length_hint=length)
        apdu = outer.content.apdu
        header = _GROUPING_HEADER.parse(apdu)
        mac = outer.content.mac
    else:
        apdu, mac = data, None
        header = _GROUPING_HEADER.parse(apdu)
    used = len(_GROUPING_HEADER.build(header))
    return {
        "cra": header.cra,
        "counter": header.counter,
        "originator": header.originator,
        "recipient": header.recipient,
        "date_time": header.date_time or None,
        "message_code": int.from_bytes(header.other_information[:2], "big"),
        "other_information": header.other_information,
        "payload": header.payload,
        "signature_element": apdu[used:],
        "mac": mac,
    }


def _ours(message: GbcsMessage) -> dict[str, Any]:
    assert not isinstance(message, GbtBlockMessage)
    inner = frame.signing_message(message)
    assert inner is not None
    h = inner.header
    sig = inner.signature
    return {
        "cra": int(h.cra),
        "counter": h.originator_counter,
        "originator": bytes(h.originator),
        "recipient": bytes(h.recipient),
        "date_time": h.date_time,
        "message_code": h.message_code,
        "other_information": h.other_information.encode(),
        "payload": inner.payload,
        "signature_element": b"" if sig is None else b"\x00" if not sig else b"\x40" + sig,
        "mac": message.mac if isinstance(message, MacProtectedMessage) else None,
    }


def test_reference_message_agrees_with_the_oracle(rtds_file: Path) -> None:
    (data,) = parse_message_text(rtds_file.read_text())
    assert _ours(frame.decode_exact(data)) == _oracle(data)


@settings(max_examples=100, deadline=None)
@given(mac_protected)
def test_generated_message_agrees_with_the_oracle(message: MacProtectedMessage) -> None:
    assert _ours(message) == _oracle(frame.encode(message))
