"""Private byte-reading helpers for the GBCS framing codec: BER lengths and bounded reads.

Layer: protocols (sans-IO). GBCS element lengths use the BER definite form (gbcs-reference.md
section 2): one byte below 0x80, else 0x80|k followed by k big-endian length bytes.
"""

from __future__ import annotations

from smemu.errors import DecodeError
from smemu.protocols.dlms.length import encode_length

__all__ = ["decode_length", "encode_length", "expect_byte", "take"]

_MAX_LENGTH_BYTES = 4


def decode_length(buf: bytes, pos: int, path: str) -> tuple[int, int]:
    """Read a BER length at ``pos``; return (length, position after it).

    Raises :class:`DecodeError` naming ``path`` on a truncated or indefinite length. Unlike
    the strict A-XDR reader (:mod:`smemu.protocols.dlms.length`), lengths that are not in
    shortest form are accepted here: the outer frame is still identified and verified over
    the bytes received, and the inspection reports "re-encode: differs", which tells a test
    lab more than a bare rejection would. Encoding always uses the shortest form.
    """
    if pos >= len(buf):
        raise DecodeError("expected a length byte, got end of input", path=path, offset=pos)
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > _MAX_LENGTH_BYTES:
        raise DecodeError(
            f"expected a definite length of 1 to {_MAX_LENGTH_BYTES} bytes, got 0x{first:02X}",
            path=path,
            offset=pos,
        )
    end = pos + 1 + count
    if end > len(buf):
        raise DecodeError(
            f"expected {count} length bytes, got {len(buf) - pos - 1}", path=path, offset=pos
        )
    return int.from_bytes(buf[pos + 1 : end], "big"), end


def take(buf: bytes, pos: int, n: int, path: str) -> bytes:
    """Return ``buf[pos:pos+n]``, raising :class:`DecodeError` if fewer than ``n`` bytes remain."""
    end = pos + n
    if end > len(buf):
        raise DecodeError(
            f"expected {n} bytes, got {len(buf) - pos} before the end of input",
            path=path,
            offset=pos,
        )
    return buf[pos:end]


def expect_byte(buf: bytes, pos: int, value: int, path: str, meaning: str) -> int:
    """Check that ``buf[pos] == value`` (``meaning`` says what it is); return ``pos + 1``."""
    if pos >= len(buf):
        raise DecodeError(
            f"expected 0x{value:02X} ({meaning}), got end of input", path=path, offset=pos
        )
    got = buf[pos]
    if got != value:
        raise DecodeError(
            f"expected 0x{value:02X} ({meaning}), got 0x{got:02X}", path=path, offset=pos
        )
    return pos + 1
