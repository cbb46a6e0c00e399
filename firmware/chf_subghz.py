"""The CHF's Sub GHz radio: a simple channel model (DBCH01-DBCH11) and its own logs.

Layer: firmware. Use Case volume DBCH01-DBCH05 and the DBCH06-DBCH11 alerts; ECS35c /
ECS35d (the CHF event and security logs, kept here as they share the log-entry form).

Theory of operation
-------------------
The radio operates on one channel of page 28 (channels 0-26), read as a 32-bit channel
mask (DBCH01): the page in the top five bits, the channel's bit below. The configuration
(DBCH03 / DBCH04) is the 15-field structure of the volume; writing it sends DBCH09 (0x8F2A)
with the new configuration. A channel scan request (DBCH05) assesses the channels the page
28 mask allows and moves to the lowest allowed channel other than the current one when the
weekly channel-change budget (``channelChangesPerWeek``) permits: the change is logged in the
Sub GHz channel log (DBCH02, log code 0x8F26) and alerted (DBCH07); a scan that cannot
change channel sends DBCH08 (0x8F28). Duty cycle: every frame the hub puts on the HAN
(ports ``han`` and ``ota``; this emulated hub runs its whole SMHAN at Sub GHz) costs air
time by a simple model (:func:`airtime_ms`: 100 kbit/s GFSK, 80 application octets a
fragment, headers and ACK per fragment), summed per clock hour and per device. The
configuration's thresholds are read as hundredths of a percent of the hour (as ZigBee
stacks express duty-cycle limits; 1.00 % / 1.80 % when never configured). Crossing
normal/limited suspends the device with the most traffic this hour until the hour ends
(DBCH06, 0x8F20, naming it; logged); a Remote Party command to a suspended device -- or to
any HAN device while *critical* -- is not sent but discarded with DBCH10 (0x8F2C: the
command's originator, target, CRA flag and counter). A join beyond the Sub GHz device
capacity (:data:`CAPACITY_KEY`, default the device log's 16) is refused with DBCH11 (0x8F2D,
the device's EUI). A CCS01 on a full device log stays a command failure: the volume defines
DBCH11 for a device's join at Sub GHz, not for the whitelist.

NVM: ``chf/subghz/channel`` (int), ``chf/subghz/changes`` [ISO instants of recent changes],
``chf/subghz/duty`` {"hour": ISO, "ms": int, "devices": {EUI hex: ms}, "suspended":
[EUI hex]}, ``chf/log/<name>`` [[UTC seconds, code, other hex], ...] for the logs
``subghz``, ``event`` and ``security`` (100 entries).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware import cosem_model
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, ObjectTable
from smemu.firmware.common.machine import Outgoing, Tx
from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.apdu import DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    BitString,
    CompactArray,
    DoubleLongUnsigned,
    LongUnsigned,
    OctetString,
    Structure,
    TypeDescription,
    Unsigned,
)
from smemu.protocols.dlms.objects import objects_for
from smemu.protocols.gbcs import frame

CHANNEL: Final = "chf/subghz/channel"
CHANGES: Final = "chf/subghz/changes"
DUTY: Final = "chf/subghz/duty"
SCAN: Final = "chf/subghz/scan"
LOG_PREFIX: Final = "chf/log/"
LOG_CAPACITY: Final = 100
PAGE_28: Final = 28
DEFAULT_CHANNEL: Final = 0  #: a fresh hub starts on the lowest channel of page 28
CHANNELS: Final = 27

CONFIG_LN: Final = parse_obis("0-0:94.44.10.0")
SCAN_LN: Final = parse_obis("0-0:94.44.10.1")
CHANNEL_LN: Final = parse_obis("0-0:94.44.10.2")
CHANNEL_LOG_LN: Final = parse_obis("0-0:94.44.10.3")
EVENT_LOG_LN: Final = parse_obis("0-0:99.98.0.255")
SECURITY_LOG_LN: Final = parse_obis("0-0:99.98.1.255")

#: alert codes of the Sub GHz alerts, by use case
ALERT_LIMITED_DUTY_CYCLE: Final = 0x8F20  # DBCH06
ALERT_CHANNEL_CHANGED: Final = 0x8F26  # DBCH07
ALERT_SCAN_OUTCOME: Final = 0x8F28  # DBCH08
ALERT_CONFIGURATION_CHANGED: Final = 0x8F2A  # DBCH09
ALERT_MESSAGE_DISCARDED: Final = 0x8F2C  # DBCH10
ALERT_NO_CAPACITY: Final = 0x8F2D  # DBCH11
#: alert code -> message code of its alert
MESSAGE_CODES: Final[dict[int, int]] = {
    ALERT_LIMITED_DUTY_CYCLE: 0x0110,
    ALERT_CHANNEL_CHANGED: 0x0111,
    ALERT_SCAN_OUTCOME: 0x0112,
    ALERT_CONFIGURATION_CHANGED: 0x0113,
    ALERT_MESSAGE_DISCARDED: 0x0114,
    ALERT_NO_CAPACITY: 0x0115,
}
#: configuration field positions (DBCH04 order)
_PAGE28_MASK: Final = 0
_NORMAL_LIMITED: Final = 4
_LIMITED_CRITICAL: Final = 5
_CHANGES_PER_WEEK: Final = 6

#: sends a Sub GHz alert: (tx, alert code, extra values)
Notify = Callable[[Tx, int, tuple[Data, ...]], None]


class DutyCycle(enum.Enum):
    """Duty-cycle management state of the Sub GHz radio."""

    NORMAL = "normal"
    LIMITED = "limited"
    CRITICAL = "critical"


# ------------------------------------------------------------------------------- logs


def _log_row(name: str) -> TypeDescription:
    use_case = {"subghz": "DBCH02", "event": "ECS35c", "security": "ECS35d"}[name]
    rows = objects_for(use_case) or ()
    description = cosem_model.profile_description(rows[0]) if rows else None
    if description is None:  # pragma: no cover - the volume lists these buffers
        raise ValueError(f"no buffer description for {use_case}")
    return description


_DESCRIPTIONS: Final = {name: _log_row(name) for name in ("subghz", "event", "security")}


def record(tx: Tx, name: str, code: int, other: bytes = b"") -> None:
    """Append an entry to the CHF log ``name`` (oldest dropped beyond 100 entries)."""
    entries = tx.get_json(LOG_PREFIX + name, [])
    entries = list(entries) if isinstance(entries, list) else []
    seconds = int(tx.now.timestamp())
    entries.append([seconds, code, other.hex()])
    tx.put_json(LOG_PREFIX + name, entries[-LOG_CAPACITY:])


def log_buffer(tx: Tx, name: str) -> CompactArray:
    """The Profile Generic buffer of the log ``name``: compact-array of its entries."""
    entries = tx.get_json(LOG_PREFIX + name, [])
    entries = entries if isinstance(entries, list) else []
    with_other = name != "security"
    values: list[Data] = []
    for seconds, code, other in entries:
        items: tuple[Data, ...] = (DoubleLongUnsigned(int(seconds)), LongUnsigned(int(code)))
        if with_other:
            items += (OctetString(bytes.fromhex(other).ljust(8, b"\x00")[:8]),)
        values.append(Structure(items))
    return CompactArray(_DESCRIPTIONS[name], tuple(values))


# ---------------------------------------------------------------------------- channel


def channel(tx: Tx) -> int:
    return tx.get_int(CHANNEL, DEFAULT_CHANNEL)


def channel_mask(page: int, number: int) -> BitString:
    """A 32-bit channel mask naming one channel: page in bits 31-27, the channel's bit."""
    return BitString(32, ((page << 27) | (1 << number)).to_bytes(4, "big"))


