"""WAN stream framing: split a TCP or serial byte stream into whole GBCS messages (sans-IO).

Layer: protocols (no I/O). GBCS APDUs delimit themselves through their BER lengths
(gbcs-reference.md sections 1-3 and 11): a MAC header (``DD 00`` + six empty elements + the
ciphered-content length), a GBT block (``DD 09`` + a fixed 33-byte routing header + length), or
a bare general-signing APDU (``DF 09`` grouping header, date-time, other information and payload
lengths, then the signature element ``00`` or ``40`` + 64 bytes). :class:`WanFramer` reads those
lengths as bytes arrive, checks each complete candidate with :func:`smemu.protocols.gbcs.frame.
locate`, and on anything else skips to the next byte that can start a message, counting drops.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from typing import Final

from smemu.errors import DecodeError
from smemu.protocols.gbcs.frame import locate

__all__ = ["MAX_MESSAGE_LENGTH", "WanFramer", "message_length"]

#: Default longest message accepted; longer length claims are treated as garbage.
MAX_MESSAGE_LENGTH: Final = 65536

_GENERAL_CIPHERING: Final = 0xDD
_GENERAL_SIGNING: Final = 0xDF
_START: Final = re.compile(rb"[\xdd\xdf]")
_GBT_HEADER: Final = 34  # DD 09 CRA counter(8) 08 orig(8) 08 recip(8) 00 02 code(2) 00
_GROUPING_HEADER: Final = 29  # DF 09 CRA counter(8) 08 orig(8) 08 recip(8)
_MIN_CIPHERED: Final = 17  # security header (5) + MAC (12)


class _NeedMore(Exception):  # noqa: N818 - internal control flow, never escapes
    """The bytes so far are a valid prefix; the length is not known yet."""


def _byte(buf: bytes | bytearray, pos: int) -> int:
    if pos >= len(buf):
        raise _NeedMore
    return buf[pos]


def _expect(buf: bytes | bytearray, pos: int, value: int, what: str) -> None:
    got = _byte(buf, pos)
    if got != value:
        raise DecodeError(
            f"expected 0x{value:02X} ({what}), got 0x{got:02X}", path="wan", offset=pos
        )


def _cra(buf: bytes | bytearray, pos: int) -> None:
    got = _byte(buf, pos)
    if got not in (1, 2, 3):
        raise DecodeError(f"expected a CRA flag 1..3, got 0x{got:02X}", path="wan", offset=pos)


def _ber_length(buf: bytes | bytearray, pos: int) -> tuple[int, int]:
    first = _byte(buf, pos)
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if not 1 <= count <= 4:
        raise DecodeError(
            f"expected a definite length of 1 to 4 bytes, got 0x{first:02X}", path="wan", offset=pos
        )
    end = pos + 1 + count
    if end > len(buf):
        raise _NeedMore
    return int.from_bytes(buf[pos + 1 : end], "big"), end


def _length(buf: bytes | bytearray, b: int, max_length: int) -> int:
    """Length of the message starting at ``buf[b]`` (positions in errors are from ``b``)."""
    first = _byte(buf, b)
    if first == _GENERAL_CIPHERING:
        second = _byte(buf, b + 1)
        if second == 0x00:
            for k in range(2, 7):
                _expect(buf, b + k, 0x00, "empty MAC header element")
            length, end = _ber_length(buf, b + 7)
            if length < _MIN_CIPHERED:
                raise DecodeError(
                    f"expected at least {_MIN_CIPHERED} ciphered bytes, got {length}",
                    path="wan",
                    offset=b + 7,
                )
            total = end - b + length
        elif second == 0x09:
            _cra(buf, b + 2)
            _expect(buf, b + 11, 8, "originator system title length")
            _expect(buf, b + 20, 8, "recipient system title length")
            _expect(buf, b + 29, 0x00, "empty date-time")
            _expect(buf, b + 30, 0x02, "other information length 2")
            _expect(buf, b + 33, 0x00, "absent key-info")
            length, end = _ber_length(buf, b + _GBT_HEADER)
            total = end - b + length
        else:
            raise DecodeError(
                f"expected 0x00 or 0x09 after 0xDD, got 0x{second:02X}", path="wan", offset=b + 1
            )
    elif first == _GENERAL_SIGNING:
        _expect(buf, b + 1, 0x09, "transaction id length 9")
        _cra(buf, b + 2)
        _expect(buf, b + 11, 8, "originator system title length")
        _expect(buf, b + 20, 8, "recipient system title length")
        dt_len = _byte(buf, b + _GROUPING_HEADER)
        if dt_len not in (0, 12):
            raise DecodeError(
                f"expected a date-time length of 0 or 12, got {dt_len}", path="wan", offset=b + 29
            )
        oi_len, pos = _ber_length(buf, b + _GROUPING_HEADER + 1 + dt_len)
        payload_len, pos = _ber_length(buf, pos + oi_len)
        total = pos - b + payload_len
        if total > max_length:
            raise DecodeError(f"message of {total} bytes exceeds {max_length}", path="wan")
        signature = _byte(buf, b + total)  # a pre-command (no signature element) is not sent
        if signature == 0x00:
            total += 1
        elif signature == 0x40:
            total += 65
    else:
        raise DecodeError(
            f"expected 0xDD or 0xDF to start a GBCS message, got 0x{first:02X}",
            path="wan",
            offset=b,
        )
    if total > max_length:
        raise DecodeError(f"message of {total} bytes exceeds {max_length}", path="wan")
    return total


def message_length(data: bytes, *, max_length: int = MAX_MESSAGE_LENGTH) -> int | None:
    """The length of the GBCS message starting ``data``, or None if more bytes are needed.

    :raises DecodeError: if ``data`` cannot start a GBCS message.
    """
    try:
        return _length(data, 0, max_length)
    except _NeedMore:
        return None


class WanFramer:
    """Incremental WAN framer: :meth:`feed` bytes, iterate to take whole messages (as bytes).

    With ``validate`` (the default) each candidate is also decoded with ``frame.locate``;
    one that fails is treated as garbage. Bytes skipped while resynchronising are counted in
    :attr:`dropped`, rejected candidates in :attr:`bad_messages`.
    """

    def __init__(self, *, max_length: int = MAX_MESSAGE_LENGTH, validate: bool = True) -> None:
        self.max_length = max_length
        self.validate = validate
        self._buf = bytearray()
        self._messages: deque[bytes] = deque()
        self.dropped = 0  #: bytes discarded while resynchronising
        self.bad_messages = 0  #: candidates that turned out not to be messages
        self.last_error: DecodeError | None = None  #: why the last candidate was rejected

    def feed(self, data: bytes) -> None:
        """Add received bytes; whole messages become available to iteration."""
        self._buf += data
        self._scan()

    def _scan(self) -> None:
        buf = self._buf
        pos = 0
        while pos < len(buf):
            found = _START.search(buf, pos)
            if found is None:
                self.dropped += len(buf) - pos
                pos = len(buf)
                break
            if found.start() > pos:
                self.dropped += found.start() - pos
                pos = found.start()
            try:
                total = _length(buf, pos, self.max_length)
                if pos + total > len(buf):
                    raise _NeedMore
                candidate = bytes(buf[pos : pos + total])
                if self.validate:
                    located = locate(candidate)
                    if located.rest:
                        raise DecodeError("message shorter than its lengths say", path="wan")
            except _NeedMore:
                break
            except DecodeError as exc:
                self.last_error = exc
                self.bad_messages += 1
                self.dropped += 1
                pos += 1
                continue
            self._messages.append(candidate)
            pos += total
        del buf[:pos]

    def skip_partial(self) -> None:
        """Abandon the incomplete message held (e.g. after the line went idle) and rescan."""
        if self._buf:
            self.dropped += 1
            self.bad_messages += 1
            del self._buf[:1]
            self._scan()

    def pending(self) -> int:
        """Bytes held while waiting for the rest of a message."""
        return len(self._buf)

    def __iter__(self) -> Iterator[bytes]:
        """Yield (and forget) the messages completed so far."""
        while self._messages:
            yield self._messages.popleft()
