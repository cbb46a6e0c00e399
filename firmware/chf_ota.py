"""The comms hub as ZigBee OTA Upgrade server: an image handed out block by block (CS05b/c).

Layer: firmware. Use Case volume CS05a-c (Distribute Firmware, GBCS 11.3-11.4); the frames are
the OTA Upgrade cluster's (:mod:`smemu.protocols.zigbee.ota`).

Theory of operation
-------------------
:func:`offer` keeps the image for its target (NVM ``chf/ota/<eui hex>`` the transfer facts,
``chf/ota/<eui hex>/image`` the octets) and sends Image Notify (payload type 3: manufacturer
code, image type :data:`IMAGE_TYPE`, file version = the image's 4-octet version, jitter 100).
The device drives the download; the hub answers what it asks:

* Query Next Image Request -> Query Next Image Response with the size (NO_IMAGE_AVAILABLE
  when the hub holds nothing for that device). When the image came with a hardware version
  range (its ZigBee OTA file header, :mod:`smemu.protocols.zigbee.ota_file`) and the request
  names a hardware version outside it, the offer is withdrawn (NO_IMAGE_AVAILABLE, no block
  is ever served) and :func:`on_client_frame` returns the CCS08 outcome
  ``hardwareVersionMismatch`` for the caller to report;
* Image Block Request -> Image Block Response with the octets from the requested offset,
  at most what the device asked for and what fits a HAN frame (:data:`MAX_BLOCK`); ABORT
  for an image the hub does not hold;
* Upgrade End Request -> Upgrade End Response with upgrade time 0xFFFFFFFF (activation is
  CS06's, never the hub's) and the transfer is forgotten. The outcome the hub reports
  (CCS08) comes from the device's receipt alert (:mod:`smemu.firmware.chf_delivery`).

A device that stops asking -- a frame lost on the air, a restart, a battery device asleep --
is *nudged*: when :data:`NUDGE` passes without a request the hub sends Image Notify again
and the device resumes from what it kept (its blocks are in NVM). The nudge deadline shares
the delivery timer (:func:`next_nudge`, :func:`nudge_due`); the transfer window of
:mod:`chf_delivery` ends the offer (:func:`forget`).

The GSME is not nudged (its offer has no nudge deadline): its radio is off between wakes,
so an Image Notify would be lost; it asks itself whenever it wakes
(:mod:`smemu.firmware.gsme_firmware`) and resumes there. Its offer lasts the GSME's
transfer window (days, :func:`smemu.firmware.chf_delivery.transfer_window`) with no timer
in between.

On the ``ota`` medium a device's frame carries its sender (the ZigBee network header's source
address): ``sender EUI-64(8) | OTA frame``; the hub's frames to a device are the bare OTA frame.
When the medium tells the hub who sent the frame, a frame naming anyone else is dropped
(:func:`on_client_frame`'s ``source``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.han import MAX_TRANSFER_SIZE
from smemu.firmware.common.machine import Tx
from smemu.firmware.firmware_image import FirmwareImage
from smemu.protocols.asn1.firmware import FirmwareTransferResponseCode
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import ota
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER

OTA_PORT: Final = "ota"
PREFIX: Final = "chf/ota/"
SEQUENCE: Final = "chf/ota_seq"
#: NVM key of the GSME the hub serves through its GPF (also ``chf.GSME_EUI``: the hub's
#: machine imports this module, so the key is defined here)
GSME_EUI: Final = "chf/gsme"
#: the image type GBCS images are offered under (one image format for every device here)
IMAGE_TYPE: Final = 0x0000
#: largest block: what an Image Block Response may carry inside one HAN frame
MAX_BLOCK: Final = ota.max_block_data(MAX_TRANSFER_SIZE)
#: silence after which the hub sends Image Notify again
NUDGE: Final = timedelta(minutes=2)
#: Upgrade End Response upgrade time: wait for the activation command
WAIT_FOR_COMMAND: Final = 0xFFFFFFFF
_EPOCH_2000: Final = datetime.fromisoformat("2000-01-01T00:00:00+00:00")


@dataclass(frozen=True, slots=True)
class Offer:
    """One image the hub holds for one device (stored as JSON)."""

    manufacturer: int
    version: int
    size: int
    nudge: str  #: ISO instant of the next Image Notify unless the device asks first
    blocks: int = 0  #: blocks served (inspection)
    hardware: tuple[int, int] | None = None  #: (min, max) hardware version the image fits


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """An offer the hub took back: the CCS08 outcome to report for it."""

    target: Eui64
    version: bytes  #: the image's firmware version (4 octets)
    outcome: FirmwareTransferResponseCode


def file_version(version: bytes) -> int | None:
    """The OTA file version of a GBCS firmware version (4 octets), else None."""
    return int.from_bytes(version, "big") if len(version) == 4 else None


def _key(target: Eui64) -> str:
    return PREFIX + bytes(target).hex()


def _offer(raw: bytes | None) -> Offer | None:
    if raw is None:
        return None
    fields = json.loads(raw)
    if fields.get("hardware") is not None:
        fields["hardware"] = tuple(fields["hardware"])
    return Offer(**fields)


def offer_of(tx: Tx, target: Eui64) -> Offer | None:
    return _offer(tx.get(_key(target)))


def _save(tx: Tx, target: Eui64, item: Offer) -> None:
    tx.put(_key(target), json.dumps(asdict(item), sort_keys=True).encode())


def _send(tx: Tx, target: Eui64, command: ota.OtaCommand) -> None:
    seq = (tx.get_int(SEQUENCE) + 1) & 0xFF
    tx.put_int(SEQUENCE, seq)
    tx.send(OTA_PORT, ota.OtaFrame(seq, command).encode(), target)


def _notify(tx: Tx, target: Eui64, item: Offer) -> None:
    _send(tx, target, ota.ImageNotify(3, 100, item.manufacturer, IMAGE_TYPE, item.version))


def offer(
    tx: Tx,
    target: Eui64,
    data: bytes,
    image: FirmwareImage,
    hardware: tuple[int, int] | None = None,
) -> None:
    """Hold ``data`` for ``target`` and tell it (Image Notify); ``hardware`` is the
    (min, max) hardware version range the image's OTA header names, if it names one."""
    version = file_version(image.version)
    assert version is not None  # chf_firmware refuses other versions
    nudge = (tx.now + NUDGE).isoformat()
    item = Offer(image.manufacturer_id, version, len(data), nudge, hardware=hardware)
    tx.put(_key(target) + "/image", data)
    _save(tx, target, item)
    _notify(tx, target, item)