def _configuration(tx: Tx) -> tuple[Data, ...] | None:
    raw = tx.get(cosem_model.attribute_key(1, CONFIG_LN, 2))
    if raw is None:
        return None
    value = axdr.decode_exact(raw)
    return value.items if isinstance(value, Structure) else None


def _allowed_channels(tx: Tx) -> list[int]:
    config = _configuration(tx)
    item = None if config is None else config[_PAGE28_MASK]
    if not isinstance(item, BitString):
        return list(range(CHANNELS))
    mask = int.from_bytes(item.data, "big") & ((1 << CHANNELS) - 1)
    return [n for n in range(CHANNELS) if mask >> n & 1]


def _changes_allowed(tx: Tx) -> bool:
    config = _configuration(tx)
    limit = 7
    item = None if config is None else config[_CHANGES_PER_WEEK]
    if isinstance(item, Unsigned):
        limit = item.value
    recent = tx.get_json(CHANGES, [])
    recent = recent if isinstance(recent, list) else []
    week_ago = (tx.now - timedelta(days=7)).isoformat()
    return len([r for r in recent if isinstance(r, str) and r > week_ago]) < limit


def scan(tx: Tx, notify: Notify) -> int | None:
    """A channel scan (DBCH05): the new channel, or ``None`` when the channel stays."""
    current = channel(tx)
    candidates = [n for n in _allowed_channels(tx) if n != current]
    if not candidates or not _changes_allowed(tx):
        notify(tx, ALERT_SCAN_OUTCOME, ())
        return None
    new = candidates[0]
    tx.put_int(CHANNEL, new)
    recent = tx.get_json(CHANGES, [])
    recent = list(recent) if isinstance(recent, list) else []
    tx.put_json(CHANGES, [*recent[-20:], tx.now.isoformat()])
    other = bytes((PAGE_28, current, PAGE_28, new)) + bytes(4)
    record(tx, "subghz", ALERT_CHANNEL_CHANGED, other)
    notify(tx, ALERT_CHANNEL_CHANGED, (OctetString(channel_mask(PAGE_28, new).data),))
    return new


