"""Test-only: cut the payload out of an RTDS message without the GBCS framing decoder.

Walks the MAC header (``DD 00``) if present, then the general-signing grouping header
(``DF 09 CRA CTR(8) 08 ORIG(8) 08 RECIP(8) DT OI CONTENT``, GBCS ref. §3.1-3.2). Plain
asserts are fine here: the input is the reference set, not peer data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class RtdsPayload:
    """What the payload codecs need from one RTDS message."""

    cra: int
    message_code: int
    originator: bytes
    recipient: bytes
    counter: int
    payload: bytes

    @property
    def family(self) -> str:
        """``dlms``, ``gbz`` or ``asn1`` by the first-byte rule of GBCS ref. §7.1."""
        if self.payload[:1] in (b"\xd9", b"\xda", b"\x0f"):
            return "dlms"
        if self.payload[:2] == b"\x01\x09":
            return "gbz"
        return "asn1"


def _length(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def rtds_payload(message: bytes) -> RtdsPayload:
    """Split one RTDS message (bytes) into CRA flag, message code, parties and payload."""
    pos = 0
    if message[:2] == b"\xdd\x00":
        _, pos = _length(message, 7)
        pos += 5  # security control + invocation counter
    assert message[pos] == 0xDF, f"no general-signing APDU at byte {pos}"
    assert message[pos + 1] == 0x09
    cra = message[pos + 2]
    counter = int.from_bytes(message[pos + 3 : pos + 11], "big")
    pos += 11
    assert message[pos] == 0x08
    originator = message[pos + 1 : pos + 9]
    pos += 9
    assert message[pos] == 0x08
    recipient = message[pos + 1 : pos + 9]
    pos += 9
    assert message[pos] in (0x00, 0x0C)
    pos += 1 + message[pos]
    size, pos = _length(message, pos)
    code = int.from_bytes(message[pos : pos + 2], "big")
    pos += size
    size, pos = _length(message, pos)
    return RtdsPayload(cra, code, originator, recipient, counter, message[pos : pos + size])


def read_rtds(path: Path) -> RtdsPayload:
    """Read one ``*.HEX`` reference file (hex text) and cut out its payload."""
    return rtds_payload(bytes.fromhex(path.read_text().strip()))
