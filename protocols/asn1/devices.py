"""Device-log and clock payloads: joins, unjoins, join details, GSME clock, GPF log backup.

Layer: protocols (sans-IO). Structures of gbcs-reference §7.8 (GBCS section 13.7 and the
GCS28 / GCS59 / GCS62 use cases): CS03A1/A2/B/C Join, CS04AC/B Unjoin, CS07 Read Device Join
Details, GCS28 Set Clock on GSME, GCS59 Restore GPF Device Log, GCS62 Backup GPF Device Log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from smemu.protocols.asn1.base import NULL, VALUE, Asn1Payload
from smemu.protocols.asn1.values import (
    AlertCode,
    Certificate,
    DeviceLogEntry,
    DeviceType,
    JoinResponseCode,
)
from smemu.protocols.gbcs.types import Eui64


class JoinMethodAndRole(enum.IntEnum):
    """How the device joins the other one (CS03 command)."""

    METHOD_A_INITIATOR = 0
    METHOD_A_RESPONDER = 1
    METHOD_B = 2
    METHOD_C = 3


class UnjoinResponseCode(enum.IntEnum):
    """CS04 outcome."""

    SUCCESS = 0
    NOT_IN_DEVICE_LOG = 1
    OTHER_FAILURE = 2


class ReadResponseCode(enum.IntEnum):
    """CS07 outcome."""

    SUCCESS = 0
    READ_FAILURE = 1


class DeviceTimeStatus(enum.IntEnum):
    """How far the GSME trusts its clock (GCS28 response)."""

    RELIABLE = 0
    INVALID = 1
    UNRELIABLE = 2


@dataclass(frozen=True, slots=True)
class RestoreOutcome:
    """One GCS59 result: ``SEQUENCE { deviceLogEntry, joinResponseCode }``."""

    device_log_entry: DeviceLogEntry  #: the entry restored
    join_response_code: JoinResponseCode  #: how it went


@dataclass(frozen=True, slots=True)
class JoinDeviceCommand(Asn1Payload):
    """CS03A1 / CS03A2 / CS03B / CS03C command (0x000D, 0x00AB, 0x000E, 0x00AF).

    ::

        SEQUENCE { joinMethodAndRole INTEGER, otherDeviceEntityIdentifier OCTET STRING(8),
                   otherDeviceType INTEGER,
                   otherDeviceKeyAgreementCertificate Certificate OPTIONAL }
    """

    schema: ClassVar[str] = "JoinDeviceCommand"

    join_method_and_role: JoinMethodAndRole  #: method and which side this device is
    other_device_entity_identifier: Eui64  #: the device to join
    other_device_type: DeviceType  #: its type
    #: its key agreement certificate (method C)
    other_device_key_agreement_certificate: Certificate | None = None


@dataclass(frozen=True, slots=True)
class JoinDeviceResponse(Asn1Payload):
    """CS03 response: an INTEGER outcome."""

    schema: ClassVar[str] = "JoinDeviceResponse"
    shape: ClassVar[str] = VALUE

    response_code: JoinResponseCode  #: outcome


@dataclass(frozen=True, slots=True)
class UnjoinDeviceCommand(Asn1Payload):
    """CS04AC / CS04B command (0x000F, 0x0010): the device to remove, OCTET STRING(8)."""

    schema: ClassVar[str] = "UnjoinDeviceCommand"
    shape: ClassVar[str] = VALUE

    other_device_entity_identifier: Eui64  #: the device to unjoin


@dataclass(frozen=True, slots=True)
class UnjoinDeviceResponse(Asn1Payload):
    """CS04 response: an INTEGER outcome."""

    schema: ClassVar[str] = "UnjoinDeviceResponse"
    shape: ClassVar[str] = VALUE

    response_code: UnjoinResponseCode  #: outcome


@dataclass(frozen=True, slots=True)
class ReadDeviceJoinDetailsCommand(Asn1Payload):
    """CS07 command (0x0013): NULL."""

    schema: ClassVar[str] = "ReadDeviceJoinDetailsCommand"
    shape: ClassVar[str] = NULL


@dataclass(frozen=True, slots=True)
class ReadDeviceJoinDetailsResponse(Asn1Payload):
    """CS07 response.

    ::

        SEQUENCE { responseCode INTEGER, deviceLogEntries SEQUENCE OF DeviceLogEntry OPTIONAL }
    """

    schema: ClassVar[str] = "ReadDeviceJoinDetailsResponse"

    response_code: ReadResponseCode  #: outcome
    device_log_entries: tuple[DeviceLogEntry, ...] | None = None  #: the device log


@dataclass(frozen=True, slots=True)
class SetClockCommand(Asn1Payload):
    """GCS28 command (0x007F): the window in which the GSME should take the time it gets.

    ::

        SEQUENCE { validityIntervalStart GeneralizedTime, validityIntervalEnd GeneralizedTime }
    """

    schema: ClassVar[str] = "SetClockCommand"

    validity_interval_start: datetime  #: window start (UTC)
    validity_interval_end: datetime  #: window end (UTC)


@dataclass(frozen=True, slots=True)
class SetClockResponse(Asn1Payload):
    """GCS28 response: ``SEQUENCE { deviceTime GeneralizedTime, deviceTimeStatus INTEGER }``."""

    schema: ClassVar[str] = "SetClockResponse"

    device_time: datetime  #: the GSME's time afterwards (UTC)
    device_time_status: DeviceTimeStatus  #: and how reliable it is


@dataclass(frozen=True, slots=True)
class RestoreGpfDeviceLogCommand(Asn1Payload):
    """GCS59 command (0x008C): ``SEQUENCE { SEQUENCE OF DeviceLogEntry }``."""

    schema: ClassVar[str] = "RestoreGpfDeviceLogCommand"

    device_log_entries: tuple[DeviceLogEntry, ...]  #: the log to restore


@dataclass(frozen=True, slots=True)
class RestoreGpfDeviceLogResponse(Asn1Payload):
    """GCS59 response: ``SEQUENCE { SEQUENCE OF RestoreOutcome }``."""

    schema: ClassVar[str] = "RestoreGpfDeviceLogResponse"

    restore_outcomes: tuple[RestoreOutcome, ...]  #: per entry


@dataclass(frozen=True, slots=True)
class GpfDeviceLogBackupAlert(Asn1Payload):
    """GCS62 alert (0x00B2): the GPF device log, for the DCC to keep.

    ::

        SEQUENCE { alertCode INTEGER, backupDateTime GeneralizedTime,
                   SEQUENCE OF DeviceLogEntry }
    """

    schema: ClassVar[str] = "GpfDeviceLogBackupAlert"

    alert_code: AlertCode  #: the alert code
    backup_date_time: datetime  #: when the log was read (UTC)
    device_log_entries: tuple[DeviceLogEntry, ...]  #: the log
