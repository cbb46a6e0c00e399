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
change channel sends DBCH08 (0x8F28). Duty cycle: the hub counts transmit seconds in the
current hour; over the normal/limited threshold it is *limited* (DBCH06, 0x8F20, naming the
device whose traffic caused it), over the limited/critical threshold *critical*, and
non-essential messages are then discarded (DBCH10, 0x8F2C). A join beyond the Sub GHz
device capacity is refused with DBCH11 (0x8F2D).

NVM: ``chf/subghz/channel`` (int), ``chf/subghz/changes`` [ISO instants of recent changes],
``chf/subghz/duty`` {"hour": ISO, "seconds": int}, ``chf/log/<name>`` [[UTC seconds,
code, other hex], ...] for the logs ``subghz``, ``event`` and ``security`` (100 entries).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import timedelta
from typing import Final

from smemu.firmware import cosem_model
from smemu.firmware.common.cosem import CosemContext, CosemFailure, CosemObject, ObjectTable
from smemu.firmware.common.machine import Tx
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


def _threshold(tx: Tx, index: int, default: int) -> int:
    config = _configuration(tx)
    item = None if config is None else config[index]
    return item.value if isinstance(item, LongUnsigned) else default


def duty_state(tx: Tx) -> DutyCycle:
    """The duty-cycle state from the transmit seconds of the current hour."""
    used = transmit_seconds(tx)
    # thresholds are in tenths of a second per hour
    if used * 10 >= _threshold(tx, _LIMITED_CRITICAL, 360):
        return DutyCycle.CRITICAL
    if used * 10 >= _threshold(tx, _NORMAL_LIMITED, 300):
        return DutyCycle.LIMITED
    return DutyCycle.NORMAL


def transmit_seconds(tx: Tx) -> int:
    duty = tx.get_json(DUTY, {})
    hour = tx.now.replace(minute=0, second=0, microsecond=0).isoformat()
    if not isinstance(duty, dict) or duty.get("hour") != hour:
        return 0
    return int(duty.get("seconds", 0))


def transmitted(tx: Tx, seconds: int, device: bytes, notify: Notify) -> None:
    """Count ``seconds`` of transmission for ``device``; alert on entering limited."""
    before = duty_state(tx)
    hour = tx.now.replace(minute=0, second=0, microsecond=0).isoformat()
    tx.put_json(DUTY, {"hour": hour, "seconds": transmit_seconds(tx) + seconds})
    if before is DutyCycle.NORMAL and duty_state(tx) is not DutyCycle.NORMAL:
        record(tx, "subghz", ALERT_LIMITED_DUTY_CYCLE, device)
        notify(tx, ALERT_LIMITED_DUTY_CYCLE, (OctetString(device),))


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
