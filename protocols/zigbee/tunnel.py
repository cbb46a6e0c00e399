"""Tunneling cluster (0x0704) frames carrying GBCS over the HAN, and the GBCS tunnel header.

Protocol layer (sans-IO); ZigBee SE 1.4 Tunneling cluster (protocol id 6 = GB-HRGP, the
GBCS one) and the one-byte GBCS tunnel command that opens every Transfer Data payload
(GBCS ref. §12): 01 GET, 02 GET-RESPONSE (remaining count, optional message), 03 PUT.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final

from smemu.errors import DecodeError
from smemu.protocols.zigbee._fields import (
    BOOL,
    U8,
    U16,
    Counted,
    EnumField,
    RestBytes,
    UInt,
    ZclRecord,
)
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "GB_HRGP_PROTOCOL_ID",
    "TUNNELING_CLUSTER",
    "UNUSED_MANUFACTURER_CODE",
    "AckTransferData",
    "AckTransferDataToClient",
    "CloseTunnel",
    "GbcsTunnelCommand",
    "GetSupportedTunnelProtocols",
    "ReadyData",
    "ReadyDataToClient",
    "RequestTunnel",
    "RequestTunnelResponse",
    "SupportedTunnelProtocol",
    "SupportedTunnelProtocolsResponse",
    "TransferData",
    "TransferDataError",
    "TransferDataErrorToClient",
    "TransferDataStatus",
    "TransferDataToClient",
    "TunnelClosureNotification",
    "TunnelGet",
    "TunnelGetResponse",
    "TunnelPut",
    "TunnelStatus",
    "decode_gbcs_tunnel",
]

TUNNELING_CLUSTER: Final = 0x0704
#: Tunneling protocol id of GBCS ("GB-HRGP").
GB_HRGP_PROTOCOL_ID: Final = 6
#: Manufacturer code sent with a standard (non-manufacturer) protocol id.
UNUSED_MANUFACTURER_CODE: Final = 0xFFFF


class TunnelStatus(enum.IntEnum):
    """Request Tunnel Response status."""

    SUCCESS = 0x00
    BUSY = 0x01
    NO_MORE_TUNNEL_IDS = 0x02
    PROTOCOL_NOT_SUPPORTED = 0x03
    FLOW_CONTROL_NOT_SUPPORTED = 0x04


class TransferDataStatus(enum.IntEnum):
    """Transfer Data Error status."""

    NO_SUCH_TUNNEL = 0x00
    WRONG_DEVICE = 0x01
    DATA_OVERFLOW = 0x02


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = TUNNELING_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = TUNNELING_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


_DATA = Annotated[bytes, RestBytes(opaque=True)]
_TRANSFER_STATUS = Annotated[int, EnumField(TransferDataStatus)]

# ------------------------------------------------------------------ client -> server


@dataclass(frozen=True, slots=True)
class RequestTunnel(_ToServer):
    """Request Tunnel (0x00): a GBCS device asks for protocol 6, manufacturer 0xFFFF."""

    COMMAND_ID: ClassVar[int] = 0x00

    protocol_id: U8
    manufacturer_code: Annotated[int, UInt(2, hex=True)]
    flow_control_support: BOOL
    maximum_incoming_transfer_size: U16


@dataclass(frozen=True, slots=True)
class CloseTunnel(_ToServer):
    """Close Tunnel (0x01)."""

    COMMAND_ID: ClassVar[int] = 0x01

    tunnel_id: U16


@dataclass(frozen=True, slots=True)
class TransferData(_ToServer):
    """Transfer Data (0x02), client -> server: tunnel id then the tunnelled octets."""

    COMMAND_ID: ClassVar[int] = 0x02

    tunnel_id: U16
    #: For GBCS: a GBCS tunnel command (:func:`decode_gbcs_tunnel`).
    data: _DATA


@dataclass(frozen=True, slots=True)
class TransferDataError(_ToServer):
    """Transfer Data Error (0x03), client -> server."""

    COMMAND_ID: ClassVar[int] = 0x03

    tunnel_id: U16
    transfer_data_status: _TRANSFER_STATUS


@dataclass(frozen=True, slots=True)
class AckTransferData(_ToServer):
    """Ack Transfer Data (0x04), client -> server (flow control)."""

    COMMAND_ID: ClassVar[int] = 0x04

    tunnel_id: U16
    number_of_bytes_left: U16


@dataclass(frozen=True, slots=True)
class ReadyData(_ToServer):
    """Ready Data (0x05), client -> server (flow control)."""

    COMMAND_ID: ClassVar[int] = 0x05

    tunnel_id: U16
    number_of_octets_left: U16


@dataclass(frozen=True, slots=True)
class GetSupportedTunnelProtocols(_ToServer):
    """Get Supported Tunnel Protocols (0x06)."""

    COMMAND_ID: ClassVar[int] = 0x06

    protocol_offset: U8


# ------------------------------------------------------------------ server -> client


@dataclass(frozen=True, slots=True)
class RequestTunnelResponse(_ToClient):
    """Request Tunnel Response (0x00)."""

    COMMAND_ID: ClassVar[int] = 0x00

    tunnel_id: U16
    tunnel_status: Annotated[int, EnumField(TunnelStatus)]
    maximum_incoming_transfer_size: U16


@dataclass(frozen=True, slots=True)
class TransferDataToClient(_ToClient):
    """Transfer Data (0x01), server -> client."""

    COMMAND_ID: ClassVar[int] = 0x01

    tunnel_id: U16
    data: _DATA


@dataclass(frozen=True, slots=True)
class TransferDataErrorToClient(_ToClient):
    """Transfer Data Error (0x02), server -> client."""

    COMMAND_ID: ClassVar[int] = 0x02

    tunnel_id: U16
    transfer_data_status: _TRANSFER_STATUS


@dataclass(frozen=True, slots=True)
class AckTransferDataToClient(_ToClient):
    """Ack Transfer Data (0x03), server -> client."""

    COMMAND_ID: ClassVar[int] = 0x03

    tunnel_id: U16
    number_of_bytes_left: U16


@dataclass(frozen=True, slots=True)
class ReadyDataToClient(_ToClient):
    """Ready Data (0x04), server -> client."""

    COMMAND_ID: ClassVar[int] = 0x04

    tunnel_id: U16
    number_of_octets_left: U16


@dataclass(frozen=True, slots=True)
class SupportedTunnelProtocol(ZclRecord):
    """Manufacturer code + protocol id."""

    manufacturer_code: Annotated[int, UInt(2, hex=True)]
    protocol_id: U8


@dataclass(frozen=True, slots=True)
class SupportedTunnelProtocolsResponse(_ToClient):
    """Supported Tunnel Protocols Response (0x05)."""

    COMMAND_ID: ClassVar[int] = 0x05

    protocol_list_complete: BOOL
    #: Preceded on the wire by the protocol count.
    protocols: Annotated[tuple[SupportedTunnelProtocol, ...], Counted(SupportedTunnelProtocol)]


@dataclass(frozen=True, slots=True)
class TunnelClosureNotification(_ToClient):
    """Tunnel Closure Notification (0x06)."""

    COMMAND_ID: ClassVar[int] = 0x06

    tunnel_id: U16


# ------------------------------------------------------------------- GBCS tunnel header


class GbcsTunnelCommand(enum.IntEnum):
    """First byte of a GBCS Transfer Data payload."""

    GET = 0x01
    GET_RESPONSE = 0x02
    PUT = 0x03


@dataclass(frozen=True, slots=True)
class TunnelGet(ZclRecord):
    """``01``: the device polls the comms hub for queued GBCS messages."""

    command: U8 = GbcsTunnelCommand.GET


@dataclass(frozen=True, slots=True)
class TunnelGetResponse(ZclRecord):
    """``02 remaining [message]``: a queued GBCS message (or none) and how many remain."""

    command: U8 = GbcsTunnelCommand.GET_RESPONSE
    #: Messages still queued after this one.
    remaining: U8 = 0
    #: A whole GBCS message, or empty when none is queued.
    message: _DATA = b""


@dataclass(frozen=True, slots=True)
class TunnelPut(ZclRecord):
    """``03 message``: a GBCS message sent through the tunnel."""

    command: U8 = GbcsTunnelCommand.PUT
    message: _DATA = b""


_TUNNEL_COMMANDS: Final[dict[int, type[TunnelGet | TunnelGetResponse | TunnelPut]]] = {
    GbcsTunnelCommand.GET: TunnelGet,
    GbcsTunnelCommand.GET_RESPONSE: TunnelGetResponse,
    GbcsTunnelCommand.PUT: TunnelPut,
}


def decode_gbcs_tunnel(data: bytes) -> TunnelGet | TunnelGetResponse | TunnelPut:
    """Decode the GBCS tunnel command a Transfer Data payload carries.

    :raises DecodeError: empty, an unknown command byte, or bytes after a GET.
    """
    data = bytes(data)
    if not data:
        raise DecodeError("expected a GBCS tunnel command byte", path="gbcs_tunnel", offset=0)
    record = _TUNNEL_COMMANDS.get(data[0])
    if record is None:
        raise DecodeError(
            f"expected GBCS tunnel command 01, 02 or 03, got 0x{data[0]:02X}",
            path="gbcs_tunnel.command",
            offset=0,
        )
    try:
        return record.decode_exact(data)
    except DecodeError as exc:
        raise exc.within("gbcs_tunnel") from None
