"""Events cluster codec: the Get Event Log control octet (log id in the low nibble)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import signing_message
from smemu.protocols.text import parse_message_text
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import EVENTS_CLUSTER, GetEventLog, LogId
from tests.strategies.zigbee import zcl_records


def test_low_nibble_is_the_log_id() -> None:
    # ZigBee SE 1.4: 0x14 = event control 1 (match the event id), log 4 (security).
    request = GetEventLog.decode_exact(bytes.fromhex("14 0C8F 00000000 FFFFFFFF 00 0000"))
    assert request.log_id == LogId.SECURITY_EVENT_LOG
    assert request.event_control == 1
    assert request.to_json()["event_control_log_id"] == {"event_control": 1, "log_id": 4}


def test_control_byte_builds_the_octet() -> None:
    assert GetEventLog.control_byte(LogId.GENERAL_EVENT_LOG) == 0x03
    assert GetEventLog.control_byte(LogId.SECURITY_EVENT_LOG, 1) == 0x14
    with pytest.raises(ValueError):
        GetEventLog.control_byte(16)


@given(zcl_records(GetEventLog))
def test_get_event_log_round_trip(request: GetEventLog) -> None:
    again = GetEventLog.decode_exact(request.encode())
    assert again == request
    assert GetEventLog.control_byte(again.log_id, again.event_control) == (
        request.event_control_log_id
    )


@given(st.binary(max_size=20))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        GetEventLog.decode_exact(data)


def test_reference_cs10b_reads_the_security_log(rtds_dir: Path) -> None:
    path = rtds_dir / "6.13_CS10b" / "CS10b_6.13_SUCCESS_COMMAND_GBCS.HEX"
    if not path.exists():
        pytest.skip(f"no CS10b reference command at {path}")
    inner = signing_message(frame.locate(parse_message_text(path.read_text())[0]).message)
    assert inner is not None
    payload = gbz.decode_exact(inner.payload)
    (component,) = [c for c in payload.components if c.cluster_id == EVENTS_CLUSTER]
    request = GetEventLog.decode_exact(component.payload)
    assert request.log_id == LogId.SECURITY_EVENT_LOG
