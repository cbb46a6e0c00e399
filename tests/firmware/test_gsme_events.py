"""The gas devices' event logs: recording, and CS10a / CS10b Get Event Log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smemu.firmware import gas_events
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import ZclRefusedError
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import GetEventLog, LogId, PublishEventLog
from smemu.protocols.zigbee.zcl import ZclStatus

T0 = datetime(2025, 1, 6, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _utc(at: datetime) -> int:
    """ZCL UTC time: seconds since 2000."""
    return int((at - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())


def _tx(at: datetime, base: dict[str, bytes] | None = None) -> Tx:
    return Tx(at, base or {})


def _filled() -> dict[str, bytes]:
    """A security log with events at T0, T0+1h, T0+2h and a general event at T0+1h."""
    nvm: dict[str, bytes] = {}
    for i, (log, event) in enumerate(
        ((LogId.SECURITY_EVENT_LOG, 0x8F0C), (LogId.GENERAL_EVENT_LOG, 0x8100),
         (LogId.SECURITY_EVENT_LOG, 0x8F1C), (LogId.SECURITY_EVENT_LOG, 0x8F1E))
    ):  # fmt: skip
        tx = _tx(T0 + HOUR * (i if i < 2 else i - 1), nvm)
        gas_events.record(tx, log, event, b"\x01" if event == 0x8F1C else b"")
        nvm.update({k: v for k, v in tx.writes.items() if v is not None})
    return nvm


def _get(
    nvm: dict[str, bytes], log: int, start: datetime, end: datetime, **kw: int
) -> PublishEventLog:
    request = GetEventLog(
        log,
        kw.get("event_id", 0),
        _utc(start),
        _utc(end),
        kw.get("count", 0),
        kw.get("offset", 0),
    )
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0709, 0x01, 0, 0x00, request.encode())
    reply = gas_events.get_event_log(_tx(T0 + 10 * HOUR, nvm), comp)
    return PublishEventLog.decode_exact(reply.payload)


def test_security_log_window_oldest_first() -> None:
    nvm = _filled()
    published = _get(nvm, LogId.SECURITY_EVENT_LOG, T0, T0 + 2 * HOUR)
    assert [e.event_id for e in published.entries] == [0x8F0C, 0x8F1C, 0x8F1E]
    assert [e.event_time for e in published.entries] == [
        _utc(T0),
        _utc(T0 + HOUR),
        _utc(T0 + 2 * HOUR),
    ]
    assert published.entries[1].event_data == b"\x01"
    assert published.total_number_of_matching_events == 3
    # the window, the count and the offset narrow it
    narrow = _get(nvm, LogId.SECURITY_EVENT_LOG, T0 + HOUR, T0 + 2 * HOUR, count=1, offset=1)
    assert [e.event_id for e in narrow.entries] == [0x8F1E]
    assert narrow.total_number_of_matching_events == 2
    # log 0 is every log
    every = _get(nvm, 0, T0, T0 + 2 * HOUR)
    assert sorted(e.event_id for e in every.entries) == [0x8100, 0x8F0C, 0x8F1C, 0x8F1E]
    one = _get(nvm, LogId.SECURITY_EVENT_LOG, T0, T0 + 2 * HOUR, event_id=0x8F1C)
    assert [e.event_id for e in one.entries] == [0x8F1C]


def test_no_event_in_the_window_is_not_found() -> None:
    with pytest.raises(ZclRefusedError) as refused:
        _get(_filled(), LogId.SECURITY_EVENT_LOG, T0 + 3 * HOUR, T0 + 4 * HOUR)
    assert refused.value.status is ZclStatus.NOT_FOUND
    with pytest.raises(ZclRefusedError):
        _get({}, LogId.SECURITY_EVENT_LOG, T0, T0 + HOUR)


def test_a_log_keeps_its_newest_entries() -> None:
    nvm: dict[str, bytes] = {}
    for i in range(gas_events.LOG_CAPACITY + 5):
        tx = _tx(T0 + timedelta(minutes=i), nvm)
        gas_events.record(tx, LogId.SECURITY_EVENT_LOG, i)
        for k, v in tx.writes.items():
            if v is None:
                nvm.pop(k, None)
            else:
                nvm[k] = v
    held = gas_events.entries(_tx(T0, nvm), LogId.SECURITY_EVENT_LOG)
    assert len(held) == gas_events.LOG_CAPACITY
    assert held[0].event_id == 5 and held[-1].event_id == gas_events.LOG_CAPACITY + 4


def test_malformed_request_is_refused() -> None:
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0709, 0x01, 0, 0x00, b"\x04\x00")
    with pytest.raises(ZclRefusedError) as refused:
        gas_events.get_event_log(_tx(T0), comp)
    assert refused.value.status is ZclStatus.MALFORMED_COMMAND
