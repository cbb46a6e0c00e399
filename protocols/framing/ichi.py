"""ICHI rig frames: the link between a comms hub interface test rig and a device (sans-IO).

Layer: protocols (no I/O). Implements the frame layer of docs/ichi-rig.md: flag-delimited,
byte-stuffed frames carrying a version/type byte, a sequence number, a payload and a CRC-16
(CCITT-FALSE, through crcmod). :func:`encode` / :func:`decode` / :func:`decode_exact` handle one
frame; :class:`IchiFramer` splits a byte stream into frames, resynchronising on flags and
counting the bytes it had to drop. Acknowledgement and retransmission live in ``smemu.hal.ichi``.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import crcmod.predefined  # type: ignore[import-untyped]

from smemu.errors import DecodeError, LocalProtocolError

__all__ = [
    "ESCAPE",
    "FLAG",
    "MAX_PAYLOAD",
    "MAX_WIRE_LENGTH",
    "SESSION_ID_LENGTH",
    "VERSION",
    "IchiFrame",
    "IchiFrameType",
    "IchiFramer",
    "LineCode",
    "crc16",
    "decode",
    "decode_event",
    "decode_exact",
    "encode",
    "encode_event",
    "stuff",
    "unstuff",
]

FLAG: Final = 0x7E  #: opens and closes every frame
ESCAPE: Final = 0x7D  #: precedes a stuffed byte, which is sent XOR 0x20
_XOR: Final = 0x20
VERSION: Final = 1  #: protocol version in the high nibble of the first frame byte
MAX_PAYLOAD: Final = 512  #: most payload bytes in one frame
_OVERHEAD: Final = 4  #: type byte, sequence byte, two CRC bytes
#: the longest a valid frame can be on the wire (every byte stuffed, plus both flags)
MAX_WIRE_LENGTH: Final = 2 * (MAX_PAYLOAD + _OVERHEAD) + 2

_FLAG_BYTE: Final = bytes((FLAG,))
_ESCAPED_FLAG: Final = bytes((ESCAPE, FLAG ^ _XOR))
_ESCAPED_ESCAPE: Final = bytes((ESCAPE, ESCAPE ^ _XOR))
_ESCAPE_BYTE: Final = bytes((ESCAPE,))

#: CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, no final XOR ("123456789" ->
#: 0x29B1).
crc16 = crcmod.predefined.mkPredefinedCrcFun("crc-ccitt-false")


class IchiFrameType(enum.IntEnum):
    """The frame type: low nibble of the first byte (docs/ichi-rig.md section 3)."""

    DATA = 0x1  #: bytes of the device's serial data channel (sequenced, acknowledged)
    EVENT = 0x2  #: a line change, rig to device (sequenced, acknowledged)
    ACK = 0x3  #: acknowledges the DATA or EVENT frame whose sequence number it carries
    RESET = 0x4  #: the sender restarts its sequence numbers; the peer forgets duplicates
    RESET_ACK = 0x5  #: acknowledges a RESET, echoing its sequence number


class LineCode(enum.IntEnum):
    """Line-event codes, the first byte of an EVENT payload (docs/ichi-rig.md section 5)."""

    POWER_ON = 0x01
    POWER_OFF = 0x02
    TAMPER = 0x03
    SEAL = 0x04
    HOT_SHOE_PRESENT = 0x05
    HOT_SHOE_ABSENT = 0x06


_TYPE_BY_NIBBLE: Final = {int(t): t for t in IchiFrameType}
_CODE_BY_BYTE: Final = {int(c): c for c in LineCode}
_RESET_TYPES: Final = frozenset((IchiFrameType.RESET, IchiFrameType.RESET_ACK))
#: bytes of the session identifier a RESET carries (and its RESET_ACK echoes)
SESSION_ID_LENGTH: Final = 4


@dataclass(frozen=True, slots=True)
class IchiFrame:
    """One ICHI frame. On the wire (before stuffing, between the flags)::

        offset  size  field
        0       1     version (high nibble, 1) | frame type (low nibble)
        1       1     sequence number 0..255
        2       n     payload (DATA 1..512 bytes; EVENT 1 or 5; RESET / RESET_ACK 4,
                      the sender's session identifier; ACK empty)
        2+n     2     CRC-16/CCITT-FALSE of bytes 0..2+n-1, big-endian
    """

    kind: IchiFrameType  #: frame type
    seq: int  #: sequence number (ACK / RESET_ACK: the number acknowledged)
    payload: bytes = b""  #: DATA bytes or an EVENT body

    def encode(self) -> bytes:
        """The frame on the wire, flags included."""
        return encode(self)


def stuff(data: bytes) -> bytes:
    """Escape FLAG and ESCAPE bytes (ESCAPE first, so that no escape is escaped twice)."""
    return data.replace(_ESCAPE_BYTE, _ESCAPED_ESCAPE).replace(_FLAG_BYTE, _ESCAPED_FLAG)


def unstuff(data: bytes, *, base: int = 0) -> bytes:
    """Undo :func:`stuff`.

    :raises DecodeError: on a FLAG inside the data or an ESCAPE not followed by 0x5D / 0x5E.
    """
    if FLAG in data:
        raise DecodeError(
            "unexpected flag 0x7E inside a frame", path="ichi", offset=base + data.index(FLAG)
        )
    if ESCAPE not in data:
        return data
    # Every ESCAPE must be followed by 0x5D or 0x5E: check by removing the valid pairs.
    leftover = data.replace(_ESCAPED_ESCAPE, b"").replace(_ESCAPED_FLAG, b"")
    if ESCAPE in leftover:
        raise DecodeError(
            "escape 0x7D not followed by 0x5D or 0x5E", path="ichi", offset=base + _bad_escape(data)
        )
    return data.replace(_ESCAPED_FLAG, _FLAG_BYTE).replace(_ESCAPED_ESCAPE, _ESCAPE_BYTE)


def _bad_escape(data: bytes) -> int:
    pos = data.find(_ESCAPE_BYTE)
    while pos != -1 and pos + 1 < len(data) and data[pos + 1] in (0x5D, 0x5E):
        pos = data.find(_ESCAPE_BYTE, pos + 2)
    return max(pos, 0)


def _check(frame: IchiFrame) -> None:
    if not 0 <= frame.seq <= 0xFF:
        raise LocalProtocolError(f"ICHI sequence number must be 0..255, got {frame.seq}")
    n = len(frame.payload)
    if frame.kind is IchiFrameType.DATA and not 1 <= n <= MAX_PAYLOAD:
        raise LocalProtocolError(f"ICHI DATA payload must be 1..{MAX_PAYLOAD} bytes, got {n}")
    if frame.kind is IchiFrameType.EVENT:
        decode_event(frame.payload)  # raises DecodeError on a malformed body
    if frame.kind is IchiFrameType.ACK and n:
        raise LocalProtocolError(f"ICHI ACK frames carry no payload, got {n} bytes")
    if frame.kind in _RESET_TYPES and n != SESSION_ID_LENGTH:
        raise LocalProtocolError(
            f"ICHI {frame.kind.name} frames carry a {SESSION_ID_LENGTH}-byte session id, got {n}"
        )


def encode(frame: IchiFrame) -> bytes:
    """Encode ``frame`` with both flags.

    :raises LocalProtocolError: for a sequence number or payload the protocol does not allow.
    """
    try:
        _check(frame)
    except DecodeError as exc:
        raise LocalProtocolError(f"ICHI EVENT payload: {exc}") from exc
    body = bytes(((VERSION << 4) | frame.kind, frame.seq)) + frame.payload
    body += crc16(body).to_bytes(2, "big")
    return _FLAG_BYTE + stuff(body) + _FLAG_BYTE


def _decode_body(body: bytes, base: int) -> IchiFrame:
    """Decode the unstuffed bytes between two flags (``base``: offset for errors)."""
    if len(body) < _OVERHEAD:
        raise DecodeError(
            f"expected at least {_OVERHEAD} bytes between flags, got {len(body)}",
            path="ichi",
            offset=base,
        )
    expected = crc16(body[:-2])
    got = int.from_bytes(body[-2:], "big")
    if expected != got:
        raise DecodeError(
            f"expected CRC 0x{expected:04X}, got 0x{got:04X}", path="ichi.crc", offset=base
        )
    first = body[0]
    if first >> 4 != VERSION:
        raise DecodeError(
            f"expected version {VERSION}, got {first >> 4}", path="ichi.version", offset=base
        )
    kind = _TYPE_BY_NIBBLE.get(first & 0x0F)
    if kind is None:
        raise DecodeError(
            f"expected a frame type 1..5, got {first & 0x0F}", path="ichi.type", offset=base
        )
    frame = IchiFrame(kind, body[1], body[2:-2])
    try:
        _check(frame)
    except LocalProtocolError as exc:
        raise DecodeError(str(exc), path="ichi.payload", offset=base + 2) from None
    except DecodeError as exc:
        raise exc.within("ichi.payload", base + 2) from None
    return frame


def decode(data: bytes) -> tuple[IchiFrame, bytes]:
    """Decode the frame at the start of ``data`` (leading flags allowed); return it and the rest.

    The rest starts after the frame's closing flag.

    :raises DecodeError: if ``data`` does not start with a flag, has no closing flag, or the
        frame is malformed.
    """
    buf = bytes(data)
    start = 0
    while start < len(buf) and buf[start] == FLAG:
        start += 1
    if start == 0:
        got = f"0x{buf[0]:02X}" if buf else "end of input"
        raise DecodeError(f"expected the flag 0x7E, got {got}", path="ichi", offset=0)
    end = buf.find(_FLAG_BYTE, start)
    if end == -1:
        raise DecodeError(
            "expected a closing flag 0x7E, got end of input", path="ichi", offset=len(buf)
        )
    frame = _decode_body(unstuff(buf[start:end], base=start), start)
    return frame, buf[end + 1 :]


def decode_exact(data: bytes) -> IchiFrame:
    """Decode exactly one frame; reject bytes after its closing flag."""
    frame, rest = decode(data)
    if rest:
        raise DecodeError(
            f"expected end of input after the frame, got {len(rest)} more bytes",
            path="ichi",
            offset=len(data) - len(rest),
        )
    return frame


def encode_event(code: LineCode, at_ms: int | None = None) -> bytes:
    """An EVENT payload: the line code, then optionally the rig's millisecond timestamp."""
    if at_ms is None:
        return bytes((code,))
    if not 0 <= at_ms <= 0xFFFFFFFF:
        raise LocalProtocolError(f"ICHI event time must be 0..2**32-1 ms, got {at_ms}")
    return bytes((code,)) + at_ms.to_bytes(4, "big")


def decode_event(payload: bytes) -> tuple[LineCode, int | None]:
    """Decode an EVENT payload into (code, rig time in ms or None).

    :raises DecodeError: for an unknown code or a length other than 1 or 5.
    """
    if len(payload) not in (1, 5):
        raise DecodeError(
            f"expected an event of 1 or 5 bytes, got {len(payload)}", path="event", offset=0
        )
    code = _CODE_BY_BYTE.get(payload[0])
    if code is None:
        raise DecodeError(
            f"expected a line code 0x01..0x06, got 0x{payload[0]:02X}", path="event.code", offset=0
        )
    return code, (int.from_bytes(payload[1:5], "big") if len(payload) == 5 else None)


class IchiFramer:
    """Incremental ICHI framer: :meth:`feed` bytes, iterate to take the complete frames.

    Bytes outside frames, frames that fail their checks, and runs longer than any valid frame
    without a flag are discarded and counted in :attr:`dropped` (and :attr:`bad_frames`).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._frames: deque[IchiFrame] = deque()
        self.dropped = 0  #: bytes discarded while resynchronising
        self.bad_frames = 0  #: flag-delimited runs that were not valid frames
        self.last_error: DecodeError | None = None  #: why the last bad frame was rejected

    def feed(self, data: bytes) -> None:
        """Add received bytes; complete frames become available to iteration."""
        self._buf += data
        buf = self._buf
        pos = 0
        while True:
            start = buf.find(FLAG, pos)
            if start == -1:
                self._drop(len(buf) - pos)
                pos = len(buf)
                break
            if start > pos:
                self._drop(start - pos)  # garbage before a flag
            end = buf.find(FLAG, start + 1)
            if end == -1:
                if len(buf) - start > MAX_WIRE_LENGTH:  # a flood without a closing flag
                    self._drop(len(buf) - start - 1)
                    self.bad_frames += 1
                    pos = len(buf)
                else:
                    pos = start
                break
            if end > start + 1:
                content = bytes(buf[start + 1 : end])
                try:
                    self._frames.append(_decode_body(unstuff(content), 0))
                except DecodeError as exc:
                    self.last_error = exc
                    self.bad_frames += 1
                    self._drop(len(content))
            pos = end  # the closing flag may open the next frame
        del buf[:pos]

    def _drop(self, count: int) -> None:
        self.dropped += count

    def __iter__(self) -> Iterator[IchiFrame]:
        """Yield (and forget) the frames completed so far."""
        while self._frames:
            yield self._frames.popleft()

    def pending(self) -> int:
        """Bytes held while waiting for a closing flag."""
        return len(self._buf)
