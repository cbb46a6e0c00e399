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
  when the hub holds nothing for that device);
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

The GSME is not nudged: its radio is off between wakes, so an Image Notify would be lost;
it asks itself whenever it wakes (:mod:`smemu.firmware.gsme_firmware`) and resumes there.

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


def file_version(version: bytes) -> int | None:
    """The OTA file version of a GBCS firmware version (4 octets), else None."""
    return int.from_bytes(version, "big") if len(version) == 4 else None


def _key(target: Eui64) -> str:
    return PREFIX + bytes(target).hex()


def offer_of(tx: Tx, target: Eui64) -> Offer | None:
    raw = tx.get(_key(target))
    return None if raw is None else Offer(**json.loads(raw))


def _save(tx: Tx, target: Eui64, item: Offer) -> None:
    tx.put(_key(target), json.dumps(asdict(item), sort_keys=True).encode())


def _send(tx: Tx, target: Eui64, command: ota.OtaCommand) -> None:
    seq = (tx.get_int(SEQUENCE) + 1) & 0xFF
    tx.put_int(SEQUENCE, seq)
    tx.send(OTA_PORT, ota.OtaFrame(seq, command).encode(), target)


def _notify(tx: Tx, target: Eui64, item: Offer) -> None:
    _send(tx, target, ota.ImageNotify(3, 100, item.manufacturer, IMAGE_TYPE, item.version))


def offer(tx: Tx, target: Eui64, data: bytes, image: FirmwareImage) -> None:
    """Hold ``data`` for ``target`` and tell it (Image Notify)."""
    version = file_version(image.version)
    assert version is not None  # chf_firmware refuses other versions
    item = Offer(image.manufacturer_id, version, len(data), (tx.now + NUDGE).isoformat())
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


def next_nudge(tx: Tx) -> datetime | None:
    """The earliest nudge deadline of the offers held (None: none held)."""
    dues = [datetime.fromisoformat(o.nudge) for t in _targets(tx) if (o := offer_of(tx, t))]
    return min(dues) if dues else None


def nudge_due(tx: Tx) -> None:
    """Image Notify again to every device silent past its nudge deadline (not the sleeping
    GSME: it asks when it wakes)."""
    gsme = tx.get(GSME_EUI)
    for target in _targets(tx):
        item = offer_of(tx, target)
        if item is None or datetime.fromisoformat(item.nudge) > tx.now:
            continue
        item = replace(item, nudge=(tx.now + NUDGE).isoformat())
        _save(tx, target, item)
        if gsme is not None and bytes(target) == gsme:
            continue
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


def on_client_frame(tx: Tx, data: bytes, sender: Eui64 | None = None) -> None:
    """Answer a device's OTA frame (``sender EUI | frame``, see :func:`is_client_frame`);
    ``sender`` is who the medium says sent it: a frame naming another device is dropped."""
    source = Eui64(data[:8])
    if sender is not None and sender != source:
        tx.log("security", f"OTA frame from {sender} naming {source}: dropped")
        tx.tally("ota_spoofed")
        return
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
            return
        _save(tx, source, item)
        answer = ota.QueryNextImageResponse(
            ota.OtaStatus.SUCCESS, item.manufacturer, IMAGE_TYPE, item.version, item.size
        )
        _send(tx, source, answer)
    elif isinstance(command, ota.ImageBlockRequest):
        image = tx.get(_key(source) + "/image")
        if item is None or image is None or not matches:
            _send(tx, source, ota.ImageBlockAbort(ota.OtaStatus.ABORT))
            return
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
            return
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


def offer_of_nvm(nvm: Mapping[str, bytes], target: Eui64) -> Offer | None:
    """The offer held for ``target`` read from a hub's NVM (inspection, tests)."""
    raw = nvm.get(_key(target))
    return None if raw is None else Offer(**json.loads(raw))
