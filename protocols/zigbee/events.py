"""Events cluster (0x0709) commands: event logs (read, publish, clear).

Protocol layer (sans-IO); ZigBee SE 1.4 Events cluster, as GBCS CS10a/b and CS11 use it
(GBCS ref. §7.7). Little-endian ZCL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final

from smemu.protocols.zigbee._fields import (
    BITMAP8,
    OCTETS,
    U8,
    U16,
    UTC,
    EnumField,
    NibblePair,
    Repeat,
    UInt,
    ZclRecord,
)
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "EVENTS_CLUSTER",
    "ClearEventLogRequest",
    "ClearEventLogResponse",
    "EventLogEntry",
    "GetEventLog",
    "LogId",
    "PublishEvent",
    "PublishEventLog",
]

EVENTS_CLUSTER: Final = 0x0709


class LogId(enum.IntEnum):
    """Event log identifiers."""

    ALL_LOGS = 0x00
    TAMPER_LOG = 0x01
    FAULT_LOG = 0x02
    GENERAL_EVENT_LOG = 0x03
    SECURITY_EVENT_LOG = 0x04
    NETWORK_EVENT_LOG = 0x05
    GBCS_GENERAL_EVENT_LOG = 0x06
    GBCS_SECURITY_EVENT_LOG = 0x07


_LOG_ID = Annotated[int, EnumField(LogId)]
_EVENT_ID = Annotated[int, UInt(2, hex=True)]


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = EVENTS_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = EVENTS_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


@dataclass(frozen=True, slots=True)
class GetEventLog(_ToServer):
    """Get Event Log (0x00); CS10a (general log), CS10b (security log)."""

    COMMAND_ID: ClassVar[int] = 0x00

    #: Event Control / Log ID (ZigBee SE 1.4 D.10): the low nibble is the log id
    #: (:class:`LogId`, 0 = all logs), the high nibble the event control bitmap (bit 0:
    #: only events matching ``event_id``). CS10b asks for the security log with ``0x04``.
    event_control_log_id: Annotated[int, NibblePair("event_control", "log_id")]
    event_id: _EVENT_ID
    start_time: UTC
    end_time: UTC
    #: 0 = all.
    number_of_events: U8
    event_offset: U16

    @property
    def log_id(self) -> int:
        """The log asked for (low nibble of ``event_control_log_id``; 0 = every log)."""
        return self.event_control_log_id & 0x0F

    @property
    def event_control(self) -> int:
        """The event control bitmap (high nibble of ``event_control_log_id``)."""
        return self.event_control_log_id >> 4

    @staticmethod
    def control_byte(log_id: int, event_control: int = 0) -> int:
        """The ``event_control_log_id`` octet for ``log_id`` and ``event_control``.

        :raises ValueError: either value does not fit its nibble.
        """
        if not 0 <= log_id <= 0x0F or not 0 <= event_control <= 0x0F:
            raise ValueError(f"log id {log_id} / event control {event_control} exceed a nibble")
        return event_control << 4 | log_id


@dataclass(frozen=True, slots=True)
class ClearEventLogRequest(_ToServer):
    """Clear Event Log Request (0x01); CS11."""

    COMMAND_ID: ClassVar[int] = 0x01

    log_id: _LOG_ID


@dataclass(frozen=True, slots=True)
class PublishEvent(_ToClient):
    """Publish Event (0x00)."""

    COMMAND_ID: ClassVar[int] = 0x00

    log_id: _LOG_ID
    event_id: _EVENT_ID
    event_time: UTC
    event_control: BITMAP8
    event_data: OCTETS


@dataclass(frozen=True, slots=True)
class EventLogEntry(ZclRecord):
    """One event of a Publish Event Log."""

    log_id: _LOG_ID
    event_id: _EVENT_ID
    event_time: UTC
    event_data: OCTETS


@dataclass(frozen=True, slots=True)
class PublishEventLog(_ToClient):
    """Publish Event Log (0x01); CS10a/b."""

    COMMAND_ID: ClassVar[int] = 0x01

    total_number_of_matching_events: U16
    command_index: U8
    total_commands: U8
    #: Bit 0: more events follow in another command; bits 4-7: number of events (some
    #: devices leave 0; the entries run to the end of the payload).
    log_payload_control: BITMAP8
    entries: Annotated[tuple[EventLogEntry, ...], Repeat(EventLogEntry)]


@dataclass(frozen=True, slots=True)
class ClearEventLogResponse(_ToClient):
    """Clear Event Log Response (0x02): the logs cleared (bit n = log id n)."""

    COMMAND_ID: ClassVar[int] = 0x02

    cleared_events_logs: BITMAP8
