"""Firmware images on the sleeping gas meter: download across wakes, GBZ receipt (0x00CF).

Layer: firmware. Use Case volume: CS05b distributes an image to an ESME or a GSME (GBCS
11.3-11.4); the GSME's "Firmware Distribution Receipt Alert (GSME)" (message code 0x00CF,
GBCS 11.2.6) is a GBZ alert sent on verified receipt; CS06 Activate Firmware (ASN.1) applies
to the GSME as to the ESME (:mod:`smemu.firmware.firmware_image`).

Theory of operation
-------------------
The hub's Image Notify finds the GSME's radio off, so the GSME asks itself: at every wake
:func:`wake` sends Query Next Image Request on ``ota`` (:func:`smemu.firmware.ota_client.
query`). The hub answers NO_IMAGE_AVAILABLE, or names the image and the download starts or
resumes from the offset kept in NVM. While an OTA exchange is open (NVM :data:`OTA_OPEN`)
the GSME stays awake: each frame from the hub pushes its sleep guard back; the exchange
closes with NO_IMAGE_AVAILABLE, an ABORT, the Upgrade End Response, or when the wake's
block budget (NVM :data:`BLOCKS_PER_WAKE`, default :data:`DEFAULT_BLOCKS_PER_WAKE`) is spent
-- then the download pauses and the next wake resumes it.

With the whole image in, the GSME verifies it exactly as a meter does
(:func:`~smemu.firmware.firmware_image.verify_image`), keeps it as the pending image when
good, and sends the supplier the GBZ receipt alert: message code 0x00CF, alert code 0x8F72
(verified) or 0x8F1C (failed), one alert detail ``09 20 | calculated image hash``, signed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

from smemu.firmware import firmware_image, ota_client
from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.machine import Tx
from smemu.protocols.zigbee import gbz, ota

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

OTA_PORT: Final = ota_client.OTA_PORT
#: message code of the Firmware Distribution Receipt Alert (GSME)
RECEIPT_ALERT: Final = 0x00CF
#: NVM: 1 while an OTA exchange with the hub is open (keeps the radio on)
OTA_OPEN: Final = "fw/ota_open"
#: NVM: blocks received in this wake
BLOCKS_THIS_WAKE: Final = "fw/ota_wake_blocks"
#: NVM: most blocks asked for in one wake (the radio's energy budget)
BLOCKS_PER_WAKE: Final = "fw/ota_blocks_per_wake"
DEFAULT_BLOCKS_PER_WAKE: Final = 32
#: the octet-string(32) tag of the alert detail
_HASH_DETAIL: Final = b"\x09\x20"


def receipt_alert(tx: Tx, credentials: Credentials, data: bytes) -> bytes | None:
    """Verify a delivered image, keep it when good, and build the signed GBZ 0x00CF alert.

    :returns: the alert for the supplier (``None``: no supplier anchor to send it to).
    """
    image = firmware_image.verify_image(tx, data)
    cut = firmware_image.SIGNATURE_LENGTH
    signed = data[:-cut] if len(data) > cut else data
    calculated = hashlib.sha256(signed).digest()
    if image is None:
        code = firmware_image.ALERT_VERIFICATION_FAILED
        tx.log("security", "firmware image verification failed", code)
    else:
        code = firmware_image.ALERT_VERIFIED
        tx.put(firmware_image.PENDING_IMAGE, data)
        tx.log("event", f"firmware image {image.version.hex()} verified", code)
    supplier = credentials.anchor(Role.SUPPLIER)
    if supplier is None:
        return None
    alert = gbz.GbzAlert(code, respond.seconds_since_2000(tx.now), _HASH_DETAIL + calculated, 1)
    return respond.gbz_alert(
        tx, credentials, supplier.eui, alert, message_code=RECEIPT_ALERT, critical=True
    )


def wake(machine: CommandMachine, tx: Tx) -> None:
    """The radio is on: ask the hub for an image (resuming any download held)."""
    tx.put_int(BLOCKS_THIS_WAKE, 0)
    tx.put_int(OTA_OPEN, 1)
    manufacturer = tx.get(firmware_image.MANUFACTURER_ID)
    code = 0 if manufacturer is None else int.from_bytes(manufacturer, "big")
    ota_client.query(tx, machine.eui, code)


def asleep(tx: Tx) -> None:
    """The radio is off: the exchange, if any, is over for this wake."""
    tx.delete(OTA_OPEN)


def is_open(tx: Tx) -> bool:
    """True while an OTA exchange keeps the GSME awake."""
    return tx.get_int(OTA_OPEN) == 1


def _budget_left(tx: Tx) -> bool:
    used = tx.get_int(BLOCKS_THIS_WAKE) + 1
    tx.put_int(BLOCKS_THIS_WAKE, used)
    return used < tx.get_int(BLOCKS_PER_WAKE, DEFAULT_BLOCKS_PER_WAKE)


def on_frame(machine: CommandMachine, tx: Tx, data: bytes) -> bool:
    """The GSME's ``ota`` port; True when the exchange with the hub stays open.

    A frame of the hub's block transfer drives the download; anything else is a whole image
    loaded directly (a bench): verified, kept when good, receipt alert sent.
    """
    if not ota_client.is_server_frame(data):
        _received(machine, tx, data)
        return is_open(tx)
    paused: list[bool] = []

    def more() -> bool:
        left = _budget_left(tx)
        if not left:
            paused.append(True)
        return left

    ota_client.on_frame(tx, machine.eui, data, lambda image: _received(machine, tx, image), more)
    command = ota.decode_exact(data).command
    closed = (
        bool(paused)
        or isinstance(command, ota.ImageBlockAbort | ota.UpgradeEndResponse)
        or (
            isinstance(command, ota.QueryNextImageResponse)
            and command.status != ota.OtaStatus.SUCCESS
        )
    )
    if closed:
        asleep(tx)
    else:
        tx.put_int(OTA_OPEN, 1)  # an Image Notify heard while awake opens one too
    return not closed


def _received(machine: CommandMachine, tx: Tx, data: bytes) -> bool:
    alert = receipt_alert(tx, machine.credentials, data)
    if alert is None:
        tx.log("trace", "GSME receipt alert not sent: no supplier anchor")
    else:
        machine.send(tx, machine.UPLINK, alert)
        tx.tally("sent")
    return tx.get(firmware_image.PENDING_IMAGE) == data
