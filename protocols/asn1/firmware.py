"""Firmware payloads: CS06 Activate Firmware, CS08 / CS09 PPMID-HCALCS firmware, CCS08.

Layer: protocols (sans-IO). Structures of gbcs-reference §7.8 (GBCS section 11): the
activation command with its immediate or future-dated outcome (response, 8F66/8F67 alert),
the PPMID / HCALCS firmware version read and activation alert, and the comms hub's
firmware transfer alert.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from smemu.protocols.asn1.base import CHOICE, NULL, Asn1Payload
from smemu.protocols.asn1.values import AlertCode
from smemu.protocols.gbcs.types import Eui64


class ActivationResponseCode(enum.IntEnum):
    """CS06 activation outcome."""

    SUCCESS = 0
    NO_IMAGE_HELD = 1
    HASH_MISMATCH = 2
    ACTIVATION_FAILURE = 3


class FirmwareReadResponseCode(enum.IntEnum):
    """CS08 read outcome."""

    READ_SUCCESS = 0
    READ_FAILURE = 1


class ActivateImageResponse(enum.IntEnum):
    """CS09 activation outcome on a PPMID / HCALCS."""

    SUCCESS = 0
    FAILURE = 1


class FirmwareTransferResponseCode(enum.IntEnum):
    """CCS08 transfer outcome."""

    SUCCESS = 0
    IMAGE_DISCARDED = 1
    HARDWARE_VERSION_MISMATCH = 2
    FILE_TRANSFER_FAILURE = 3


@dataclass(frozen=True, slots=True)
class ActivateFirmwareExecutionOutcome:
    """``SEQUENCE { responseCode INTEGER, firmwareVersion OCTET STRING }``."""

    response_code: ActivationResponseCode  #: outcome
    firmware_version: bytes  #: the version now running


@dataclass(frozen=True, slots=True)
class ActivateFirmwareCommand(Asn1Payload):
    """CS06 command (0x0012).

    ::

        SEQUENCE { manufacturerImageHash OCTET STRING(32), originatorCounter INTEGER,
                   executionDateTime GeneralizedTime OPTIONAL }
    """

    schema: ClassVar[str] = "ActivateFirmwareCommand"

    manufacturer_image_hash: bytes  #: SHA-256 of the image to activate
    originator_counter: int  #: counter of the command that delivered it
    execution_date_time: datetime | None = None  #: future-dated activation (UTC)


@dataclass(frozen=True, slots=True)
class ActivateFirmwareResponse(Asn1Payload):
    """CS06 response: NULL (accepted, future-dated) or the execution outcome (``30 ...``)."""

    schema: ClassVar[str] = "ActivateFirmwareResponse"
    shape: ClassVar[str] = CHOICE
    _variants: ClassVar[tuple[tuple[int, str, str], ...]] = (
        (0x05, "CommandAccepted", ""),
        (0x30, "ActivateFirmwareExecutionOutcome", "execution_outcome"),
    )

    execution_outcome: ActivateFirmwareExecutionOutcome | None = None  #: None: accepted


@dataclass(frozen=True, slots=True)
class ActivateFirmwareAlert(Asn1Payload):
    """Future-dated CS06 outcome alert (0x00CA; 8F66 / 8F67).

    ::

        SEQUENCE { alertCode, executionDateTime, originatorCounter, executionOutcome }
    """

    schema: ClassVar[str] = "ActivateFirmwareAlert"

    alert_code: AlertCode  #: 8F66 executed, 8F67 failed
    execution_date_time: datetime  #: when it ran (UTC)
    originator_counter: int  #: the activation command's counter
    execution_outcome: ActivateFirmwareExecutionOutcome  #: the outcome


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersionCommand(Asn1Payload):
    """CS08 command (0x0129): NULL."""

    schema: ClassVar[str] = "ReadFirmwareVersionCommand"
    shape: ClassVar[str] = NULL


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersionResponse(Asn1Payload):
    """CS08 response: ``SEQUENCE { firmwareVersion OCTET STRING, responseCode INTEGER }``."""

    schema: ClassVar[str] = "ReadFirmwareVersionResponse"

    firmware_version: bytes  #: the version running on the PPMID / HCALCS
    response_code: FirmwareReadResponseCode  #: outcome


@dataclass(frozen=True, slots=True)
class FirmwareActivationAlert(Asn1Payload):
    """CS09 PPMID / HCALCS firmware activation alert (0x012B).

    ::

        SEQUENCE { alertCode, executionDateTime, firmwareVersion, activateImage INTEGER }
    """

    schema: ClassVar[str] = "FirmwareActivationAlert"

    alert_code: AlertCode  #: the alert code
    execution_date_time: datetime  #: when (UTC)
    firmware_version: bytes  #: the version now running
    activate_image_response: ActivateImageResponse  #: outcome


@dataclass(frozen=True, slots=True)
class FirmwareTransferAlert(Asn1Payload):
    """CCS08 firmware transfer alert (0x0128).

    ::

        SEQUENCE { alertCode, executionDateTime, entityId OCTET STRING(8),
                   firmwareVersion OCTET STRING, responseCode INTEGER }
    """

    schema: ClassVar[str] = "FirmwareTransferAlert"

    alert_code: AlertCode  #: the alert code
    execution_date_time: datetime  #: when (UTC)
    entity_id: Eui64  #: the device the image was for
    firmware_version: bytes  #: the image's version
    response_code: FirmwareTransferResponseCode  #: outcome
