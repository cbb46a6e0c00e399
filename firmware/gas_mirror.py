"""The GPF's mirror of the gas meter: what the GSME sends when it wakes, and how it applies.

Layer: firmware. Use Case volume: the GPF answers the GSME's reads (GCS13a-c, GCS14,
GCS60a ...) from the data the GSME last gave it, dated with the time of that refresh
(gbcs-reference.md 7.2.7, :data:`smemu.firmware.gas_service.DATED_READS`).

Theory of operation
-------------------
The GSME's data -- ZCL attribute values, logs, register engine state, tariff and
prepayment configuration -- lives in its NVM under :data:`MIRRORED_PREFIXES`. At every wake
(and again when the GPF's queue is empty, so that the effect of commands just executed is
seen) the GSME compares that image with what it last sent (NVM ``mirror/crc/<key>``: the
CRC-32 of each value sent) and sends only the differences: changed or new keys with their
value, deleted keys with none. The GPF writes them into its own NVM under the same keys, so
its ZCL server (the same :data:`~smemu.firmware.gas_handlers.STORE` and handlers) answers
exactly what the meter holds, and records the refresh time
(:data:`~smemu.firmware.gas_service.SYNCED`).

On the HAN the real devices synchronise over ZigBee (outside GBCS). Here a refresh travels
as tunnel PUTs each carrying an unsecured GBCS alert-form message (CRA alert, originator the
GSME, recipient the GSME's own identity -- the comms hub routes every message for the GSME to
the GPF that represents it -- Other Information :data:`MIRROR_CODE`) whose payload is
:func:`encode_changes`; a refresh larger than :data:`CHUNK_BYTES` is split into several.
The GPF takes such a message only from the GSME it proxies.

Payload: a sequence of records ``key length (1) | key (UTF-8) | value length (2, big-endian;
0xFFFF: deleted) | value``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64

#: NVM prefixes of the GSME's data that the GPF mirrors
MIRRORED_PREFIXES: Final = ("gsme/", "gas/")
#: keys under those prefixes that are the GSME's own business (its radio schedule)
PRIVATE_KEYS: Final = frozenset({"gsme/wake_s"})
#: Other Information message code of a mirror refresh (no GBCS use case has it)
MIRROR_CODE: Final = 0xFFF0
#: largest payload of one refresh message (a HAN Transfer Data carries at most 1500 bytes)
CHUNK_BYTES: Final = 1200
CRC_PREFIX: Final = "mirror/crc/"
_DELETED: Final = 0xFFFF


def _mirrored(key: str) -> bool:
    return key.startswith(MIRRORED_PREFIXES) and key not in PRIVATE_KEYS


def changes(tx: Tx) -> dict[str, bytes | None]:
    """What changed since the last refresh (``None``: deleted); records it as sent."""
    current: dict[str, bytes] = {}
    for prefix in MIRRORED_PREFIXES:
        for key in tx.keys(prefix):
            value = tx.get(key)
            if value is not None and _mirrored(key):
                current[key] = value
    out: dict[str, bytes | None] = {}
    for key, value in current.items():
        crc = zlib.crc32(value).to_bytes(4, "big")
        if tx.get(CRC_PREFIX + key) != crc:
            out[key] = value
            tx.put(CRC_PREFIX + key, crc)
    for crc_key in tx.keys(CRC_PREFIX):
        key = crc_key[len(CRC_PREFIX) :]
        if key not in current:
            out[key] = None
            tx.delete(crc_key)
    return out


def encode_changes(items: Iterable[tuple[str, bytes | None]]) -> bytes:
    """The refresh payload of ``items`` (see the module docstring)."""
    parts: list[bytes] = []
    for key, value in items:
        name = key.encode()
        if len(name) > 0xFF or (value is not None and len(value) >= _DELETED):
            raise ValueError(f"mirror entry too large: {key}")
        size = _DELETED if value is None else len(value)
        parts.append(bytes((len(name),)) + name + size.to_bytes(2, "big") + (value or b""))
    return b"".join(parts)


def decode_changes(data: bytes) -> dict[str, bytes | None]:
    """Parse a refresh payload.

    :raises DecodeError: a record runs past the end, or a key is not UTF-8.
    """
    out: dict[str, bytes | None] = {}
    pos = 0
    while pos < len(data):
        start = pos
        size = data[pos]
        key_end = pos + 1 + size
        if key_end + 2 > len(data):
            raise DecodeError("short mirror record", path="mirror", offset=start)
        try:
            key = data[pos + 1 : key_end].decode()
        except UnicodeDecodeError as exc:
            raise DecodeError("mirror key is not UTF-8", path="mirror", offset=start) from exc
        length = int.from_bytes(data[key_end : key_end + 2], "big")
        pos = key_end + 2
        if length == _DELETED:
            out[key] = None
            continue
        if pos + length > len(data):
            raise DecodeError("short mirror value", path="mirror.value", offset=pos)
        out[key] = data[pos : pos + length]
        pos += length
    return out


def chunks(found: Mapping[str, bytes | None]) -> list[bytes]:
    """Refresh payloads of at most about :data:`CHUNK_BYTES` each (one entry at least)."""
    out: list[bytes] = []
    batch: list[tuple[str, bytes | None]] = []
    size = 0
    for key, value in sorted(found.items()):
        entry = 3 + len(key.encode()) + (0 if value is None else len(value))
        if batch and size + entry > CHUNK_BYTES:
            out.append(encode_changes(batch))
            batch, size = [], 0
        batch.append((key, value))
        size += entry
    if batch:
        out.append(encode_changes(batch))
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


def apply(tx: Tx, found: Mapping[str, bytes | None]) -> int:
    """Write a refresh into the GPF's NVM (only mirrored keys); the number applied."""
    applied = 0
    for key, value in found.items():
        if not _mirrored(key):
            continue
        if value is None:
            tx.delete(key)
        else:
            tx.put(key, value)
        applied += 1
    return applied
