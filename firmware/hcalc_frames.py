"""HCALC HAN control frames: the ESME <-> HCALC load control exchange and the consumer buttons.

Layer: firmware. GBCS leaves HECS01 ("Request Control of HCALCS [n]", message code 0x0119)
and its companions to the ZigBee Smart Energy layer ("ZSE specified"), secured by the HAN
link, not by GBCS. The emulator carries them as compact typed frames on the HCALC's ``alc``
port (ESME side) and ``ui`` port (the consumer's boost / test buttons)::

    message code(2, BE) | kind(1) | body

with the bodies below (big-endian). Message code 0x0119 (HECS01) opens every frame.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError

HECS01: Final = 0x0119
#: ``duration`` value meaning "until superseded"
NO_DURATION: Final = 0xFFFFFFFF

_HEAD: Final = struct.Struct(">HB")
_SET: Final = struct.Struct(">BBBI")  # switch, closed, override allowed, duration s
_SWITCH: Final = struct.Struct(">B")
_NOTICE: Final = struct.Struct(">BB")  # switch, active / success
_BOOST: Final = struct.Struct(">BH")  # switch, minutes


class FrameKind(enum.IntEnum):
    SET_STATE = 0x01  #: ESME -> HCALC: request ALCS [n] state change (8.5.2)
    REFRESH_REQUEST = 0x02  #: HCALC -> ESME: request ALC refresh (8.5.3.1)
    OVERRIDE_NOTICE = 0x03  #: HCALC -> ESME: override started / ended (8.9.2.1)
    STATE_RESULT = 0x04  #: HCALC -> ESME: outcome of a state change request
    BOOST = 0x05  #: consumer button: boost for N minutes
    TEST = 0x06  #: consumer / installer button: test (flip for 5 minutes)


@dataclass(frozen=True, slots=True)
class SetState:
    """Open or close switch ``switch`` (1-based), optionally for ``duration`` seconds."""

    switch: int
    closed: bool
    duration: int | None = None
    override_allowed: bool = True


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """Ask the ESME to re-send the state of every switch (after a supply restore)."""


@dataclass(frozen=True, slots=True)
class OverrideNotice:
    """An override (boost) on ``switch`` started (``active``) or ended."""

    switch: int
    active: bool


@dataclass(frozen=True, slots=True)
class StateResult:
    """The outcome of a :class:`SetState` for ``switch``."""

    switch: int
    success: bool


@dataclass(frozen=True, slots=True)
class Boost:
    """The consumer asks for ``minutes`` of boost on ``switch``."""

    switch: int
    minutes: int


@dataclass(frozen=True, slots=True)
class Test:
    """Test switch ``switch``: flip it for five minutes, then back to the calendar."""

    switch: int


AlcFrame = SetState | RefreshRequest | OverrideNotice | StateResult | Boost | Test


def encode(frame: AlcFrame) -> bytes:
    """The wire form of ``frame``.

    :raises struct.error: a field out of range.
    """
    if isinstance(frame, SetState):
        duration = NO_DURATION if frame.duration is None else frame.duration
        body = _SET.pack(frame.switch, frame.closed, frame.override_allowed, duration)
        kind = FrameKind.SET_STATE
    elif isinstance(frame, RefreshRequest):
        body, kind = b"", FrameKind.REFRESH_REQUEST
    elif isinstance(frame, OverrideNotice):
        body, kind = _NOTICE.pack(frame.switch, frame.active), FrameKind.OVERRIDE_NOTICE
    elif isinstance(frame, StateResult):
        body, kind = _NOTICE.pack(frame.switch, frame.success), FrameKind.STATE_RESULT
    elif isinstance(frame, Boost):
        body, kind = _BOOST.pack(frame.switch, frame.minutes), FrameKind.BOOST
    else:
        body, kind = _SWITCH.pack(frame.switch), FrameKind.TEST
    return _HEAD.pack(HECS01, kind) + body


def _body(data: bytes, layout: struct.Struct, kind: FrameKind) -> tuple[int, ...]:
    body = data[_HEAD.size :]
    if len(body) != layout.size:
        raise DecodeError(
            f"{kind.name} body is {layout.size} bytes, got {len(body)}",
            path=f"alc.{kind.name.lower()}",
            offset=_HEAD.size,
        )
    return layout.unpack(body)


def _flag(value: int, path: str, offset: int) -> bool:
    if value > 1:
        raise DecodeError(f"boolean must be 0 or 1, got {value}", path=path, offset=offset)
    return bool(value)


def decode_exact(data: bytes) -> AlcFrame:
    """Decode one whole frame.

    :raises DecodeError: short, wrong message code, unknown kind, wrong body length, a
        boolean that is neither 0 nor 1.
    """
    if len(data) < _HEAD.size:
        raise DecodeError("ALC frame shorter than its header", path="alc", offset=len(data))
    code, raw_kind = _HEAD.unpack_from(data)
    if code != HECS01:
        raise DecodeError(f"message code 0x{code:04X} is not HECS01", path="alc.code", offset=0)
    try:
        kind = FrameKind(raw_kind)
    except ValueError:
        raise DecodeError(f"unknown ALC frame kind {raw_kind}", path="alc.kind", offset=2) from None
    if kind is FrameKind.SET_STATE:
        switch, closed, allowed, duration = _body(data, _SET, kind)
        return SetState(
            switch,
            _flag(closed, "alc.set_state.closed", 4),
            None if duration == NO_DURATION else duration,
            _flag(allowed, "alc.set_state.override_allowed", 5),
        )
    if kind is FrameKind.REFRESH_REQUEST:
        _body(data, struct.Struct(""), kind)
        return RefreshRequest()
    if kind is FrameKind.OVERRIDE_NOTICE:
        switch, active = _body(data, _NOTICE, kind)
        return OverrideNotice(switch, _flag(active, "alc.override_notice.active", 4))
    if kind is FrameKind.STATE_RESULT:
        switch, ok = _body(data, _NOTICE, kind)
        return StateResult(switch, _flag(ok, "alc.state_result.success", 4))
    if kind is FrameKind.BOOST:
        switch, minutes = _body(data, _BOOST, kind)
        return Boost(switch, minutes)
    (switch,) = _body(data, _SWITCH, kind)
    return Test(switch)


__all__ = [
    "HECS01",
    "AlcFrame",
    "Boost",
    "FrameKind",
    "OverrideNotice",
    "RefreshRequest",
    "SetState",
    "StateResult",
    "Test",
    "decode_exact",
    "encode",
]