def forget(tx: Tx, target: Eui64) -> None:
    """Drop what the hub holds for ``target``."""
    tx.delete(_key(target))
    tx.delete(_key(target) + "/image")


def _targets(tx: Tx) -> list[Eui64]:
    return [
        Eui64(bytes.fromhex(k[len(PREFIX) :]))
        for k in tx.keys(PREFIX)
        if not k.endswith("/image")
    ]


def _nudged(tx: Tx) -> list[Eui64]:
    """The targets whose offers are nudged: all but the sleeping GSME (it asks when it
    wakes)."""
    gsme = tx.get(GSME_EUI)
    return [t for t in _targets(tx) if gsme is None or bytes(t) != gsme]


def next_nudge(tx: Tx) -> datetime | None:
    """The earliest nudge deadline of the offers held (None: none to nudge)."""
    dues = [datetime.fromisoformat(o.nudge) for t in _nudged(tx) if (o := offer_of(tx, t))]
    return min(dues) if dues else None


def nudge_due(tx: Tx) -> None:
    """Image Notify again to every device silent past its nudge deadline."""
    for target in _nudged(tx):
        item = offer_of(tx, target)
        if item is None or datetime.fromisoformat(item.nudge) > tx.now:
            continue
        item = replace(item, nudge=(tx.now + NUDGE).isoformat())
        _save(tx, target, item)
        tx.log("trace", f"OTA: {target} silent, image notified again")
        tx.tally("ota_nudges")
        _notify(tx, target, item)


