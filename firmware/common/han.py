"""The HAN envelope: GBCS tunnel commands inside ZigBee SE Tunneling cluster frames.

Layer: firmware. gbcs-reference.md 12: on the HAN a GBCS message travels in the ZigBee SE
Tunneling cluster (0x0704) Transfer Data command, and the tunnelled octets open with a
one-byte GBCS tunnel command -- ``01`` GET (a sleepy device polls for queued messages),
``02`` GET-RESPONSE (count of messages still queued, then an optional GBCS message), ``03``
PUT (a GBCS message).

Two levels live here, both thin adapters over :mod:`smemu.protocols.zigbee.tunnel`:

* the *tunnel payload* (:class:`HanFrame`, :func:`decode_han`) -- what machines exchange
  on their ``han`` / ``gpf`` / ``chf`` ports;
* the *link frame* -- the whole ZCL frame the HAN medium carries: Request Tunnel (protocol
  6, GB-HRGP, manufacturer 0xFFFF, no flow control) when a device joins, the comms hub's
  Request Tunnel Response granting a tunnel id, then Transfer Data in either direction
  (client -> server from a HAN device, server -> client from the comms hub). Transfer Data
  is sent with *disable default response* set: without flow control the Tunneling cluster
  has no per-frame acknowledgement, and only an error is answered (Transfer Data Error
  ``NO_SUCH_TUNNEL`` for an unknown tunnel id).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee import tunnel
from smemu.protocols.zigbee.registry import ZclFrame, decode_frame
from smemu.protocols.zigbee.tunnel import (
    GB_HRGP_PROTOCOL_ID,
    TUNNELING_CLUSTER,
    UNUSED_MANUFACTURER_CODE,
    TransferDataStatus,
    TunnelStatus,
)

__all__ = [
    "MAX_TRANSFER_SIZE",
    "HanFrame",
    "LinkFrame",
    "TunnelCommand",
    "decode_han",
    "decode_link",
    "request_tunnel",
    "request_tunnel_response",
    "transfer_data",
    "transfer_data_error",
]

#: largest Transfer Data payload a GBCS device accepts (the CH advertises 1500, ref. 12)
MAX_TRANSFER_SIZE: Final = 1500


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
        """The tunnel payload.

        :raises LocalProtocolError: a PUT without a message, or ``remaining`` out of range.
        """
        if self.command is TunnelCommand.GET:
            return tunnel.TunnelGet().encode()
        if self.command is TunnelCommand.GET_RESPONSE:
            if not 0 <= self.remaining <= 0xFF:
                raise LocalProtocolError(f"remaining must be 0..255, got {self.remaining}")
            return tunnel.TunnelGetResponse(remaining=self.remaining, message=self.message).encode()
        if not self.message:
            raise LocalProtocolError("a PUT carries a GBCS message")
        return tunnel.TunnelPut(message=self.message).encode()


def decode_han(data: bytes) -> HanFrame:
    """Decode a whole tunnel payload.

    :raises DecodeError: empty, unknown command byte, or a malformed GET / PUT.
    """
    record = tunnel.decode_gbcs_tunnel(data)
    if isinstance(record, tunnel.TunnelGet):
        return HanFrame(TunnelCommand.GET)
    if isinstance(record, tunnel.TunnelGetResponse):
        return HanFrame(TunnelCommand.GET_RESPONSE, record.message, record.remaining)
    if not record.message:
        raise DecodeError("a PUT carries a GBCS message", path="gbcs_tunnel.put", offset=1)
    return HanFrame(TunnelCommand.PUT, record.message)


# ------------------------------------------------------------------------- link frames

#: a decoded link frame's command: what the HAN medium may carry
LinkCommand = (
    tunnel.RequestTunnel
    | tunnel.RequestTunnelResponse
    | tunnel.TransferData
    | tunnel.TransferDataToClient
    | tunnel.TransferDataError
    | tunnel.TransferDataErrorToClient
    | tunnel.CloseTunnel
    | tunnel.TunnelClosureNotification
)
_LINK_COMMANDS: Final = (
    tunnel.RequestTunnel,
    tunnel.RequestTunnelResponse,
    tunnel.TransferData,
    tunnel.TransferDataToClient,
    tunnel.TransferDataError,
    tunnel.TransferDataErrorToClient,
    tunnel.CloseTunnel,
    tunnel.TunnelClosureNotification,
)


@dataclass(frozen=True, slots=True)
class LinkFrame:
    """A decoded HAN link frame: its ZCL sequence number and Tunneling command."""

    sequence: int
    command: LinkCommand

    @property
    def payload(self) -> bytes | None:
        """The tunnel payload of a Transfer Data (either direction), else ``None``."""
        if isinstance(self.command, tunnel.TransferData | tunnel.TransferDataToClient):
            return self.command.data
        return None


def _frame(command: LinkCommand, sequence: int, *, quiet: bool) -> bytes:
    return ZclFrame.build(command, sequence & 0xFF, disable_default_response=quiet).encode()


def request_tunnel(sequence: int) -> bytes:
    """Request Tunnel for GBCS, as a HAN device sends it when it joins."""
    command = tunnel.RequestTunnel(
        GB_HRGP_PROTOCOL_ID, UNUSED_MANUFACTURER_CODE, False, MAX_TRANSFER_SIZE
    )
    return _frame(command, sequence, quiet=False)


def request_tunnel_response(
    sequence: int, tunnel_id: int, status: TunnelStatus = TunnelStatus.SUCCESS
) -> bytes:
    """The comms hub's answer to a Request Tunnel (same sequence number)."""
    command = tunnel.RequestTunnelResponse(tunnel_id, status, MAX_TRANSFER_SIZE)
    return _frame(command, sequence, quiet=True)


def transfer_data(payload: bytes, *, tunnel_id: int, sequence: int, to_client: bool) -> bytes:
    """Transfer Data carrying one tunnel payload (``to_client``: sent by the comms hub).

    :raises LocalProtocolError: the payload exceeds :data:`MAX_TRANSFER_SIZE`.
    """
    if len(payload) > MAX_TRANSFER_SIZE:
        raise LocalProtocolError(
            f"a Transfer Data carries at most {MAX_TRANSFER_SIZE} bytes, got {len(payload)}"
        )
    command: LinkCommand
    if to_client:
        command = tunnel.TransferDataToClient(tunnel_id, payload)
    else:
        command = tunnel.TransferData(tunnel_id, payload)
    return _frame(command, sequence, quiet=True)


def transfer_data_error(
    sequence: int, tunnel_id: int, *, to_client: bool, status: TransferDataStatus
) -> bytes:
    """Transfer Data Error answering a Transfer Data the receiver could not take."""
    command: LinkCommand
    if to_client:
        command = tunnel.TransferDataErrorToClient(tunnel_id, status)
    else:
        command = tunnel.TransferDataError(tunnel_id, status)
    return _frame(command, sequence, quiet=True)


def decode_link(data: bytes) -> LinkFrame:
    """Decode one HAN link frame.

    :raises DecodeError: not a whole ZCL frame, or not one of the Tunneling cluster
        commands the HAN carries (path ``zcl``).
    """
    decoded = decode_frame(TUNNELING_CLUSTER, bytes(data))
    command = decoded.command
    if not isinstance(command, _LINK_COMMANDS):
        raise DecodeError(
            f"expected a Tunneling cluster command, got {type(command).__name__} "
            f"(command 0x{decoded.header.command_id:02X})",
            path="zcl.command",
            offset=len(data) - 1,
        )
    return LinkFrame(decoded.header.sequence, command)
