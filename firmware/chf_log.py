"""The CHF Device Log (HAN whitelist) and CHF Historic Device Log, and hub-side joining.

Layer: firmware. Use Case volume CCS01, CCS02, CCS03, CCS06 / CCS05, CCS07 and CS14 (the
ZigBee network control object, IC 104 ``0-0:30.3.0.255``; the historic log ``0-0:30.3.1.255``).

Theory of operation
-------------------
The device log is the whitelist: only a device in it is heard on the HAN. An entry holds
the device type and, once the device has joined, the hash of its Trust Centre link key
(empty until then). CCS01 adds an entry with an install code and opens joining for
``join_timeout`` seconds; the first frame from that device inside the window is its join:
the hub derives the link key from the install code (or re-uses the key the historic log
holds for the device) and records the key's hash. CCS02 moves a removed device's key hash to
the historic log (15 entries, oldest overwritten). CCS03 replaces the log from a backup.
Every change of an EUI or a key hash in the log sends the CS14 alert (0x8F12) with a backup
of the log, to the Access Control Broker.

NVM: ``chf/devices`` {EUI hex: device type}, ``chf/link_keys`` {EUI hex: key hash hex},
``chf/install`` {EUI hex: install code hex} (joins still to happen), ``chf/history``
[[EUI hex, key hash hex], ...] oldest first, ``chf/pan`` the extended PAN ID,
``chf/join_until`` the end of the joining window (ISO instant, absent when closed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from smemu.firmware.common import respond
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, ObjectTable
from smemu.firmware.common.machine import Tx
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    BitString,
    Boolean,
    Enum,
    Integer,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    Unsigned,
)
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee.install_code import hashed_link_key, install_code_link_key

DEVICE_LOG: Final = "chf/devices"
LINK_KEYS: Final = "chf/link_keys"
INSTALL_CODES: Final = "chf/install"
HISTORY: Final = "chf/history"
PAN_ID: Final = "chf/pan"
JOIN_UNTIL: Final = "chf/join_until"
JOIN_TIMEOUT: Final = "chf/join_timeout"
LAST_HEARD: Final = "chf/last_heard"

#: entries of the device log (backup_PAN devices_to_backup[0..16])
CAPACITY: Final = 16
#: entries of the historic device log (CCS02)
HISTORY_CAPACITY: Final = 15
#: CS14 alert: message code and alert code "CHF device log changed"
CS14_MESSAGE_CODE: Final = 0x0018
CS14_ALERT: Final = 0x8F12
DEFAULT_PAN: Final = bytes(8)
#: register_device device_type enum -> device type name (254: the GPF, per CCS01)
DEVICE_TYPES: Final[dict[int, str]] = {
    0: "esme", 1: "gsme", 13: "hcalc", 128: "ihd", 130: "cad", 132: "ppmid", 254: "gpf",
}  # fmt: skip
_INSTALL_CODE: Final = 1
DEVICE_LOG_LN: Final = parse_obis("0-0:30.3.0.255")
HISTORIC_LOG_LN: Final = parse_obis("0-0:30.3.1.255")

#: sends the CS14 alert: (tx, backup value) -- supplied by the machine
Notify = Callable[[Tx, Data], None]


# ------------------------------------------------------------------------------ state


def device_log(tx: Tx) -> dict[str, str]:
    """The whitelist: EUI hex -> device type name."""
    log = tx.get_json(DEVICE_LOG, {})
    return dict(log) if isinstance(log, dict) else {}


def link_keys(tx: Tx) -> dict[str, str]:
    keys = tx.get_json(LINK_KEYS, {})
    return dict(keys) if isinstance(keys, dict) else {}


def history(tx: Tx) -> list[tuple[str, str]]:
    raw = tx.get_json(HISTORY, [])
    if not isinstance(raw, list):
        return []
    return [(str(e), str(k)) for e, k in raw]


def pan_id(tx: Tx) -> bytes:
    raw = tx.get(PAN_ID)
    return raw if raw is not None and len(raw) == 8 else DEFAULT_PAN


def joining_open(tx: Tx) -> bool:
    raw = tx.get(JOIN_UNTIL)
    if raw is None:
        return False
    return tx.now <= datetime.fromisoformat(raw.decode())


def backup(tx: Tx, entries: list[tuple[str, str]] | None = None) -> Structure:
    """backup_PAN: structure{date-time, extended PAN ID, array{structure{MAC, key hash}}}."""
    if entries is None:
        keys = link_keys(tx)
        entries = [(eui, keys.get(eui, "")) for eui in sorted(device_log(tx))]
    devices = tuple(
        Structure((OctetString(bytes.fromhex(eui)), OctetString(bytes.fromhex(key))))
        for eui, key in entries
    )
    return Structure(
        (OctetString(respond.cosem_datetime(tx.now)), OctetString(pan_id(tx)), Array(devices))
    )


# ---------------------------------------------------------------------------- changes


def add_device(tx: Tx, eui: Eui64, kind: str, install_code: bytes | None) -> bool:
    """Add ``eui`` to the whitelist (False: it was already there; nothing changes)."""
    log = device_log(tx)
    key = eui.hex()
    if key in log:
        return False
    if len(log) >= CAPACITY:
        raise CosemFailure(ActionResult.TEMPORARY_FAILURE)
    log[key] = kind
    tx.put_json(DEVICE_LOG, log)
    if install_code is not None:
        codes = tx.get_json(INSTALL_CODES, {})
        codes = dict(codes) if isinstance(codes, dict) else {}
        codes[key] = install_code.hex()
        tx.put_json(INSTALL_CODES, codes)
    tx.log("event", f"device {eui} ({kind}) added to the CHF device log", CS14_ALERT)
    return True


def remove_device(tx: Tx, eui: Eui64) -> bool:
    """Remove ``eui``; its established key hash moves to the historic log (CCS02)."""
    log = device_log(tx)
    key = eui.hex()
    if key not in log:
        return False
    kind = log.pop(key)
    tx.put_json(DEVICE_LOG, log)
    keys = link_keys(tx)
    hashed = keys.pop(key, "")
    tx.put_json(LINK_KEYS, keys)
    codes = tx.get_json(INSTALL_CODES, {})
    if isinstance(codes, dict) and key in codes:
        codes = {k: v for k, v in codes.items() if k != key}
        tx.put_json(INSTALL_CODES, codes)
    if hashed and kind not in ("gpf", "hht"):
        past = [(e, k) for e, k in history(tx) if e != key]
        past.append((key, hashed))
        tx.put_json(HISTORY, [list(p) for p in past[-HISTORY_CAPACITY:]])
    tx.log("event", f"device {eui} removed from the CHF device log", CS14_ALERT)
    return True


def restore(tx: Tx, pan: bytes, entries: list[tuple[bytes, bytes]]) -> None:
    """Replace the device log from a backup (CCS03) and form the network on ``pan``."""
    old = device_log(tx)
    log = {eui.hex(): old.get(eui.hex(), "unknown") for eui, _ in entries}
    tx.put_json(DEVICE_LOG, log)
    tx.put_json(LINK_KEYS, {eui.hex(): hashed.hex() for eui, hashed in entries if hashed})
    tx.put(PAN_ID, pan)
    tx.log("event", f"CHF device log restored: {len(entries)} devices on PAN {pan.hex()}")


def admit(tx: Tx, eui: Eui64) -> bool | None:
    """Hub-side join check for a frame from ``eui``.

    Returns ``True`` when the frame completed a join (a new key hash: send CS14), ``False``
    when the device is heard without change, ``None`` when it must not be heard (not in the
    log, or its join is pending and the joining window is closed).
    """
    key = eui.hex()
    if key not in device_log(tx):
        return None
    codes = tx.get_json(INSTALL_CODES, {})
    if not isinstance(codes, dict) or key not in codes:
        return False
    if not joining_open(tx):
        return None
    historic = dict(history(tx)).get(key)
    if historic:
        hashed = bytes.fromhex(historic)
    else:
        hashed = hashed_link_key(install_code_link_key(bytes.fromhex(codes[key])))
    keys = link_keys(tx)
    keys[key] = hashed.hex()
    tx.put_json(LINK_KEYS, keys)
    tx.put_json(INSTALL_CODES, {k: v for k, v in codes.items() if k != key})
    tx.log("event", f"device {eui} joined the HAN", CS14_ALERT)
    return True


def heard(tx: Tx, eui: Eui64) -> None:
    """Record the time of the last frame from ``eui`` (CCS06 last communication)."""
    last = tx.get_json(LAST_HEARD, {})
    last = dict(last) if isinstance(last, dict) else {}
    last[eui.hex()] = tx.now.isoformat()
    tx.put_json(LAST_HEARD, last)


# ---------------------------------------------------------------------- COSEM objects


def _octets(value: Data, size: int | None = None) -> bytes:
    if not isinstance(value, OctetString) or (size is not None and len(value.value) != size):
        raise CosemFailure(ActionResult.TYPE_UNMATCHED)
    return value.value


def _register_device(notify: Notify) -> Callable[[CosemContext, Data], Data]:
    def method(ctx: CosemContext, value: Data) -> Data:
        if not isinstance(value, Structure) or len(value.items) != 4:
            raise CosemFailure(ActionResult.TYPE_UNMATCHED)
        eui = Eui64(_octets(value.items[0], 8))
        key_type, code, device_type = value.items[1], value.items[2], value.items[3]
        if not isinstance(key_type, Enum) or not isinstance(device_type, Enum):
            raise CosemFailure(ActionResult.TYPE_UNMATCHED)
        if key_type.value != _INSTALL_CODE:
            raise CosemFailure(ActionResult.OTHER_REASON)
        kind = DEVICE_TYPES.get(device_type.value)
        if kind is None:
            raise CosemFailure(ActionResult.OTHER_REASON)
        install = _octets(code)
        if add_device(ctx.tx, eui, kind, install):
            notify(ctx.tx, backup(ctx.tx))
        return NullData()

    return method


def _unregister_device(notify: Notify) -> Callable[[CosemContext, Data], Data]:
    def method(ctx: CosemContext, value: Data) -> Data:
        eui = Eui64(_octets(value, 8))
        if remove_device(ctx.tx, eui):
            notify(ctx.tx, backup(ctx.tx))
        return NullData()

    return method


def _restore_pan(notify: Notify) -> Callable[[CosemContext, Data], Data]:
    def method(ctx: CosemContext, value: Data) -> Data:
        if not isinstance(value, Structure) or len(value.items) != 2:
            raise CosemFailure(ActionResult.TYPE_UNMATCHED)
        pan = _octets(value.items[0], 8)
        devices = value.items[1]
        if not isinstance(devices, Array) or len(devices.items) > CAPACITY:
            raise CosemFailure(ActionResult.TYPE_UNMATCHED)
        entries: list[tuple[bytes, bytes]] = []
        for item in devices.items:
            if not isinstance(item, Structure) or len(item.items) != 2:
                raise CosemFailure(ActionResult.TYPE_UNMATCHED)
            entries.append((_octets(item.items[0], 8), _octets(item.items[1])))
        restore(ctx.tx, pan, entries)
        notify(ctx.tx, backup(ctx.tx))
        return NullData()

    return method


def _backup_pan(ctx: CosemContext, value: Data) -> Data:
    return backup(ctx.tx)


def _historic_backup(ctx: CosemContext, value: Data) -> Data:
    return backup(ctx.tx, history(ctx.tx))


def _set_joining(ctx: CosemContext, value: Data) -> None:
    if not isinstance(value, Boolean):
        raise CosemFailure(DataAccessResult.TYPE_UNMATCHED)
    if value.raw:
        timeout = timedelta(seconds=ctx.tx.get_int(JOIN_TIMEOUT, 0))
        ctx.tx.put(JOIN_UNTIL, (ctx.now + timeout).isoformat().encode())
    else:
        ctx.tx.delete(JOIN_UNTIL)


def _set_timeout(ctx: CosemContext, value: Data) -> None:
    if not isinstance(value, LongUnsigned):
        raise CosemFailure(DataAccessResult.TYPE_UNMATCHED)
    ctx.tx.put_int(JOIN_TIMEOUT, value.value)


def _active_devices(ctx: CosemContext) -> Data:
    """active_devices (CCS06 / CCS05): one entry per whitelisted device with link figures."""
    keys = link_keys(ctx.tx)
    last = ctx.tx.get_json(LAST_HEARD, {})
    last = last if isinstance(last, dict) else {}
    rows = []
    for eui in sorted(device_log(ctx.tx)):
        joined = bool(keys.get(eui))
        when = last.get(eui)
        stamp = (
            respond.cosem_datetime(datetime.fromisoformat(when))
            if isinstance(when, str)
            else bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")
        )
        rows.append(
            Structure(
                (
                    OctetString(bytes.fromhex(eui)),
                    BitString(8, b"\x80" if joined else b"\x00"),
                    Integer(-40), Integer(-60), Integer(-80),
                    Unsigned(255), Unsigned(200), Unsigned(150),
                    OctetString(stamp),
                    Unsigned(0), Unsigned(0), Unsigned(1 if isinstance(when, str) else 0),
                    Unsigned(0), Unsigned(0),
                )
            )
        )
    return Array(tuple(rows))


def objects(notify: Notify) -> ObjectTable:
    """The device log objects, whose changes call ``notify`` with the new backup."""
    return {
        (104, DEVICE_LOG_LN): CosemObject(
            get={
                2: lambda ctx: Boolean(0xFF if joining_open(ctx.tx) else 0),
                3: lambda ctx: LongUnsigned(ctx.tx.get_int(JOIN_TIMEOUT, 0)),
                4: _active_devices,
            },
            set={2: _set_joining, 3: _set_timeout},
            act={
                1: _register_device(notify),
                2: _unregister_device(notify),
                4: _backup_pan,
                5: _restore_pan(notify),
            },
        ),
        (104, HISTORIC_LOG_LN): CosemObject(act={4: _historic_backup}),
    }