# ------------------------------------------------------------------------- duty cycle

#: Sub GHz PHY bit rate (GFSK, pages 28-31): 100 kbit/s, i.e. 100 bits a millisecond
_BITS_PER_MS: Final = 100
#: application octets one MAC frame carries once the PHY/MAC/NWK/APS/security headers
#: of a fragmented tunnel transfer are paid; and those headers plus the MAC ACK, per frame
_FRAME_PAYLOAD: Final = 80
_FRAME_OVERHEAD: Final = 70
#: thresholds are hundredths of a percent of the hour: 1 = 0.36 s of transmission
_MS_PER_HECTO_PERCENT: Final = 360
#: defaults when DBCH04 never set them (the stack's documented example: 1.00 % / 1.80 %)
DEFAULT_NORMAL_LIMITED: Final = 100
DEFAULT_LIMITED_CRITICAL: Final = 180
#: NVM override of the Sub GHz device capacity (default: the device log's 16 entries)
CAPACITY_KEY: Final = "chf/subghz/capacity"


def airtime_ms(size: int) -> int:
    """Milliseconds on air for a HAN message of ``size`` octets (fragments and ACKs)."""
    frames = max(1, -(-size // _FRAME_PAYLOAD))
    return -(-(size + frames * _FRAME_OVERHEAD) * 8 // _BITS_PER_MS)


def _threshold_ms(tx: Tx, index: int, default: int) -> int:
    config = _configuration(tx)
    item = None if config is None else config[index]
    value = item.value if isinstance(item, LongUnsigned) else default
    return value * _MS_PER_HECTO_PERCENT


def _hour(tx: Tx) -> str:
    return tx.now.replace(minute=0, second=0, microsecond=0).isoformat()


def _duty(tx: Tx) -> dict[str, object]:
    """This hour's record: ``ms`` on air, ``devices`` {EUI hex: ms}, ``suspended`` [EUI hex]."""
    duty = tx.get_json(DUTY, {})
    if not isinstance(duty, dict) or duty.get("hour") != _hour(tx):
        return {"hour": _hour(tx), "ms": 0, "devices": {}, "suspended": []}
    return dict(duty)


def _state_of(tx: Tx, used_ms: int) -> DutyCycle:
    if used_ms >= _threshold_ms(tx, _LIMITED_CRITICAL, DEFAULT_LIMITED_CRITICAL):
        return DutyCycle.CRITICAL
    if used_ms >= _threshold_ms(tx, _NORMAL_LIMITED, DEFAULT_NORMAL_LIMITED):
        return DutyCycle.LIMITED
    return DutyCycle.NORMAL


def duty_state(tx: Tx) -> DutyCycle:
    """The duty-cycle state from the hub's transmit time in the current hour."""
    return _state_of(tx, int(str(_duty(tx)["ms"])))


def transmit_seconds(tx: Tx) -> float:
    """Seconds the hub has transmitted at Sub GHz in the current hour."""
    return int(str(_duty(tx)["ms"])) / 1000


def suspended(tx: Tx) -> frozenset[str]:
    """EUIs (hex) of the devices communications are suspended with for the rest of the hour."""
    raw = _duty(tx)["suspended"]
    return frozenset(str(e) for e in raw) if isinstance(raw, list) else frozenset()


def may_send(tx: Tx, device: bytes) -> bool:
    """Whether a Remote Party command may go to HAN ``device`` now: not while the hub is
    critical (only its own essential traffic then) nor while ``device`` is suspended."""
    if duty_state(tx) is DutyCycle.CRITICAL:
        return False
    return device.hex() not in suspended(tx)


def transmitted(tx: Tx, seconds: float, device: bytes, notify: Notify) -> None:
    """Count ``seconds`` on air for traffic to ``device``; on leaving the normal state the
    device with the most traffic this hour is suspended until the hour ends (DBCH06)."""
    duty = _duty(tx)
    before = _state_of(tx, int(str(duty["ms"])))
    used = int(str(duty["ms"])) + round(seconds * 1000)
    raw = duty["devices"]
    devices = {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    devices[device.hex()] = devices.get(device.hex(), 0) + round(seconds * 1000)
    duty.update(ms=used, devices=devices)
    action = None
    if before is DutyCycle.NORMAL and _state_of(tx, used) is not DutyCycle.NORMAL:
        heaviest = max(sorted(devices), key=lambda k: devices[k])
        action = bytes.fromhex(heaviest)
        duty["suspended"] = sorted({*suspended(tx), heaviest})
    tx.put_json(DUTY, duty)
    if action is not None:
        record(tx, "subghz", ALERT_LIMITED_DUTY_CYCLE, action)
        notify(tx, ALERT_LIMITED_DUTY_CYCLE, (OctetString(action),))


def account(tx: Tx, sends: Sequence[Outgoing], notify: Notify) -> None:
    """Count the hub's HAN transmissions among ``sends`` (ports ``han`` and ``ota``)."""
    for out in sends:
        if out.port in _HAN_PORTS:
            device = b"" if out.to is None else bytes(out.to)
            transmitted(tx, airtime_ms(len(out.data)) / 1000, device, notify)


_HAN_PORTS: Final = frozenset({"han", "ota"})


def request_id(data: bytes) -> bytes:
    """The DBCH10 detail of a discarded command: business originator(8) || business
    target(8) || CRA flag(1) || originator counter(8) (empty if ``data`` is not GBCS)."""
    try:
        message = frame.locate(data).message
    except DecodeError:
        return b""
    if isinstance(message, frame.GbtBlockMessage):
        cra, origin, target, counter = (
            message.cra, message.originator, message.recipient, message.originator_counter
        )  # fmt: skip
    else:
        header = message.header
        cra, origin, target, counter = (
            header.cra, header.originator, header.recipient, header.originator_counter
        )  # fmt: skip
    return bytes(origin) + bytes(target) + bytes((int(cra),)) + counter.to_bytes(8, "big")


def discard(tx: Tx, data: bytes, device: bytes, notify: Notify) -> None:
    """DBCH10: the Remote Party command ``data`` to ``device`` is not sent (suspended)."""
    detail = request_id(data)
    tx.log("event", f"command to {device.hex()} discarded: Sub GHz duty cycle", 0x8F2C)
    record(tx, "subghz", ALERT_MESSAGE_DISCARDED, device)
    notify(tx, ALERT_MESSAGE_DISCARDED, (OctetString(detail),))


def capacity(tx: Tx, default: int) -> int:
    """How many devices may be joined at Sub GHz (NVM :data:`CAPACITY_KEY` or ``default``)."""
    return tx.get_int(CAPACITY_KEY, default)


def no_capacity(tx: Tx, device: bytes, notify: Notify) -> None:
    """DBCH11: ``device`` was not allowed to join: no more Sub GHz device capacity."""
    record(tx, "subghz", ALERT_NO_CAPACITY, device)
    notify(tx, ALERT_NO_CAPACITY, (OctetString(device),))


# ---------------------------------------------------------------------- COSEM objects


def objects(notify: Notify, generic: ObjectTable) -> ObjectTable:
    """The Sub GHz and log objects; configuration writes go through ``generic``'s setter."""
    generic_config = generic.get((1, CONFIG_LN))
    check = None if generic_config is None else generic_config.set.get(2)

    def set_config(ctx: CosemContext, value: Data) -> None:
        if check is None:
            raise CosemFailure(DataAccessResult.READ_WRITE_DENIED)
        check(ctx, value)
        notify(ctx.tx, ALERT_CONFIGURATION_CHANGED, (value,))

    def set_scan(ctx: CosemContext, value: Data) -> None:
        if not isinstance(value, Unsigned):
            raise CosemFailure(DataAccessResult.TYPE_UNMATCHED)
        ctx.tx.put_int(SCAN, value.value)
        scan(ctx.tx, notify)

    return {
        (1, CONFIG_LN): CosemObject(set={2: set_config}),
        (1, SCAN_LN): CosemObject(
            get={2: lambda ctx: Unsigned(ctx.tx.get_int(SCAN, 0))}, set={2: set_scan}
        ),
        (1, CHANNEL_LN): CosemObject(get={2: lambda ctx: channel_mask(PAGE_28, channel(ctx.tx))}),
        (7, CHANNEL_LOG_LN): CosemObject(get={2: lambda ctx: log_buffer(ctx.tx, "subghz")}),
        (7, EVENT_LOG_LN): CosemObject(get={2: lambda ctx: log_buffer(ctx.tx, "event")}),
        (7, SECURITY_LOG_LN): CosemObject(get={2: lambda ctx: log_buffer(ctx.tx, "security")}),
    }
