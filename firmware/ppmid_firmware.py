"""PPMID / HCALCS firmware: CS08 version read; the PPMID's image receipt, activation and CS09.

Layer: firmware. gbcs-reference.md 7.8: CS08 (0x0129) is ASN.1 NULL, answered with
``SEQUENCE { firmwareVersion OCTET STRING, responseCode INTEGER }`` (0 read success); the
command is non-critical and MAC'd by the DCC, the response MAC'd by the device. The DCC
mapping table of the Use Case volume: CS05c "Distribute Firmware to PPMID" (GBCS 11.6) brings
the image; CS09 "PPMID Firmware Activation Alert" (0x012B, SME.A.C, GBCS 11.9) "is sent by the
PPMID following the activation of a firmware image".

Theory of operation (PPMID image)
---------------------------------
CS06 Activate Firmware is not a PPMID use case (the volume's CS06 is the meters' and the
hub's; a PPMID answers it "not supported"), and the Firmware Distribution Receipt Alert is
an ESME's or a GSME's. So when the hub's distribution delivers an image on the PPMID's
``ota`` port (:func:`on_image`), the PPMID checks it exactly as a meter does
(:func:`smemu.firmware.firmware_image.verify_image`: format, body hash, manufacturer
identifier, manufacturer signature with the key in NVM ``fw/manufacturer``), then activates
it at once through the same path as a meter's CS06 (:func:`~smemu.firmware.firmware_image.
activate`, by the image's own hash): the new version runs (``fw/version``, which CS08 reads).
Either way the Access Control Broker gets the signed CS09 alert (alert code 0x8F8B):
the version now running and ``activateImage`` success, or failure with the old version kept
(a bad image changes nothing else).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from smemu.firmware import firmware_image, ota_client
from smemu.firmware.asn1_respond import asn1_alert, asn1_response, command_payload, device_time
from smemu.firmware.common import faults
from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.protocols.asn1 import ReadFirmwareVersionCommand, ReadFirmwareVersionResponse
from smemu.protocols.asn1.firmware import (
    ActivateImageResponse,
    ActivationResponseCode,
    FirmwareActivationAlert,
    FirmwareReadResponseCode,
)
from smemu.protocols.asn1.values import AlertCode
from smemu.protocols.gbcs.types import Eui64

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

#: message code of CS08
CS08: Final = 0x0129
#: message code of CS09 PPMID Firmware Activation Alert
CS09: Final = 0x012B
#: alert code CS09 carries (gbcs-reference.md: 0x8F8B, with the firmware version)
ALERT_FIRMWARE_ACTIVATION: Final = 0x8F8B
#: NVM key of the running firmware version (octets)
FIRMWARE_VERSION: Final = firmware_image.FIRMWARE_VERSION
#: use cases whose function as a whole a fault can make fail (:mod:`~smemu.firmware.common.
#: faults`): CS08 answers readFailure when the store of the running version has failed
FAULTABLE_USE_CASES: Final = frozenset({CS08})


def read_firmware_version(credentials: Credentials, tx: Tx, accepted: Accepted) -> bytes:
    """The CS08 response: the version in NVM, read success (failure when none is held, or
    under a fault of the use case: the version reads as zeros, as when none is held).

    :raises DecodeError: the payload is not the CS08 NULL.
    """
    payload = command_payload(accepted)
    if not isinstance(payload, ReadFirmwareVersionCommand):  # pragma: no cover - registry
        raise TypeError(f"CS08 payload decoded as {type(payload).__name__}")
    version = tx.get(FIRMWARE_VERSION)
    code = FirmwareReadResponseCode.READ_SUCCESS
    if version is None or faults.active(tx, faults.UseCasePoint(CS08)) is not None:
        # no version held, or the part holding it has failed (a lab's fault): readFailure
        version, code = b"\x00\x00\x00\x00", FirmwareReadResponseCode.READ_FAILURE
    tx.log("event", f"firmware version read: {version.hex()}")
    answer = ReadFirmwareVersionResponse(version, code)
    return asn1_response(credentials, tx, accepted, answer, critical=False)


def _acb(credentials: Credentials) -> Eui64 | None:
    if credentials.acbs:
        return credentials.acbs[0]
    anchor = credentials.anchor(Role.ACCESS_CONTROL_BROKER)
    return None if anchor is None else anchor.eui


def receive_and_activate(tx: Tx, data: bytes) -> ActivateImageResponse:
    """Verify a delivered image and, when good, run it now (nothing changes when bad)."""
    image = firmware_image.verify_image(tx, data)
    if image is None:
        tx.log(
            "security",
            "firmware image verification failed",
            firmware_image.ALERT_VERIFICATION_FAILED,
        )
        return ActivateImageResponse.FAILURE
    tx.log("event", f"firmware image {image.version.hex()} verified", firmware_image.ALERT_VERIFIED)
    tx.put(firmware_image.PENDING_IMAGE, data)
    outcome = firmware_image.activate(tx, image.image_hash)
    if outcome.response_code is not ActivationResponseCode.SUCCESS:  # pragma: no cover
        return ActivateImageResponse.FAILURE
    return ActivateImageResponse.SUCCESS


def activation_alert(
    tx: Tx, credentials: Credentials, outcome: ActivateImageResponse
) -> bytes | None:
    """The signed CS09 alert for the ACB (``None``: no ACB known to send it to)."""
    recipient = _acb(credentials)
    if recipient is None:
        return None
    payload = FirmwareActivationAlert(
        AlertCode(ALERT_FIRMWARE_ACTIVATION),
        device_time(tx).replace(microsecond=0),
        firmware_image.running_version(tx, b"\x00\x00\x00\x00"),
        outcome,
    )
    return asn1_alert(tx, credentials, recipient, CS09, payload)


def on_image(machine: CommandMachine, tx: Tx, data: bytes) -> None:
    """The PPMID's ``ota`` port: a frame of the hub's block transfer
    (:mod:`smemu.firmware.ota_client`), else a whole image (bench load); a whole image is
    verified, activated and alerted (CS09)."""
    if not ota_client.is_server_frame(data):
        _received(machine, tx, data)
        return
    ota_client.on_frame(tx, machine.eui, data, lambda image: _received(machine, tx, image))


def _received(machine: CommandMachine, tx: Tx, data: bytes) -> bool:
    outcome = receive_and_activate(tx, data)
    alert = activation_alert(tx, machine.credentials, outcome)
    if alert is None:
        tx.log("trace", "CS09 not sent: no access control broker")
    else:
        machine.send(tx, machine.UPLINK, alert)
        tx.tally("sent")
    return outcome is ActivateImageResponse.SUCCESS
