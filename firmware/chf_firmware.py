"""CS05a-c on the comms hub: distributing a firmware image to a HAN device, CCS08 outcome.

Layer: firmware. Use Case volume CS05a/b/c (Distribute Firmware; GBCS 11.3-11.4, 11.6) and
CCS08 Firmware Transfer Alert (0x0128, payload in gbcs-reference.md 7.8).

Theory of operation
-------------------
An image does not reach the hub as a GBCS command: the DCC delivers it over the WAN with the
device it is for. Here that is one message on the CHF's ``ota`` port::

    offset  size  field
    0       8     target device (EUI-64)
    8       n     the image (:mod:`smemu.firmware.firmware_image` layout), bare or inside
                  a ZigBee OTA Upgrade file (:mod:`smemu.protocols.zigbee.ota_file`)

When the image comes in an OTA file whose header names a minimum and maximum hardware
version, the offer carries that range; a target whose Query Next Image Request names a
hardware version outside it gets no image (the offer is withdrawn, no block is sent) and the
CCS08 outcome is ``hardwareVersionMismatch``. An OTA file without the range fits every
hardware version.

The CHF reads the image header only far enough to know its firmware version (the receiving
device, not the hub, verifies the manufacturer's signature: the hub holds no manufacturer
key). It then

* discards the image -- CCS08 ``imageDiscarded`` -- when it is not an image or the target
  is not a HAN device in the CHF device log;
* discards it too when its version is not the 4 octets an OTA file version holds;
* otherwise offers it to the target block by block as the ZigBee OTA Upgrade server
  (:mod:`smemu.firmware.chf_ota`: Image Notify, then the blocks the device asks for on the
  ``ota`` port) and waits for the target's distribution receipt
  (:mod:`smemu.firmware.chf_delivery`): CCS08 ``success`` when it arrives,
  ``fileTransferFailure`` when the transfer window passes first.

The same ``ota`` port brings the devices' OTA requests (``sender EUI | OTA frame``,
:func:`smemu.firmware.chf_ota.is_client_frame`): :func:`distribute` answers those and
reports nothing -- but a hardware version mismatch, whose wait for the receipt ends there.

CCS08 goes to the Access Control Broker, signed (alert code 0x8F8A).
"""

from __future__ import annotations

from typing import Final

from smemu.errors import DecodeError
from smemu.firmware import chf_delivery, chf_log, chf_ota
from smemu.firmware.asn1_respond import asn1_alert
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.firmware.firmware_image import FirmwareImage
from smemu.protocols.asn1 import FirmwareTransferAlert
from smemu.protocols.asn1.firmware import FirmwareTransferResponseCode
from smemu.protocols.asn1.values import AlertCode
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import ota_file

OTA: Final = "ota"  #: the port images arrive on (hub) and leave by (to the target)
_EUI: Final = 8


def envelope(target: Eui64, image: bytes) -> bytes:
    """The ``ota`` message that asks the hub to distribute ``image`` to ``target``."""
    return bytes(target) + image


def transfer_alert(
    tx: Tx,
    credentials: Credentials,
    recipient: Eui64,
    target: Eui64,
    *,
    version: bytes,
    outcome: FirmwareTransferResponseCode,
) -> bytes:
    """The signed CCS08 alert for one distribution."""
    payload = FirmwareTransferAlert(
        AlertCode(chf_delivery.ALERT_FIRMWARE_TRANSFER), tx.now, target, version, outcome
    )
    return asn1_alert(tx, credentials, recipient, chf_delivery.CCS08, payload)


def _unwrap(image: bytes) -> tuple[bytes, tuple[int, int] | None]:
    """The image inside an OTA Upgrade file, with the file's hardware range (a bare image:
    itself, no range)."""
    if image[:4] != ota_file.FILE_IDENTIFIER.to_bytes(4, "little"):
        return image, None
    header, inner = ota_file.decode_exact(image)
    return inner, header.hardware_versions


def distribute(
    tx: Tx, data: bytes, sender: Eui64 | None = None
) -> tuple[Eui64 | None, bytes, FirmwareTransferResponseCode]:
    """Take an ``ota`` message: (target, version, outcome so far).

    ``SUCCESS`` means the image is offered to the target and the receipt is awaited
    (nothing to report yet), or the message was a device's OTA request (answered; the
    target is then None); ``IMAGE_DISCARDED`` is the CCS08 to send now, and so is
    ``HARDWARE_VERSION_MISMATCH`` (a device's request the image does not fit). ``sender``
    is who the medium says sent a device's request (:func:`chf_ota.on_client_frame`).
    """
    if chf_ota.is_client_frame(data):
        withdrawn = chf_ota.on_client_frame(tx, data, sender)
        if withdrawn is None:
            return None, b"", FirmwareTransferResponseCode.SUCCESS
        chf_delivery.withdraw_image(tx, withdrawn.target)
        return withdrawn.target, withdrawn.version, withdrawn.outcome
    if len(data) <= _EUI:
        tx.log("event", "firmware distribution without target or image: discarded")
        return None, b"", FirmwareTransferResponseCode.IMAGE_DISCARDED
    target, image = Eui64(data[:_EUI]), data[_EUI:]
    try:
        image, hardware = _unwrap(image)
        parsed = FirmwareImage.decode(image)
    except DecodeError as exc:
        tx.log("event", f"firmware image for {target} discarded: {exc}")
        return target, b"", FirmwareTransferResponseCode.IMAGE_DISCARDED
    version = parsed.version
    if chf_ota.file_version(version) is None:
        tx.log("event", f"firmware image for {target} discarded: version is not 4 octets")
        return target, version, FirmwareTransferResponseCode.IMAGE_DISCARDED
    if target.hex() not in chf_log.device_log(tx):
        tx.log("event", f"firmware image for {target} discarded: not in the CHF device log")
        return target, version, FirmwareTransferResponseCode.IMAGE_DISCARDED
    chf_ota.forget(tx, target)  # a newer image replaces one still on offer
    chf_ota.offer(tx, target, image, parsed, hardware)
    chf_delivery.track_image(tx, target, version)
    tx.log("event", f"firmware image {version.hex()} offered to {target}")
    tx.tally("distributed")
    return target, version, FirmwareTransferResponseCode.SUCCESS
