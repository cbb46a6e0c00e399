"""GCS20's event configuration applied: the GSME logs and alerts its events as configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import gas_device_mgmt as dm
from smemu.firmware import gas_events
from smemu.firmware import gas_valve as gv
from smemu.firmware.common.han import decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, Outgoing, TimerEvent, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.firmware.gas_handlers import HANDLERS, STORE
from smemu.firmware.gas_zcl import serve
from smemu.firmware.gsme import WAKE
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.device_management import (
    ApplyByEventGroup,
    ApplyByList,
    SetEventConfiguration,
)
from smemu.protocols.zigbee.events import LogId

from ._support import GSME, make_pki

T0 = datetime(2025, 1, 6, tzinfo=UTC)
LOW_CREDIT = gv.ALERT_LOW_CREDIT  # 0x810D, non-critical
BELOW_DISABLEMENT = gv.ALERT_CREDIT_BELOW_DISABLEMENT  # 0x8F0F, critical


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path, {GSME: DeviceType.GSME})


def _gcs20(tx: Tx, command: SetEventConfiguration) -> None:
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0708, 0x09, 0, 0x04, command.encode())
    reply = serve(tx, gbz.GbzMessage((comp,)), STORE, HANDLERS, abandon_after_failure=True)
    assert reply.components[0].payload[1] == 0  # Default Response SUCCESS


def _alerts(sends: tuple[Outgoing, ...]) -> list[int]:
    """Alert codes of the generic alerts (critical 0x1000, non-critical 0x1001) sent."""
    codes: list[int] = []
    for send in sends:
        message = decode_han(send.data).message if send.port == "han" else b""
        if not message:
            continue  # a tunnel GET: no message
        inner = frame.signing_message(frame.locate(message).message)
        if inner is None or inner.header.cra is not Cra.ALERT:
            continue
        if inner.header.other_information.message_code in (0x1000, 0x1001):
            alert = gbz.decode_exact(inner.payload, alert=True).alert
            assert alert is not None
            codes.append(alert.alert_code)
    return codes


def _wake_with(pki: Pki, *configs: SetEventConfiguration) -> tuple[list[int], list[int]]:
    """Queue a low-credit and a below-disablement alert, apply ``configs``, wake the GSME:
    (alert codes sent, event ids in the general event log)."""
    tx = Tx(T0, pki.provisioning(GSME))
    for config in configs:
        _gcs20(tx, config)
    at = int(T0.timestamp())
    tx.put_json(gv.ALERTS, [[LOW_CREDIT, at], [BELOW_DISABLEMENT, at]])
    nvm = {**tx.base, **{k: v for k, v in tx.writes.items() if v is not None}}
    machine = MACHINES[DeviceType.GSME](GSME, nvm)
    step = machine.step(BootEvent(), T0)  # power-up is a wake: the queue goes out
    sent = _alerts(step.sends)
    later = T0 + timedelta(minutes=30)
    assert _alerts(machine.step(TimerEvent(WAKE), later).sends) == []  # sent once
    logged = gas_events.entries(Tx(later, machine.nvm), LogId.GENERAL_EVENT_LOG)
    return sent, [e.event_id for e in logged]


def test_by_default_a_non_critical_event_is_logged_but_not_alerted(pki: Pki) -> None:
    sent, logged = _wake_with(pki)
    assert LOW_CREDIT not in sent and BELOW_DISABLEMENT in sent
    assert LOW_CREDIT in logged and BELOW_DISABLEMENT in logged


def test_gcs20_turns_the_alert_on(pki: Pki) -> None:
    on = SetEventConfiguration(0, 0, 0x03 | dm.ALERT_TO_WAN, 0, ApplyByList((LOW_CREDIT,)))
    sent, logged = _wake_with(pki, on)
    assert LOW_CREDIT in sent and BELOW_DISABLEMENT in sent
    assert LOW_CREDIT in logged


def test_gcs20_turns_logging_and_alert_off_but_never_a_critical_alert(pki: Pki) -> None:
    on = SetEventConfiguration(0, 0, 0x0B, 1, ApplyByEventGroup(dm.NON_CRITICAL_GROUP))
    off = SetEventConfiguration(0, 0, 0x00, 0, ApplyByList((LOW_CREDIT, BELOW_DISABLEMENT)))
    sent, logged = _wake_with(pki, on, off)
    assert LOW_CREDIT not in sent and LOW_CREDIT not in logged
    # 0x8F0F is critical: GCS20 governs the non-critical (0x81xx) codes only
    assert BELOW_DISABLEMENT in sent and BELOW_DISABLEMENT in logged


def test_the_log_action_chooses_the_log() -> None:
    tx = Tx(T0, {})
    _gcs20(tx, SetEventConfiguration(0, 0, 0x01 | dm.ALERT_TO_WAN, 0, ApplyByList((0x81AA,))))
    assert dm.event_behaviour(tx, 0x81AA) == (LogId.TAMPER_LOG, True)
    assert gas_events.raise_event(tx, 0x81AA) is True
    assert [e.event_id for e in gas_events.entries(tx, LogId.TAMPER_LOG)] == [0x81AA]
    assert gas_events.entries(tx, LogId.GENERAL_EVENT_LOG) == []
    # a 0x81xx code the meter has no configuration for is logged and alerted as raised
    assert dm.event_behaviour(tx, 0x8168) == (LogId.GENERAL_EVENT_LOG, True)
