"""Firmware images on the meter: receipt, verification, storage, activation (CS06), version.

Layer: firmware. Issue 6 "Firmware images (flashing)"; gbcs-reference.md 7.8 (CS06 payloads),
7.9 (Firmware Distribution Receipt Alert, 0x00CE: alert 0x8F72 verified / 0x8F1C failed,
carrying the calculated manufacturer image hash) and 9.3 (future-dated execution).

Image format (ours: GBCS leaves the manufacturer image opaque and names only its hash)
---------------------------------------------------------------------------------------
::

    offset  size  field
    0       4     magic  b"SMFW"
    4       1     format version (1)
    5       2     manufacturer identifier (big-endian)
    7       1     n = length of the firmware version
    8       n     firmware version (what ECS52 / CS06 report, e.g. 01 23 AB CF)
    8+n     32    SHA-256 of the body
    40+n    4     body length L (big-endian)
    44+n    L     body (the program)
    44+n+L  64    manufacturer signature: ECDSA P-256 / SHA-256, raw r||s, over bytes [0, 44+n+L)

The *manufacturer image hash* (the value CS06 names and the receipt alert carries) is
SHA-256 over everything but the signature. The device trusts one manufacturer key: its
public point X||Y in NVM ``fw/manufacturer`` (:func:`manufacturer_writes`).

Theory of operation
-------------------
:func:`receive_image` (the end of a distribution: CS05 delivers the image over the HAN in
blocks, :mod:`smemu.firmware.ota_client`)
parses the image, checks the body hash, the manufacturer identifier and the signature, and
only then stores it as the *pending* image (``fw/image``) -- a bad image changes nothing but
the alert counter, so it never replaces a good pending or running one. Either way the
supplier gets the 0x00CE alert with the calculated hash.

CS06 (0x0012) activates the pending image whose hash the command names: now (no
execution date-time, or one not after the device's time), later (a future-dated
instruction in the machine's queue, answered with ``CommandAccepted``), or cancels the
pending activation (the date-time 9999-12-31T23:59:59Z). Outcomes: success (the new version
runs: ``fw/version``), noImageHeld, hashMismatch. The future-dated outcome goes out as the
ActivateFirmwareAlert (0x00CA, 8F66 / 8F67).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from smemu.errors import DecodeError
from smemu.firmware import ota_client
from smemu.firmware.asn1_respond import (
    HandlerTable,
    asn1_alert,
    asn1_response,
    command_payload,
    device_time,
)
from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.future import ALERT_EXECUTED, FutureItem
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.protocols.asn1 import ActivateFirmwareAlert, ActivateFirmwareCommand
from smemu.protocols.asn1.firmware import (
    ActivateFirmwareExecutionOutcome,
    ActivateFirmwareResponse,
    ActivationResponseCode,
)
from smemu.protocols.asn1.values import AlertCode
from smemu.protocols.dlms.data import OctetString
from smemu.protocols.security import ecdsa
from smemu.protocols.security.keys import PrivateKey, public_key_from_point

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

MAGIC: Final = b"SMFW"
FORMAT_VERSION: Final = 1
SIGNATURE_LENGTH: Final = 64
#: NVM keys
FIRMWARE_VERSION: Final = "fw/version"  #: the running version (shared with the ESME's ECS52)
ACTIVE_HASH: Final = "fw/active_hash"  #: manufacturer image hash of the running image
PENDING_IMAGE: Final = "fw/image"  #: the verified, not yet activated image
MANUFACTURER_KEY: Final = "fw/manufacturer"  #: trusted manufacturer public point X||Y
MANUFACTURER_ID: Final = "fw/manufacturer_id"  #: the only manufacturer id accepted
#: Message codes and alert codes.
CS06: Final = 0x0012
ACTIVATION_ALERT: Final = 0x00CA
RECEIPT_ALERT: Final = 0x00CE
ALERT_VERIFIED: Final = 0x8F72  #: firmware verification successful
ALERT_VERIFICATION_FAILED: Final = 0x8F1C  #: firmware verification failed
#: executionDateTime meaning "cancel the pending activation"
CANCEL_TIME: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FUTURE_IDENTITY: Final = "asn1/cs06"
_HEADER_FIXED: Final = 8


@dataclass(frozen=True, slots=True)
class FirmwareImage:
    """A parsed image (see the module docstring for the layout)."""

    manufacturer_id: int
    version: bytes
    body_hash: bytes
    body: bytes
    signature: bytes
    signed: bytes  #: the bytes the signature covers (header and body)

    @property
    def image_hash(self) -> bytes:
        """The manufacturer image hash: SHA-256 of everything but the signature."""
        return hashlib.sha256(self.signed).digest()

    @classmethod
    def decode(cls, data: bytes) -> FirmwareImage:
        """Parse an image.

        :raises DecodeError: truncated, wrong magic or format, or trailing bytes.
        """
        if len(data) < _HEADER_FIXED or data[:4] != MAGIC:
            raise DecodeError("not a firmware image (magic)", path="image.magic", offset=0)
        if data[4] != FORMAT_VERSION:
            raise DecodeError(f"image format {data[4]} unknown", path="image.format", offset=4)
        manufacturer = int.from_bytes(data[5:7], "big")
        n = data[7]
        pos = _HEADER_FIXED + n
        if len(data) < pos + 36:
            raise DecodeError("image header truncated", path="image.header", offset=len(data))
        version = data[_HEADER_FIXED:pos]
        body_hash = data[pos : pos + 32]
        length = int.from_bytes(data[pos + 32 : pos + 36], "big")
        start = pos + 36
        end = start + length
        if len(data) != end + SIGNATURE_LENGTH:
            raise DecodeError(
                f"image length {len(data)}, header says {end + SIGNATURE_LENGTH}",
                path="image.body",
                offset=start,
            )
        return cls(manufacturer, version, body_hash, data[start:end], data[end:], data[:end])


def build_image(manufacturer_id: int, version: bytes, body: bytes, sign: PrivateKey) -> bytes:
    """Make an image signed with the manufacturer key ``sign`` (tools and tests use this)."""
    signed = b"".join(
        (
            MAGIC,
            bytes((FORMAT_VERSION,)),
            manufacturer_id.to_bytes(2, "big"),
            bytes((len(version),)),
            version,
            hashlib.sha256(body).digest(),
            len(body).to_bytes(4, "big"),
            body,
        )
    )
    return signed + ecdsa.sign(sign, signed)


def manufacturer_writes(
    public_point: bytes, manufacturer_id: int | None = None
) -> dict[str, bytes]:
    """NVM entries that make a device trust a manufacturer key (provisioning)."""
    writes = {MANUFACTURER_KEY: public_point}
    if manufacturer_id is not None:
        writes[MANUFACTURER_ID] = manufacturer_id.to_bytes(2, "big")
    return writes


def verify_image(tx: Tx, data: bytes) -> FirmwareImage | None:
    """The image when it parses, names our manufacturer, hashes and verifies; else None."""
    try:
        image = FirmwareImage.decode(data)
    except DecodeError:
        return None
    if hashlib.sha256(image.body).digest() != image.body_hash:
        return None
    wanted = tx.get(MANUFACTURER_ID)
    if wanted is not None and int.from_bytes(wanted, "big") != image.manufacturer_id:
        return None
    point = tx.get(MANUFACTURER_KEY)
    if point is None:
        return None
    try:
        return (
            image
            if ecdsa.verify(public_key_from_point(point), image.signed, image.signature)
            else None
        )
    except Exception:
        return None


def receive_image(tx: Tx, credentials: Credentials, data: bytes) -> bytes | None:
    """Take a delivered image: verify, store when good, and build the 0x00CE receipt alert.

    :returns: the alert for the supplier (``None`` when the device has no supplier anchor).
    """
    image = verify_image(tx, data)
    calculated = hashlib.sha256(
        data[:-SIGNATURE_LENGTH] if len(data) > SIGNATURE_LENGTH else data
    ).digest()
    if image is None:
        tx.log("security", "firmware image verification failed", ALERT_VERIFICATION_FAILED)
        code = ALERT_VERIFICATION_FAILED
    else:
        tx.put(PENDING_IMAGE, data)
        tx.log("event", f"firmware image {image.version.hex()} verified", ALERT_VERIFIED)
        code = ALERT_VERIFIED
    supplier = credentials.anchor(Role.SUPPLIER)
    if supplier is None:
        return None
    return respond.dlms_alert(
        tx, credentials, supplier.eui, code, (OctetString(calculated),), message_code=RECEIPT_ALERT
    )


def on_image(machine: CommandMachine, tx: Tx, data: bytes) -> None:
    """Device entry point for the ``ota`` port.

    A frame of the hub's block transfer (:mod:`smemu.firmware.ota_client`) drives the
    download; when the last block is in, the image is taken as below. Anything else is a
    whole image loaded directly (e.g. on a bench): verified and stored, and the receipt
    alert goes up the uplink at once (a bad image only raises the failure alert).
    """
    if not ota_client.is_server_frame(data):
        _received(machine, tx, data)
        return
    ota_client.on_frame(tx, machine.eui, data, lambda image: _received(machine, tx, image))


def _received(machine: CommandMachine, tx: Tx, data: bytes) -> bool:
    alert = receive_image(tx, machine.credentials, data)
    if alert is not None:
        machine.send(tx, machine.UPLINK, alert)
        tx.tally("sent")
    return tx.get(PENDING_IMAGE) == data


def running_version(tx: Tx, default: bytes = bytes.fromhex("01000000")) -> bytes:
    return tx.get(FIRMWARE_VERSION) or default


def activation_outcome(tx: Tx, image_hash: bytes) -> ActivateFirmwareExecutionOutcome:
    """What activating the image with ``image_hash`` would do now (nothing is written)."""
    raw = tx.get(PENDING_IMAGE)
    if raw is None:
        code = ActivationResponseCode.NO_IMAGE_HELD
    elif FirmwareImage.decode(raw).image_hash != image_hash:
        code = ActivationResponseCode.HASH_MISMATCH
    else:
        code = ActivationResponseCode.SUCCESS
    return ActivateFirmwareExecutionOutcome(code, running_version(tx))


def activate(tx: Tx, image_hash: bytes) -> ActivateFirmwareExecutionOutcome:
    """Activate the pending image if its hash is ``image_hash``; the outcome either way."""
    outcome = activation_outcome(tx, image_hash)
    if outcome.response_code is not ActivationResponseCode.SUCCESS:
        return outcome
    raw = tx.get(PENDING_IMAGE)
    assert raw is not None
    image = FirmwareImage.decode(raw)
    tx.put(FIRMWARE_VERSION, image.version)
    tx.put(ACTIVE_HASH, image.image_hash)
    tx.delete(PENDING_IMAGE)
    tx.log("event", f"firmware {image.version.hex()} activated")
    return ActivateFirmwareExecutionOutcome(ActivationResponseCode.SUCCESS, image.version)


# ------------------------------------------------------------------------------- handlers


def cs06_activate(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS06 Activate Firmware: now, future-dated, or cancel."""
    creds = machine.credentials
    command = command_payload(accepted)
    if not isinstance(command, ActivateFirmwareCommand):
        raise DecodeError("CS06 payload is not ActivateFirmwareCommand", path="asn1", offset=0)
    at = command.execution_date_time
    header = accepted.command.header
    if at is not None and at >= CANCEL_TIME:
        machine.cancel_future(tx, FUTURE_IDENTITY)
        return asn1_response(creds, tx, accepted, ActivateFirmwareResponse(), dated=True)
    if at is not None and at > device_time(tx):
        machine.schedule_future(
            tx,
            FutureItem(
                FUTURE_IDENTITY,
                at,
                header.other_information.message_code,
                header.originator,
                header.originator_counter,
                b"",
                "extension_future",
                command.manufacturer_image_hash,
            ),
        )
        return asn1_response(creds, tx, accepted, ActivateFirmwareResponse(), dated=True)
    outcome = activate(tx, command.manufacturer_image_hash)
    return asn1_response(creds, tx, accepted, ActivateFirmwareResponse(outcome), dated=True)


def future_activate(tx: Tx, item: FutureItem) -> bool:
    """The future-dated CS06 instruction at its time (True: the new image runs)."""
    return activate(tx, item.data).response_code is ActivationResponseCode.SUCCESS


def future_alert(tx: Tx, credentials: Credentials, item: FutureItem, alert_code: int) -> bytes:
    """The ActivateFirmwareAlert (0x00CA) for a future-dated CS06 that ran or failed."""
    if alert_code == ALERT_EXECUTED:
        outcome = ActivateFirmwareExecutionOutcome(
            ActivationResponseCode.SUCCESS, running_version(tx)
        )
    else:
        outcome = activation_outcome(tx, item.data)
        if outcome.response_code is ActivationResponseCode.SUCCESS:
            outcome = ActivateFirmwareExecutionOutcome(
                ActivationResponseCode.ACTIVATION_FAILURE, outcome.firmware_version
            )
    payload = ActivateFirmwareAlert(AlertCode(alert_code), item.at, item.counter, outcome)
    return asn1_alert(tx, credentials, item.originator, ACTIVATION_ALERT, payload)


HANDLERS: Final[HandlerTable] = {CS06: cs06_activate}
