"""The CHF Device Log (HAN whitelist) and CHF Historic Device Log, and hub-side joining.

Layer: firmware. Use Case volume CCS01, CCS02, CCS03, CCS06 / CCS05, CCS07 and CS14 (the
ZigBee network control object, IC 104 ``0-0:30.3.0.255``; the historic log ``0-0:30.3.1.255``).

Theory of operation
-------------------
The device log is the whitelist: only a device in it is heard on the HAN. An entry holds
the device type and, once the device has joined, the hash of its Trust Centre link key
(empty until then). CCS01 adds an entry with an install code and opens joining for
``join_timeout`` seconds; the first frame from that device inside the window is its join:
the hub records the hash of the link key: a device in the historic log may re-use its
historic key during the first half of the window, otherwise (and in the second half) the key
derives from the install code (mapping-table text of CCS01; the HTML volume's older text
gives each a whole window). Beyond the Sub GHz capacity the join is refused (DBCH11). CCS02
moves a removed device's key hash to the historic log (15 entries, oldest overwritten).
CCS03 replaces the log from a backup; a backup carries no device types, so they come from
every type CCS01 ever gave the hub (``chf/kinds``), the hub's GPF/GSME pairing, or -- for a
device the hub never registered -- the first response or alert it sends.
Every change of an EUI or a key hash in the log sends the CS14 alert (0x8F12) with a backup
of the log, to the Access Control Broker.

NVM: ``chf/devices`` {EUI hex: device type}, ``chf/kinds`` (the same, never pruned),
``chf/link_keys`` {EUI hex: key hash hex},
``chf/install`` {EUI hex: install code hex} (joins still to happen), ``chf/history``
[[EUI hex, key hash hex], ...] oldest first, ``chf/pan`` the extended PAN ID,
``chf/join_until`` the end of the joining window (ISO instant, absent when closed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from smemu.errors import DecodeError
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
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.gbcs.use_cases import Device, by_message_code
from smemu.protocols.zigbee.install_code import hashed_link_key, install_code_link_key

DEVICE_LOG: Final = "chf/devices"
LINK_KEYS: Final = "chf/link_keys"
INSTALL_CODES: Final = "chf/install"
HISTORY: Final = "chf/history"
PAN_ID: Final = "chf/pan"
JOIN_UNTIL: Final = "chf/join_until"
JOIN_TIMEOUT: Final = "chf/join_timeout"
LAST_HEARD: Final = "chf/last_heard"
KINDS: Final = "chf/kinds"
#: the EUIs of the hub's GPF and of the GSME it proxies (as ``chf.GPF_EUI`` / ``GSME_EUI``)
GPF_EUI: Final = "chf/gpf"
GSME_EUI: Final = "chf/gsme"
#: device type of a restored entry the hub never registered itself
UNKNOWN: Final = "unknown"

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


def kinds(tx: Tx) -> dict[str, str]:
    """Every device type this hub was told by CCS01 (EUI hex -> type), removed ones too:
    a CCS03 backup carries no types, so a restore takes them from here."""
    raw = tx.get_json(KINDS, {})
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


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
    tx.put_json(KINDS, {**kinds(tx), key: kind})
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
    known = {**kinds(tx), **device_log(tx)}
    for nvm_key, kind in ((GPF_EUI, "gpf"), (GSME_EUI, "gsme")):
        raw = tx.get(nvm_key)
        if raw is not None:
            known[raw.hex()] = kind
    log = {eui.hex(): known.get(eui.hex(), UNKNOWN) for eui, _ in entries}
    tx.put_json(DEVICE_LOG, log)
    tx.put_json(LINK_KEYS, {eui.hex(): hashed.hex() for eui, hashed in entries if hashed})
    tx.put(PAN_ID, pan)
    tx.log("event", f"CHF device log restored: {len(entries)} devices on PAN {pan.hex()}")


def _join_window(tx: Tx) -> tuple[datetime, datetime] | None:
    """The open joining window (start, end), or ``None`` when joining is closed."""
    raw = tx.get(JOIN_UNTIL)
    if raw is None:
        return None
    until = datetime.fromisoformat(raw.decode())
    if tx.now > until:
        return None
    timeout = timedelta(seconds=tx.get_int(JOIN_TIMEOUT, 0))
    return until - timeout, until


def join_key(tx: Tx, eui: Eui64) -> bytes | None:
    """The hash of the TC link key a pending join of ``eui`` would establish now.

    CCS01: a device in the historic log may re-use its historic key during the first half
    of ``join_timeout``; after that (and for any other device) the key derives from the
    install code. ``None``: no join is pending for ``eui`` or the window is closed.
    """
    codes = tx.get_json(INSTALL_CODES, {})
    window = _join_window(tx)
    if not isinstance(codes, dict) or eui.hex() not in codes or window is None:
        return None
    start, until = window
    historic = dict(history(tx)).get(eui.hex())
    if historic and tx.now < start + (until - start) / 2:
        return bytes.fromhex(historic)
    return hashed_link_key(install_code_link_key(bytes.fromhex(codes[eui.hex()])))


#: called when a join is refused for want of Sub GHz capacity: (tx, the device's EUI)
Refuse = Callable[[Tx, Eui64], None]


def admit(
    tx: Tx, eui: Eui64, capacity: int = CAPACITY, refuse: Refuse | None = None
) -> bool | None:
    """Hub-side join check for a frame from ``eui``.

    Returns ``True`` when the frame completed a join (a new key hash: send CS14), ``False``
    when the device is heard without change, ``None`` when it must not be heard (not in the
    log, its join is pending and the joining window is closed, or ``capacity`` devices have
    already joined: then ``refuse`` is called -- DBCH11).
    """
    key = eui.hex()
    if key not in device_log(tx):
        return None
    codes = tx.get_json(INSTALL_CODES, {})
    if not isinstance(codes, dict) or key not in codes:
        return False
    hashed = join_key(tx, eui)
    if hashed is None:
        return None
    keys = link_keys(tx)
    if len([k for k, v in keys.items() if v and k != key]) >= capacity:
        tx.log("event", f"device {eui} refused: no more Sub GHz device capacity")
        if refuse is not None:
            refuse(tx, eui)
        return None
    keys[key] = hashed.hex()
    tx.put_json(LINK_KEYS, keys)
    tx.put_json(INSTALL_CODES, {k: v for k, v in codes.items() if k != key})
    tx.log("event", f"device {eui} joined the HAN", CS14_ALERT)
    return True


#: the device types a use case's sender identifies (a HAN device's response or alert)
_SENDER_KINDS: Final[dict[Device, str]] = {
    Device.ESME: "esme", Device.GSME: "gsme", Device.PPMID: "ppmid", Device.HCALCS: "hcalc",
}  # fmt: skip


def learn_kind(tx: Tx, eui: Eui64, message: bytes) -> str | None:
    """A restored entry of unknown type names itself by what it sends: the first response
    or alert from it whose use case only one device type sends sets its type."""
    log = device_log(tx)
    if log.get(eui.hex()) != UNKNOWN:
        return None
    try:
        located = frame.locate(message).message
    except DecodeError:
        return None
    if isinstance(located, frame.GbtBlockMessage):
        code, cra = located.message_code, located.cra
    else:
        code, cra = located.header.other_information.message_code, located.header.cra
    use_case = by_message_code(code)
    if cra is Cra.COMMAND or use_case is None or len(use_case.devices) != 1:
        return None
    kind = _SENDER_KINDS.get(use_case.devices[0])
    if kind is None:
        return None
    log[eui.hex()] = kind
    tx.put_json(DEVICE_LOG, log)
    tx.put_json(KINDS, {**kinds(tx), eui.hex(): kind})
    return kind


def heard(tx: Tx, eui: Eui64, message: bytes = b"") -> None:
    """Record the time of the last frame from ``eui`` (CCS06 last communication) and, for a
    restored entry of unknown type, learn its type from ``message`` (:func:`learn_kind`)."""
    last = tx.get_json(LAST_HEARD, {})
    last = dict(last) if isinstance(last, dict) else {}
    last[eui.hex()] = tx.now.isoformat()
    tx.put_json(LAST_HEARD, last)
    if message:
        learn_kind(tx, eui, message)


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
