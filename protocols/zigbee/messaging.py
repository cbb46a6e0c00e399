"""Messaging cluster (0x0703) commands: display / cancel messages and confirmations.

Protocol layer (sans-IO); ZigBee SE 1.4 Messaging cluster, as GBCS GCS07 uses it (GBCS
ref. §7.7). Little-endian ZCL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Final

from smemu.protocols.zigbee._fields import (
    BITMAP8,
    OCTETS,
    U16,
    U32,
    UTC,
    Bitmap,
    OctetString,
    Tail,
)
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "MESSAGING_CLUSTER",
    "CancelAllMessages",
    "CancelMessage",
    "DisplayMessage",
    "DisplayProtectedMessage",
    "GetLastMessage",
    "GetMessageCancellation",
    "MessageConfirmation",
]

MESSAGING_CLUSTER: Final = 0x0703

_TAIL_BITMAP8 = Annotated[int | None, Tail(Bitmap(1))]


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = MESSAGING_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = MESSAGING_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


@dataclass(frozen=True, slots=True)
class DisplayMessage(_ToClient):
    """Display Message (0x00); GCS07."""

    COMMAND_ID: ClassVar[int] = 0x00

    message_id: U32
    #: Bits 0-1 transmission, 4-5 importance, 7 confirmation required.
    message_control: BITMAP8
    start_time: UTC
    #: 0xFFFF = until changed.
    duration_in_minutes: U16
    message: OCTETS
    extended_message_control: _TAIL_BITMAP8 = None


@dataclass(frozen=True, slots=True)
class CancelMessage(_ToClient):
    """Cancel Message (0x01)."""

    COMMAND_ID: ClassVar[int] = 0x01

    message_id: U32
    message_control: BITMAP8


@dataclass(frozen=True, slots=True)
class DisplayProtectedMessage(_ToClient):
    """Display Protected Message (0x02)."""

    COMMAND_ID: ClassVar[int] = 0x02

    message_id: U32
    message_control: BITMAP8
    start_time: UTC
    duration_in_minutes: U16
    message: OCTETS
    extended_message_control: _TAIL_BITMAP8 = None


@dataclass(frozen=True, slots=True)
class CancelAllMessages(_ToClient):
    """Cancel All Messages (0x03)."""

    COMMAND_ID: ClassVar[int] = 0x03

    implementation_date_time: UTC


@dataclass(frozen=True, slots=True)
class GetLastMessage(_ToServer):
    """Get Last Message (0x00): no payload."""

    COMMAND_ID: ClassVar[int] = 0x00


@dataclass(frozen=True, slots=True)
class MessageConfirmation(_ToServer):
    """Message Confirmation (0x01)."""

    COMMAND_ID: ClassVar[int] = 0x01

    message_id: U32
    confirmation_time: UTC
    message_confirmation_control: _TAIL_BITMAP8 = None
    message_confirmation_response: Annotated[bytes | None, Tail(OctetString())] = None


@dataclass(frozen=True, slots=True)
class GetMessageCancellation(_ToServer):
    """Get Message Cancellation (0x02)."""

    COMMAND_ID: ClassVar[int] = 0x02

    earliest_implementation_time: UTC
