"""Device Management cluster (0x0708) commands: tenancy, supplier, site id, CIN, events.

Protocol layer (sans-IO); ZigBee SE 1.4 Device Management cluster, as GBCS GCS09, GCS11,
GCS20/20r, GCS36, GCS41, GCS44 use it (GBCS ref. §7.7). Little-endian ZCL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final

from smemu.protocols.zigbee._fields import (
    BITMAP8,
    BITMAP32,
    OCTETS,
    U8,
    U16,
    U32,
    UTC,
    Counted,
    EnumField,
    Repeat,
    Switch,
    UInt,
    ZclRecord,
)
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "DEVICE_MANAGEMENT_CLUSTER",
    "EVENT_CONFIGURATION_PAYLOADS",
    "ApplyByConfigurationMatch",
    "ApplyByEventGroup",
    "ApplyByList",
    "ApplyByLogType",
    "ConfigurationControl",
    "EventConfigurationEntry",
    "GetChangeOfSupplier",
    "GetChangeOfTenancy",
    "GetCin",
    "GetEventConfiguration",
    "GetSiteId",
    "PublishChangeOfSupplier",
    "PublishChangeOfTenancy",
    "ReportEventConfiguration",
    "RequestNewPassword",
    "RequestNewPasswordResponse",
    "SetEventConfiguration",
    "UpdateCin",
    "UpdateSiteId",
]

DEVICE_MANAGEMENT_CLUSTER: Final = 0x0708


class ConfigurationControl(enum.IntEnum):
    """How Set Event Configuration selects the events it configures."""

    APPLY_BY_LIST = 0x00
    APPLY_BY_EVENT_GROUP = 0x01
    APPLY_BY_LOG_TYPE = 0x02
    APPLY_BY_CONFIGURATION_MATCH = 0x03


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = DEVICE_MANAGEMENT_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = DEVICE_MANAGEMENT_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


_EVENT_ID = Annotated[int, UInt(2, hex=True)]

# ------------------------------------------------------------------ client -> server


@dataclass(frozen=True, slots=True)
class GetChangeOfTenancy(_ToServer):
    """Get Change Of Tenancy (0x00): no payload."""

    COMMAND_ID: ClassVar[int] = 0x00


@dataclass(frozen=True, slots=True)
class GetChangeOfSupplier(_ToServer):
    """Get Change Of Supplier (0x01): no payload."""

    COMMAND_ID: ClassVar[int] = 0x01


@dataclass(frozen=True, slots=True)
class RequestNewPassword(_ToServer):
    """Request New Password (0x02)."""

    COMMAND_ID: ClassVar[int] = 0x02

    password_type: U8


@dataclass(frozen=True, slots=True)
class GetSiteId(_ToServer):
    """Get Site ID (0x03): no payload."""

    COMMAND_ID: ClassVar[int] = 0x03


@dataclass(frozen=True, slots=True)
class EventConfigurationEntry(ZclRecord):
    """Event id and its configuration bitmap."""

    event_id: _EVENT_ID
    event_configuration: BITMAP8


@dataclass(frozen=True, slots=True)
class ReportEventConfiguration(_ToServer):
    """Report Event Configuration (0x04); the answer to GCS20r."""

    COMMAND_ID: ClassVar[int] = 0x04

    command_index: U8
    total_commands: U8
    entries: Annotated[tuple[EventConfigurationEntry, ...], Repeat(EventConfigurationEntry)]


@dataclass(frozen=True, slots=True)
class GetCin(_ToServer):
    """Get CIN (0x05): no payload."""

    COMMAND_ID: ClassVar[int] = 0x05


# ------------------------------------------------------------------ server -> client


@dataclass(frozen=True, slots=True)
class PublishChangeOfTenancy(_ToClient):
    """Publish Change Of Tenancy (0x00); GCS09."""

    COMMAND_ID: ClassVar[int] = 0x00

    provider_id: U32
    issuer_event_id: U32
    tariff_type: BITMAP8
    implementation_date_time: UTC
    proposed_tenancy_change_control: BITMAP32


@dataclass(frozen=True, slots=True)
class PublishChangeOfSupplier(_ToClient):
    """Publish Change Of Supplier (0x01); GCS44 writes the supplier contact details."""

    COMMAND_ID: ClassVar[int] = 0x01

    current_provider_id: U32
    issuer_event_id: U32
    tariff_type: BITMAP8
    proposed_provider_id: U32
    provider_change_implementation_time: UTC
    provider_change_control: BITMAP32
    proposed_provider_name: OCTETS
    proposed_provider_contact_details: OCTETS


@dataclass(frozen=True, slots=True)
class RequestNewPasswordResponse(_ToClient):
    """Request New Password Response (0x02); GCS11 (empty password = PIN disabled)."""

    COMMAND_ID: ClassVar[int] = 0x02

    issuer_event_id: U32
    implementation_date_time: UTC
    duration_in_minutes: U16
    password_type: U8
    password: OCTETS


@dataclass(frozen=True, slots=True)
class UpdateSiteId(_ToClient):
    """Update Site ID (0x03); GCS41 (the MPRN)."""

    COMMAND_ID: ClassVar[int] = 0x03

    issuer_event_id: U32
    site_id_time: UTC
    provider_id: U32
    site_id: OCTETS


@dataclass(frozen=True, slots=True)
class ApplyByList(ZclRecord):
    """Event configuration payload 0: the event ids (count-prefixed)."""

    event_ids: Annotated[tuple[int, ...], Counted(UInt(2, hex=True))]


@dataclass(frozen=True, slots=True)
class ApplyByEventGroup(ZclRecord):
    """Event configuration payload 1: an event group id."""

    event_group_id: _EVENT_ID


@dataclass(frozen=True, slots=True)
class ApplyByLogType(ZclRecord):
    """Event configuration payload 2: a log id."""

    log_id: U8


@dataclass(frozen=True, slots=True)
class ApplyByConfigurationMatch(ZclRecord):
    """Event configuration payload 3: events whose configuration equals this value."""

    configuration_value_match: BITMAP8


#: Configuration control -> event configuration payload record.
EVENT_CONFIGURATION_PAYLOADS: Final[dict[int, type[ZclRecord]]] = {
    0: ApplyByList,
    1: ApplyByEventGroup,
    2: ApplyByLogType,
    3: ApplyByConfigurationMatch,
}


@dataclass(frozen=True, slots=True)
class SetEventConfiguration(_ToClient):
    """Set Event Configuration (0x04); GCS20."""

    COMMAND_ID: ClassVar[int] = 0x04

    issuer_event_id: U32
    start_date_time: UTC
    #: Bits 0-2 log action, 3 push to WAN, 4 push to HAN, 5 raise alarm (ZigBee), 6 raise
    #: alarm (physical).
    event_configuration: BITMAP8
    configuration_control: Annotated[int, EnumField(ConfigurationControl)]
    payload: Annotated[
        ZclRecord | bytes, Switch("configuration_control", EVENT_CONFIGURATION_PAYLOADS)
    ]


@dataclass(frozen=True, slots=True)
class GetEventConfiguration(_ToClient):
    """Get Event Configuration (0x05); GCS20r."""

    COMMAND_ID: ClassVar[int] = 0x05

    event_id: _EVENT_ID


@dataclass(frozen=True, slots=True)
class UpdateCin(_ToClient):
    """Update CIN (0x06); GCS36 (the Customer Identification Number)."""

    COMMAND_ID: ClassVar[int] = 0x06

    issuer_event_id: U32
    implementation_time: UTC
    provider_id: U32
    customer_id_number: OCTETS
