"""A HAN device as ZigBee OTA Upgrade client: download an image in blocks, keep them in NVM.

Layer: firmware. The device side of CS05b/c (the hub side is :mod:`smemu.firmware.chf_ota`);
frames of :mod:`smemu.protocols.zigbee.ota`.

Theory of operation
-------------------
The hub's Image Notify is answered with Query Next Image Request (the running version). The
response names the image (manufacturer, image type, version, size): the download starts, or
resumes when NVM already holds part of that very image (``fw/ota`` the facts and the offset
reached, ``fw/ota/block/<offset>`` each block received). The device asks for one block of at
most :data:`BLOCK` octets at a time, from the offset reached; a block for any other offset or
image is ignored. A lost block or a restart leaves the offset where it was: the hub's next
Image Notify (it nudges a silent device) starts the same exchange and the device asks again
for the block it lacks.

With the whole image in, the blocks are joined and handed to the device's completion (it
verifies with :mod:`smemu.firmware.firmware_image`, keeps the image and sends its receipt),
the blocks are erased, and Upgrade End Request tells the hub SUCCESS or INVALID_IMAGE. An
ABORT from the hub drops the partial download.

A device may also ask on its own (:func:`query`: a battery device that sleeps through the
hub's Image Notify asks whenever it wakes), and may pause a download (the ``more`` gate of
:func:`on_frame`: a sleeping device's radio budget per wake): the next block is then not
asked for, and the next query resumes from the offset reached.

Every frame goes to the hub on ``ota`` as ``own EUI | OTA frame`` (the sender, as the ZigBee
network header would give it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import ota
from smemu.protocols.zigbee.zcl import SERVER_TO_CLIENT

OTA_PORT: Final = "ota"
STATE: Final = "fw/ota"
BLOCKS: Final = "fw/ota/block/"
SEQUENCE: Final = "fw/ota_seq"
#: octets asked for per Image Block Request (an unfragmented ZigBee APS payload holds ~80)
BLOCK: Final = 64
_RUNNING: Final = "fw/version"

#: what the device does with a whole image: True when it verified
Complete = Callable[[bytes], bool]
#: asked before each further block request: False pauses the download (it stays in NVM)
More = Callable[[], bool]


@dataclass(frozen=True, slots=True)
class Download:
    """The image being downloaded and how far (stored as JSON)."""

    manufacturer: int
    image_type: int
    version: int
    size: int
    received: int = 0


def download(tx: Tx) -> Download | None:
    raw = tx.get(STATE)
    return None if raw is None else Download(**json.loads(raw))


def _save(tx: Tx, item: Download) -> None:
    tx.put(STATE, json.dumps(asdict(item), sort_keys=True).encode())


def _clear(tx: Tx) -> None:
    for key in tx.keys(BLOCKS):
        tx.delete(key)
    tx.delete(STATE)


def _send(tx: Tx, eui: Eui64, command: ota.OtaCommand) -> None:
    seq = (tx.get_int(SEQUENCE) + 1) & 0xFF
    tx.put_int(SEQUENCE, seq)
    tx.send(OTA_PORT, bytes(eui) + ota.OtaFrame(seq, command).encode())


def _running(tx: Tx) -> int:
    raw = tx.get(_RUNNING) or b""
    return int.from_bytes(raw[-4:], "big") if raw else 0


def _ask(tx: Tx, eui: Eui64, item: Download) -> None:
    request = ota.ImageBlockRequest(
        0, item.manufacturer, item.image_type, item.version, item.received, BLOCK
    )
    _send(tx, eui, request)


def query(tx: Tx, eui: Eui64, manufacturer: int = 0) -> None:
    """Ask the hub for an image unprompted (Query Next Image Request, running version)."""
    _send(tx, eui, ota.QueryNextImageRequest(0, manufacturer, 0, _running(tx)))


def is_server_frame(data: bytes) -> bool:
    """True when ``data`` is an OTA frame from the hub (an image never is: its magic's first
    octet is a reserved ZCL frame type)."""
    try:
        frame = ota.decode_exact(data)
    except DecodeError:
        return False
    return frame.command.DIRECTION == SERVER_TO_CLIENT


def on_frame(
    tx: Tx, eui: Eui64, data: bytes, complete: Complete, more: More | None = None
) -> None:
    """A frame from the hub on ``ota``; ``eui`` is the device's own address; ``more``
    (default: always) says whether to ask for a further block now."""
    try:
        command = ota.decode_exact(data).command
    except DecodeError as exc:
        tx.log("trace", f"OTA frame dropped: {exc}")
        tx.tally("bad_input")
        return
    if isinstance(command, ota.ImageNotify):
        query = ota.QueryNextImageRequest(0, command.manufacturer_code or 0, 0, _running(tx))
        _send(tx, eui, query)
    elif isinstance(command, ota.QueryNextImageResponse):
        _offered(tx, eui, command, complete)
    elif isinstance(command, ota.ImageBlock):
        _block(tx, eui, command, complete, more)
    elif isinstance(command, ota.ImageBlockAbort):
        tx.log("event", "OTA download aborted by the hub")
        _clear(tx)
    elif isinstance(command, ota.UpgradeEndResponse):
        tx.log("trace", f"OTA upgrade end acknowledged, version {command.file_version:08x}")


def _offered(
    tx: Tx, eui: Eui64, answer: ota.QueryNextImageResponse, complete: Complete
) -> None:
    if answer.status != ota.OtaStatus.SUCCESS:
        return
    assert answer.manufacturer_code is not None and answer.image_type is not None
    assert answer.file_version is not None and answer.image_size is not None
    fresh = Download(answer.manufacturer_code, answer.image_type, answer.file_version,
                     answer.image_size)  # fmt: skip
    held = download(tx)
    if held is None or replace(held, received=0) != fresh:
        _clear(tx)
        held = fresh
        _save(tx, held)
        tx.log("event", f"OTA download of {fresh.version:08x} ({fresh.size} octets) started")
    else:
        tx.log("event", f"OTA download of {held.version:08x} resumed at {held.received}")
    _next(tx, eui, held, complete, None)  # the device asked: it wants at least one block


def _block(
    tx: Tx, eui: Eui64, block: ota.ImageBlock, complete: Complete, more: More | None
) -> None:
    held = download(tx)
    if (
        held is None
        or (block.manufacturer_code, block.image_type, block.file_version)
        != (held.manufacturer, held.image_type, held.version)
        or block.file_offset != held.received
        or not block.data
    ):
        tx.tally("ota_stale_blocks")
        return
    tx.put(f"{BLOCKS}{block.file_offset:010d}", block.data)
    held = replace(held, received=min(held.size, held.received + len(block.data)))
    _save(tx, held)
    _next(tx, eui, held, complete, more)


def _next(tx: Tx, eui: Eui64, held: Download, complete: Complete, more: More | None) -> None:
    if held.received < held.size:
        if more is None or more():
            _ask(tx, eui, held)
        else:
            tx.log("trace", f"OTA download paused at {held.received} of {held.size}")
        return
    image = b"".join(tx.get(k) or b"" for k in sorted(tx.keys(BLOCKS)))[: held.size]
    _clear(tx)
    verified = complete(image)
    status = ota.OtaStatus.SUCCESS if verified else ota.OtaStatus.INVALID_IMAGE
    end = ota.UpgradeEndRequest(status, held.manufacturer, held.image_type, held.version)
    _send(tx, eui, end)


def download_of(nvm: Mapping[str, bytes]) -> Download | None:
    """The download in progress read from a device's NVM (inspection, tests)."""
    raw = nvm.get(STATE)
    return None if raw is None else Download(**json.loads(raw))
