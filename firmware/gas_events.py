"""Event logs of the gas devices and their read: CS10a / CS10b Get Event Log.

Layer: firmware. gbcs-reference.md 10.2 (Events cluster 0x0709: Get Event Log 0x00 ->
Publish Event Log 0x01; Clear Event Log 0x01 is CS11, in
:mod:`smemu.firmware.gas_handlers`).

NVM: ``gsme/log/<log id>/<seq, 10 digits>`` -> event id (2, big-endian) || event time
(4, seconds since 2000, big-endian) || event data. The prefix is
:data:`smemu.firmware.gas_handlers.EVENT_LOG_PREFIX` (the one CS11 clears); entries are
appended by :func:`record` and a log keeps its newest :data:`LOG_CAPACITY` entries.

Events the GSME raises go through :func:`raise_event`: logged and alerted as the GCS20
event configuration says (:func:`smemu.firmware.gas_device_mgmt.event_behaviour`; critical
codes always both).

A Get Event Log names a log (low nibble of its first octet; 0 = every log), a time window
(start and end inclusive), a number of events (0: all) and an offset. The matching entries,
oldest first, are published in one Publish Event Log; none matching answers a Default
Response ``NOT_FOUND``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from smemu.firmware import gas_device_mgmt
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_handlers import EVENT_LOG_PREFIX, EVENTS
from smemu.firmware.gas_zcl import CommandHandler, ZclRefusedError, ZclReply, decode_request
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import EventLogEntry, GetEventLog, LogId, PublishEventLog
from smemu.protocols.zigbee.zcl import ZclStatus

#: entries kept per log (the oldest are dropped first)
LOG_CAPACITY: Final = 100
#: most entries one Publish Event Log carries
MAX_PUBLISHED: Final = 32
_NEXT: Final = "gsme/log_next"
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)


def _seconds(at: datetime) -> int:
    return int((at - _EPOCH).total_seconds())


def record(tx: Tx, log_id: LogId, event_id: int, data: bytes = b"") -> None:
    """Append an event (now) to log ``log_id``, dropping the oldest beyond capacity."""
    prefix = f"{EVENT_LOG_PREFIX}{int(log_id)}/"
    held = tx.keys(prefix)
    for key in held[: max(0, len(held) - LOG_CAPACITY + 1)]:
        tx.delete(key)
    seq = tx.get_int(_NEXT)
    tx.put_int(_NEXT, seq + 1)
    value = (event_id & 0xFFFF).to_bytes(2, "big") + _seconds(tx.now).to_bytes(4, "big") + data
    tx.put(f"{prefix}{seq:010d}", value)


def raise_event(tx: Tx, event_id: int, data: bytes = b"") -> bool:
    """The GSME raised ``event_id``: log it where its configuration says (or nowhere);
    True when it is also to be alerted to the WAN."""
    log_id, alert = gas_device_mgmt.event_behaviour(tx, event_id)
    if log_id:
        record(tx, LogId(log_id), event_id, data)  # 1-7: every value is a LogId
    return alert


def entries(tx: Tx, log_id: int) -> list[EventLogEntry]:
    """The entries of one log (0: every log), oldest first."""
    prefix = EVENT_LOG_PREFIX if log_id == 0 else f"{EVENT_LOG_PREFIX}{log_id}/"
    found: list[tuple[str, EventLogEntry]] = []
    for key in tx.keys(prefix):
        raw = tx.get(key)
        log, _, seq = key[len(EVENT_LOG_PREFIX) :].partition("/")
        if raw is None or len(raw) < 6 or not log.isdigit():
            continue
        at = int.from_bytes(raw[2:6], "big")  # ZCL UTC time: seconds since 2000
        entry = EventLogEntry(int(log), int.from_bytes(raw[:2], "big"), at, raw[6:])
        found.append((seq, entry))
    found.sort(key=lambda pair: pair[0])
    return [entry for _, entry in found]


def get_event_log(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """CS10a / CS10b (events 0x00 Get Event Log): the matching entries, or NOT_FOUND."""
    request = decode_request(GetEventLog, comp)
    log_id = request.log_id
    matching = [
        e for e in entries(tx, log_id) if request.start_time <= e.event_time <= request.end_time
    ]
    if request.event_id:
        matching = [e for e in matching if e.event_id == request.event_id]
    chosen = matching[request.event_offset :]
    limit = request.number_of_events or MAX_PUBLISHED
    chosen = chosen[: min(limit, MAX_PUBLISHED)]
    if not chosen:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no event in the window")
    reply = PublishEventLog(len(matching), 0, 1, 0, tuple(chosen))
    return ZclReply(reply.COMMAND_ID, reply.encode())


#: Events cluster command handlers the gas devices add to their ZCL server.
HANDLERS: Final[dict[tuple[int, int], CommandHandler]] = {(EVENTS, 0x00): get_event_log}
