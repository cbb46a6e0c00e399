"""The GPF's mirror of the gas meter: what the GSME sends when it wakes, and how it applies.

Layer: firmware. Use Case volume: the GPF answers the GSME's reads (GCS13a-c, GCS14,
GCS60a ...) from the data the GSME last gave it, dated with the time of that refresh
(gbcs-reference.md 7.2.7, :data:`smemu.firmware.gas_service.DATED_READS`). GCS38 Read GSME
Firmware Version targets "GPF (primary); GSME": the GPF answers the GSME's version, so each
refresh also carries the version the GSME runs (:data:`FIRMWARE_VERSION`).

Theory of operation
-------------------
The GSME's data -- ZCL attribute values, logs, register engine state, tariff and
prepayment configuration -- lives in its NVM under :data:`MIRRORED_PREFIXES`. At every wake
(and again when the GPF's queue is empty, so that the effect of commands just executed is
seen) the GSME brings its registers up to now (the engine's catch-up fills the profile and
daily logs; :func:`smemu.firmware.gas_reads.refresh` publishes the register attributes),
copies its running firmware version (``fw/version``, which CS06 changes) to
:data:`FIRMWARE_VERSION`, and compares that image with what it last sent, block by block
(NVM ``mirror/crc/<key>``: the value's length and the CRC-32 of each :data:`BLOCK_BYTES` block
sent), and sends only the differences as :class:`Patch` records: the changed blocks of a
value (a register engine log gets a few blocks a wake: the entries appended and its head),
deleted keys with none. A key the GPF has never had is sent without its all-zero blocks
(the GPF pads a value with zeros to its length). The GPF writes them into its own NVM under
the same keys, so its ZCL server (the same :data:`~smemu.firmware.gas_handlers.STORE` and
handlers) answers exactly what the meter holds, and records the refresh time
(:data:`~smemu.firmware.gas_service.SYNCED`).

On the HAN the real devices synchronise over ZigBee (outside GBCS). Here a refresh travels
as tunnel PUTs each carrying an unsecured GBCS alert-form message (CRA alert, originator the
GSME, recipient the GSME's own identity -- the comms hub routes every message for the GSME to
the GPF that represents it -- Other Information :data:`MIRROR_CODE`) whose payload is
:func:`encode_changes`; records are packed into payloads of at most :data:`CHUNK_BYTES`, so
that every frame fits the HAN's 1,500-byte Transfer Data. The GPF takes such a message only
from the GSME it proxies.

Payload: a sequence of records ``key length (1) | key (UTF-8) | value length (4, big-endian;
0xFFFFFFFF: deleted) | offset (4) | piece length (2) | piece``: the value is ``value length``
bytes long and holds ``piece`` at ``offset`` (the rest as the GPF has it, zeros beyond).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware import firmware_image, gas_reads
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64

#: NVM prefixes of the GSME's data that the GPF mirrors
MIRRORED_PREFIXES: Final = ("gsme/", "gas/")
#: keys under those prefixes that are the GSME's own business (its radio schedule)
PRIVATE_KEYS: Final = frozenset({"gsme/wake_s"})
#: the GSME's running firmware version as mirrored (4 octets; GCS38 on the GPF reads it)
FIRMWARE_VERSION: Final = "gsme/fw_version"
#: Other Information message code of a mirror refresh (no GBCS use case has it)
MIRROR_CODE: Final = 0xFFF0
#: largest payload of one refresh message (a HAN Transfer Data carries at most 1500 bytes,
#: the tunnel and GBCS headers take the rest)
CHUNK_BYTES: Final = 1200
#: the unit of comparison and of a patch: a changed block of a value is sent whole
BLOCK_BYTES: Final = 512
CRC_PREFIX: Final = "mirror/crc/"
_DELETED: Final = 0xFFFF_FFFF
_RECORD_FIXED: Final = 1 + 4 + 4 + 2  #: record bytes besides the key and the piece


@dataclass(frozen=True, slots=True)
class Patch:
    """One record of a refresh: ``key`` is ``length`` bytes long (None: deleted) and holds
    ``piece`` at ``offset``."""

    key: str
    length: int | None
    offset: int = 0
    piece: bytes = b""


def _mirrored(key: str) -> bool:
    return key.startswith(MIRRORED_PREFIXES) and key not in PRIVATE_KEYS


def _crcs(value: bytes) -> list[int]:
    return [zlib.crc32(value[i : i + BLOCK_BYTES]) for i in range(0, len(value), BLOCK_BYTES)]


def _sent(tx: Tx, key: str) -> tuple[int, list[int]] | None:
    """(length, block CRCs) of what the GPF holds of ``key``; None if it has nothing; an
    unreadable record (length -1) makes every block count as changed."""
    raw = tx.get(CRC_PREFIX + key)
    if raw is None:
        return None
    if len(raw) < 4 or len(raw) % 4:
        return -1, []
    words = [int.from_bytes(raw[i : i + 4], "big") for i in range(0, len(raw), 4)]
    return words[0], words[1:]


def _diff(key: str, value: bytes, sent: tuple[int, list[int]] | None) -> list[Patch]:
    """The patches that turn what the GPF holds (``sent``) into ``value``."""
    size = len(value)
    old_size, old = sent if sent is not None else (0, [])
    out: list[Patch] = []
    for index, crc in enumerate(_crcs(value)):
        at = index * BLOCK_BYTES
        block = value[at : at + BLOCK_BYTES]
        whole_block = at + BLOCK_BYTES <= old_size or (old_size == size and index < len(old))
        if old_size >= 0 and whole_block and index < len(old):
            known: int | None = old[index]  # a block the GPF has as it was sent
        elif old_size >= 0 and at >= old_size:
            known = zlib.crc32(bytes(len(block)))  # beyond its value: zeros
        else:
            known = None  # partly known: send it
        if crc != known:
            out.append(Patch(key, size, at, block))
    if not out and (sent is None or old_size != size):
        out.append(Patch(key, size))  # a new key of zeros, or only shortened
    return out


def changes(tx: Tx) -> list[Patch]:
    """Bring the registers up to now and publish them as attribute values (GCS13a-c, GCS14
    reads of the GPF) and the running firmware version (GCS38), then what changed since
    the last refresh; records what is sent."""
    gas_reads.refresh(tx)
    version = firmware_image.running_version(tx)
    if tx.get(FIRMWARE_VERSION) != version:
        tx.put(FIRMWARE_VERSION, version)
    out: list[Patch] = []
    current: set[str] = set()
    for prefix in MIRRORED_PREFIXES:
        for key in tx.keys(prefix):
            value = tx.get(key)
            if value is None or not _mirrored(key):
                continue
            current.add(key)
            sent = _sent(tx, key)
            patches = _diff(key, value, sent)
            if patches:
                out.extend(patches)
                record = [len(value), *_crcs(value)]
                tx.put(CRC_PREFIX + key, b"".join(w.to_bytes(4, "big") for w in record))
    for crc_key in tx.keys(CRC_PREFIX):
        key = crc_key[len(CRC_PREFIX) :]
        if key not in current:
            out.append(Patch(key, None))
            tx.delete(crc_key)
    return out


def whole(found: Mapping[str, bytes | None]) -> list[Patch]:
    """Patches that set each key of ``found`` to its whole value (None: delete it)."""
    out: list[Patch] = []
    for key, value in found.items():
        if value is None:
            out.append(Patch(key, None))
            continue
        pieces = range(0, len(value), BLOCK_BYTES)
        out.extend(Patch(key, len(value), at, value[at : at + BLOCK_BYTES]) for at in pieces)
        if not value:
            out.append(Patch(key, 0))
    return out


def _record(patch: Patch) -> bytes:
    name = patch.key.encode()
    if len(name) > 0xFF or len(patch.piece) > 0xFFFF:
        raise ValueError(f"mirror record too large: {patch.key}")
    size = _DELETED if patch.length is None else patch.length
    return b"".join((
        bytes((len(name),)), name, size.to_bytes(4, "big"), patch.offset.to_bytes(4, "big"),
        len(patch.piece).to_bytes(2, "big"), patch.piece,
    ))  # fmt: skip


def encode_changes(items: Iterable[Patch]) -> bytes:
    """The refresh payload of ``items`` (see the module docstring)."""
    return b"".join(_record(p) for p in items)


def decode_changes(data: bytes) -> list[Patch]:
    """Parse a refresh payload.

    :raises DecodeError: a record runs past the end, a key is not UTF-8, or a piece lies
        outside its value.
    """
    out: list[Patch] = []
    pos = 0
    while pos < len(data):
        start = pos
        key_end = pos + 1 + data[pos]
        if key_end + _RECORD_FIXED - 1 > len(data):
            raise DecodeError("short mirror record", path="mirror", offset=start)
        try:
            key = data[pos + 1 : key_end].decode()
        except UnicodeDecodeError as exc:
            raise DecodeError("mirror key is not UTF-8", path="mirror", offset=start) from exc
        size = int.from_bytes(data[key_end : key_end + 4], "big")
        offset = int.from_bytes(data[key_end + 4 : key_end + 8], "big")
        count = int.from_bytes(data[key_end + 8 : key_end + 10], "big")
        pos = key_end + 10
        if pos + count > len(data):
            raise DecodeError("short mirror piece", path="mirror.piece", offset=pos)
        piece = data[pos : pos + count]
        if size == _DELETED:
            if offset or count:
                raise DecodeError("a deletion carries no piece", path="mirror", offset=start)
            out.append(Patch(key, None))
        elif offset + count > size:
            raise DecodeError("piece beyond the value", path="mirror.offset", offset=key_end)
        else:
            out.append(Patch(key, size, offset, piece))
        pos += count
    return out


def chunks(found: Sequence[Patch]) -> list[bytes]:
    """Refresh payloads of at most :data:`CHUNK_BYTES` each (a record is never split:
    pieces are at most :data:`BLOCK_BYTES`)."""
    out: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for patch in found:
        record = _record(patch)
        if batch and size + len(record) > CHUNK_BYTES:
            out.append(b"".join(batch))
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        out.append(b"".join(batch))
    return out


def message(gsme: Eui64, counter: int, payload: bytes) -> bytes:
    """One refresh message (unsecured general-signing form, see the module docstring)."""
    header = GroupingHeader(Cra.ALERT, counter, gsme, gsme, None, OtherInformation(MIRROR_CODE))
    return GeneralSigningMessage(header, payload, None).encode()


def is_refresh(inner: GeneralSigningMessage, gsme: Eui64 | None) -> bool:
    """Whether ``inner`` is a mirror refresh from ``gsme``."""
    h = inner.header
    return (
        gsme is not None
        and h.cra is Cra.ALERT
        and h.originator == gsme
        and h.other_information.message_code == MIRROR_CODE
    )


def apply(tx: Tx, found: Iterable[Patch]) -> int:
    """Write a refresh into the GPF's NVM (only mirrored keys); the number of records applied."""
    applied = 0
    edited: dict[str, bytearray | None] = {}
    for patch in found:
        if not _mirrored(patch.key):
            continue
        applied += 1
        if patch.length is None:
            edited[patch.key] = None
            continue
        value = edited.get(patch.key)
        if value is None:
            value = bytearray(tx.get(patch.key) or b"") if patch.key not in edited else bytearray()
            edited[patch.key] = value
        if len(value) > patch.length:
            del value[patch.length :]
        elif len(value) < patch.length:
            value.extend(bytes(patch.length - len(value)))
        value[patch.offset : patch.offset + len(patch.piece)] = patch.piece
    for key, new in edited.items():
        if new is None:
            tx.delete(key)
        else:
            tx.put(key, bytes(new))
    return applied
