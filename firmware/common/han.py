"""The HAN envelope: GBCS tunnel commands as carried between comms hub and HAN devices.

Layer: firmware. gbcs-reference.md 12: in the ZigBee SE Tunneling cluster's Transfer Data
command the tunnelled data opens with a one-byte GBCS tunnel command -- ``01`` GET (a
sleepy device polls for queued messages), ``02`` GET-RESPONSE (count of messages still
queued, then an optional GBCS message), ``03`` PUT (a GBCS message). This module carries
exactly that tunnel payload, without the ZCL/APS layers around it.

TODO(h2): when ``smemu.protocols.zigbee.tunnel`` lands, the premises' HAN medium carries
its Transfer Data frames and this module becomes a thin adapter over it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from smemu.errors import DecodeError, LocalProtocolError


class TunnelCommand(enum.IntEnum):
    GET = 0x01
    GET_RESPONSE = 0x02
    PUT = 0x03


@dataclass(frozen=True, slots=True)
class HanFrame:
    """One tunnel payload: ``01`` | ``02 remaining [message]`` | ``03 message``."""

    command: TunnelCommand
    message: bytes = b""
    remaining: int = 0  #: GET-RESPONSE only: messages still queued after this one

    def encode(self) -> bytes:
        if self.command is TunnelCommand.GET:
            return b"\x01"
        if self.command is TunnelCommand.GET_RESPONSE:
            if not 0 <= self.remaining <= 0xFF:
                raise LocalProtocolError(f"remaining must be 0..255, got {self.remaining}")
            return bytes((0x02, self.remaining)) + self.message
        if not self.message:
            raise LocalProtocolError("a PUT carries a GBCS message")
        return b"\x03" + self.message


def decode_han(data: bytes) -> HanFrame:
    """Decode a whole tunnel payload.

    :raises DecodeError: empty, unknown command byte, or a malformed GET / PUT.
    """
    if not data:
        raise DecodeError("expected a tunnel command, got no bytes", path="tunnel", offset=0)
    first = data[0]
    if first == TunnelCommand.GET:
        if len(data) != 1:
            raise DecodeError(
                f"a GET is one byte, got {len(data)}", path="tunnel.get", offset=1
            )
        return HanFrame(TunnelCommand.GET)
    if first == TunnelCommand.GET_RESPONSE:
        if len(data) < 2:
            raise DecodeError(
                "expected the remaining-messages count", path="tunnel.remaining", offset=1
            )
        return HanFrame(TunnelCommand.GET_RESPONSE, data[2:], data[1])
    if first == TunnelCommand.PUT:
        if len(data) < 2:
            raise DecodeError("a PUT carries a GBCS message", path="tunnel.put", offset=1)
        return HanFrame(TunnelCommand.PUT, data[1:])
    raise DecodeError(
        f"expected tunnel command 0x01, 0x02 or 0x03, got 0x{first:02X}",
        path="tunnel.command",
        offset=0,
    )