def is_client_frame(data: bytes) -> bool:
    """True when ``data`` is ``sender EUI | OTA client frame`` (not a WAN envelope)."""
    if len(data) <= 8:
        return False
    try:
        frame = ota.decode_exact(data[8:])
    except DecodeError:
        return False
    return frame.command.DIRECTION == CLIENT_TO_SERVER


def _fits(item: Offer, command: ota.QueryNextImageRequest) -> bool:
    """False when the request names a hardware version outside the image's range."""
    if item.hardware is None or command.hardware_version is None:
        return True
    low, high = item.hardware
    return low <= command.hardware_version <= high


def on_client_frame(tx: Tx, data: bytes, sender: Eui64 | None = None) -> Withdrawn | None:
    """Answer a device's OTA frame (``sender EUI | frame``, see :func:`is_client_frame`);
    ``sender`` is who the medium says sent it: a frame naming another device is dropped.

    Returns the offer withdrawn because the device's hardware version is outside the
    image's range (the caller reports it, CCS08), else None.
    """
    source = Eui64(data[:8])
    if sender is not None and sender != source:
        tx.log("security", f"OTA frame from {sender} naming {source}: dropped")
        tx.tally("ota_spoofed")
        return None
    command = ota.decode_exact(data[8:]).command
    item = offer_of(tx, source)
    if item is not None:  # the device is talking: push the nudge back
        item = replace(item, nudge=(tx.now + NUDGE).isoformat())
    matches = (
        item is not None
        and getattr(command, "file_version", item.version) == item.version
        and getattr(command, "image_type", IMAGE_TYPE) == IMAGE_TYPE
    )
    if isinstance(command, ota.QueryNextImageRequest):
        if item is None:
            _send(tx, source, ota.QueryNextImageResponse(ota.OtaStatus.NO_IMAGE_AVAILABLE))
            return None
        if not _fits(item, command):
            forget(tx, source)
            tx.log(
                "event",
                f"OTA: {source} hardware version {command.hardware_version:#06x} outside "
                f"the image's {item.hardware}: offer withdrawn",
            )
            _send(tx, source, ota.QueryNextImageResponse(ota.OtaStatus.NO_IMAGE_AVAILABLE))
            return Withdrawn(
                source,
                item.version.to_bytes(4, "big"),
                FirmwareTransferResponseCode.HARDWARE_VERSION_MISMATCH,
            )
        _save(tx, source, item)
        answer = ota.QueryNextImageResponse(
            ota.OtaStatus.SUCCESS, item.manufacturer, IMAGE_TYPE, item.version, item.size
        )
        _send(tx, source, answer)
    elif isinstance(command, ota.ImageBlockRequest):
        image = tx.get(_key(source) + "/image")
        if item is None or image is None or not matches:
            _send(tx, source, ota.ImageBlockAbort(ota.OtaStatus.ABORT))
            return None
        size = min(command.maximum_data_size, MAX_BLOCK)
        start = command.file_offset
        block = ota.ImageBlock(
            item.manufacturer, IMAGE_TYPE, item.version, start, image[start : start + size]
        )
        _save(tx, source, replace(item, blocks=item.blocks + 1))
        _send(tx, source, block)
        tx.tally("ota_blocks")
    elif isinstance(command, ota.UpgradeEndRequest):
        if item is None or not matches:
            return None
        forget(tx, source)
        seconds = int((tx.now - _EPOCH_2000).total_seconds())
        tx.log("event", f"OTA: {source} ended its download, status {command.status:#04x}")
        _send(
            tx,
            source,
            ota.UpgradeEndResponse(
                item.manufacturer, IMAGE_TYPE, item.version, seconds, WAIT_FOR_COMMAND
            ),
        )
    return None


def offer_of_nvm(nvm: Mapping[str, bytes], target: Eui64) -> Offer | None:
    """The offer held for ``target`` read from a hub's NVM (inspection, tests)."""
    return _offer(nvm.get(_key(target)))
