"""BER-style definite lengths shared by A-XDR, DLMS APDUs and GBCS framing (GBCS ref. §2).

Protocol layer (sans-IO). ``0x00..0x7F`` is the length; ``0x80 | k`` is followed by ``k``
big-endian length bytes. Only the shortest form is accepted: A-XDR is canonical and GBCS
encoders must use it, and two encodings of one length would make signed bytes ambiguous.
"""

from __future__ import annotations

from typing import Final

from smemu.errors import DecodeError, LocalProtocolError

__all__ = [
    "MAX_LENGTH",
    "decode_length",
    "encode_length",
    "length_size",
    "read_length",
]

#: Largest length accepted or produced: four length bytes (``0x84``), far beyond any GBCS use.
MAX_LENGTH: Final = 0xFFFF_FFFF

# Lengths below 256 are encoded millions of times per benchmark run: precompute them.
_SMALL: Final = tuple(bytes((n,)) if n < 0x80 else bytes((0x81, n)) for n in range(256))


def read_length(
    data: bytes | bytearray | memoryview, pos: int = 0, *, path: str = "length"
) -> tuple[int, int]:
    """Read one length at ``data[pos]``; the allocation-free primitive behind :func:`decode_length`.

    :param data: the buffer holding the length.
    :param pos: where the length's first byte is.
    :param path: field path reported in a :class:`~smemu.errors.DecodeError`.
    :returns: ``(length, position after the length bytes)``.
    :raises DecodeError: truncated input, the indefinite form ``0x80``, more than four length
        bytes, or a form longer than the shortest one. Offsets are relative to ``data``.
    """
    try:
        first = data[pos]
    except IndexError:
        raise DecodeError(
            "expected a length byte, got end of data", path=path, offset=pos
        ) from None
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 4:
        raise DecodeError(
            f"expected a definite length of 1..4 length bytes, got 0x{first:02X}",
            path=path,
            offset=pos,
        )
    end = pos + 1 + count
    if end > len(data):
        raise DecodeError(
            f"expected {count} length bytes, got {len(data) - pos - 1}", path=path, offset=pos
        )
    value = int.from_bytes(data[pos + 1 : end], "big")
    if value < 0x80 or value >> (8 * (count - 1)) == 0:
        raise DecodeError(
            f"expected the shortest length form, got {count} length bytes for {value}",
            path=path,
            offset=pos,
        )
    return value, end


def decode_length(data: bytes) -> tuple[int, bytes]:
    """Decode a length at the start of ``data``.

    :param data: bytes starting with a length.
    :returns: ``(length, rest)`` where ``rest`` is everything after the length bytes.
    :raises DecodeError: as :func:`read_length`.
    """
    value, end = read_length(data, 0)
    return value, bytes(data[end:])


def length_size(value: int) -> int:
    """Number of bytes the shortest form of ``value`` takes.

    :param value: a length in ``0 .. MAX_LENGTH``.
    :raises LocalProtocolError: the value is negative or above :data:`MAX_LENGTH`.
    """
    if value < 0x80 and value >= 0:
        return 1
    if value < 0 or value > MAX_LENGTH:
        raise LocalProtocolError(f"length {value} is outside 0..{MAX_LENGTH}")
    return 1 + (value.bit_length() + 7) // 8


def encode_length(value: int) -> bytes:
    """Encode ``value`` in the shortest form (``<128`` one byte, else ``0x80|k`` + k bytes).

    :param value: a length in ``0 .. MAX_LENGTH``.
    :raises LocalProtocolError: the value is negative or above :data:`MAX_LENGTH`.
    """
    if 0 <= value < 256:
        return _SMALL[value]
    count = length_size(value) - 1
    return bytes((0x80 | count,)) + value.to_bytes(count, "big")
