"""gas_valve: credit closes and arms the GSME's valve, the consumer opens it, never a command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.firmware import gas_metering as gm
from smemu.firmware import gas_valve as gv
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.han import decode_han
from smemu.firmware.common.machine import (
    BootEvent,
    DeviceType,
    LineEvent,
    Outgoing,
    TimerEvent,
    Tx,
)
from smemu.firmware.common.registry import MACHINES
from smemu.firmware.gas_handlers import HANDLERS, STORE
from smemu.firmware.gas_zcl import serve
from smemu.firmware.gsme import VALVE_BUTTON, WAKE
from smemu.firmware.registers.tables import DayProfile, Prepayment, Tariff
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.zigbee import gbz

from ._support import GSME, make_pki

T0 = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday
#: 20 p/kWh all day: 100 l/h of gas is about 1.12 kWh, 22.4 p an hour
PRICED = Tariff(day_profiles=(DayProfile(((0, 1),)),), tou_prices=(20_000,))
POUND = 100_000  # 10^-5 currency units


def _commit(tx: Tx, base: dict[str, bytes]) -> dict[str, bytes]:
    out = dict(base)
    for key, value in tx.writes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _prepay_meter(prepayment: Prepayment | None = None, *, credit: int = POUND) -> Tx:
    """A prepayment meter flowing 100 l/h with ``credit`` on it, at T0."""
    tx = Tx(T0, {})
    tx.put_json(gm.FLOW, {"litres_per_hour": 100})
    gm.catch_up(tx)
    gm.set_tariff(tx, PRICED, snapshot_cause=None)
    gm.set_prepayment(tx, prepayment or Prepayment())
    gm.set_payment_mode(tx, prepay=True)
    gm.credit(tx, credit, gm.CreditKind.TOP_UP)
    return tx


def _advance(tx: Tx, hours: float) -> Tx:
    """The meter ``hours`` later, its registers caught up."""
    out = Tx(tx.now + timedelta(hours=hours), _commit(tx, dict(tx.base)))
    gm.catch_up(out)
    return out


def _gcs33(tx: Tx) -> int:
    """The SupplyStatus a GCS33 read (Metering 0x0014) answers: 0 off, 1 armed, 2 on."""
    body = gbz.GbzMessage((gbz.GbzComponent(gbz.CONTROL_LAST, 0x0702, 0x00, 0, 0x00,
                                            b"\x14\x00"),))  # fmt: skip
    [c] = serve(tx, body, STORE, HANDLERS).components
    assert c.payload[:4] == b"\x14\x00\x00\x30"
    return c.payload[4]


def _queued(tx: Tx) -> list[int]:
    raw = tx.get_json(gv.ALERTS, [])
    return [code for code, _t in raw] if isinstance(raw, list) else []


def test_credit_running_out_closes_the_valve_and_gcs33_reads_off() -> None:
    tx = _prepay_meter()
    assert gv.state(tx) is gv.Valve.OPEN and _gcs33(tx) == 2
    tx = _advance(tx, 24)
    assert gm.registers(tx).supply_disabled
    assert gv.state(tx) is gv.Valve.CLOSED
    assert _gcs33(tx) == 0
    assert gv.ALERT_CREDIT_BELOW_DISABLEMENT in _queued(tx)
    volume = gm.registers(tx).volume_litres
    assert volume < 24 * 100  # stopped when the pound was used, about 4.5 h in
    tx = _advance(tx, 24)
    assert gm.registers(tx).volume_litres == volume


def test_top_up_arms_the_valve_and_the_consumer_opens_it() -> None:
    tx = _advance(_prepay_meter(), 24)
    gv.take_alerts(tx)
    gm.credit(tx, 5 * POUND, gm.CreditKind.TOP_UP)
    assert gv.state(tx) is gv.Valve.ARMED and _gcs33(tx) == 1
    assert _queued(tx) == [gv.ALERT_SUPPLY_ARMED]
    volume = gm.registers(tx).volume_litres
    tx = _advance(tx, 2)
    assert gm.registers(tx).volume_litres == volume  # armed is still closed
    assert gv.local_open(tx, gm.enable_supply)
    assert gv.state(tx) is gv.Valve.OPEN and _gcs33(tx) == 2
    tx = _advance(tx, 2)
    assert gm.registers(tx).volume_litres == volume + 200  # flowing again


def test_emergency_credit_arms_with_its_own_alert() -> None:
    ec = Prepayment(emergency_credit_threshold=POUND, emergency_credit_limit=3 * POUND)
    tx = _advance(_prepay_meter(ec), 24)
    assert gv.state(tx) is gv.Valve.CLOSED
    gv.take_alerts(tx)
    assert gm.activate_emergency_credit(tx)
    assert gv.state(tx) is gv.Valve.ARMED
    assert _queued(tx) == [gv.ALERT_ARMED_BY_EMERGENCY_CREDIT]


def test_a_valve_closed_by_command_is_not_armed_by_credit() -> None:
    tx = _prepay_meter()
    assert gv.command(tx, gv.Valve.CLOSED) is gv.Valve.CLOSED
    gm.credit(tx, 5 * POUND, gm.CreditKind.TOP_UP)
    assert gv.state(tx) is gv.Valve.CLOSED
    assert not gv.local_open(tx, gm.enable_supply)  # not armed: the button does nothing


def test_armed_without_credit_stays_armed_when_pressed() -> None:
    tx = _advance(_prepay_meter(), 24)
    gv.command(tx, gv.Valve.ARMED)  # GCS39 while there is no credit
    assert not gv.local_open(tx, gm.enable_supply)
    assert gv.state(tx) is gv.Valve.ARMED


def test_non_disablement_period_holds_the_valve_open() -> None:
    all_day = tuple(((0, 1440),) for _ in range(7))
    tx = _advance(_prepay_meter(Prepayment(friendly=all_day)), 24)
    assert gv.state(tx) is gv.Valve.OPEN
    queued = _queued(tx)
    assert gv.ALERT_CREDIT_BELOW_DISABLEMENT in queued
    assert gv.ALERT_DISABLEMENT_SUSPENDED in queued


def test_credit_mode_meter_never_closes() -> None:
    tx = Tx(T0, {})
    tx.put_json(gm.FLOW, {"litres_per_hour": 100})
    gm.catch_up(tx)
    gm.set_tariff(tx, PRICED, snapshot_cause=None)
    tx = _advance(tx, 48)
    assert gv.state(tx) is gv.Valve.OPEN and not _queued(tx)


#: what a remote party (and credit) can do: close, arm, ask "on", top up, let time pass
_ACTIONS = st.lists(st.sampled_from(["close", "arm", "on", "top_up", "wait"]), max_size=12)


@settings(max_examples=40, deadline=None)
@given(_ACTIONS)
def test_nothing_but_the_button_opens_a_valve_that_is_not_open(actions: list[str]) -> None:
    tx = _prepay_meter(credit=POUND // 2)
    for action in actions:
        before = gv.state(tx)
        if action == "wait":
            tx = _advance(tx, 6)
        elif action == "top_up":
            gm.credit(tx, POUND, gm.CreditKind.TOP_UP)
        elif action == "on":
            if before is not gv.Valve.OPEN:
                with pytest.raises(ValueError, match="not opened remotely"):
                    gv.command(tx, gv.Valve.OPEN)
            else:
                gv.command(tx, gv.Valve.OPEN)
        else:
            gv.command(tx, gv.Valve.CLOSED if action == "close" else gv.Valve.ARMED)
        if before is not gv.Valve.OPEN:
            assert gv.state(tx) is not gv.Valve.OPEN, (action, before)


# ------------------------------------------------------------------ the GSME machine


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path, {GSME: DeviceType.GSME})


def _gsme(pki: Pki, nvm: dict[str, bytes], at: datetime) -> CommandMachine:
    machine = MACHINES[DeviceType.GSME](GSME, nvm)
    machine.step(BootEvent(), at)
    return machine


def _alert_codes(sends: tuple[Outgoing, ...]) -> list[int]:
    """Alert codes of the Generic Critical Alerts among the GSME's uplink messages."""
    codes: list[int] = []
    for send in sends:
        message = decode_han(send.data).message if send.port == "han" else None
        inner = frame.signing_message(frame.locate(message).message) if message else None
        if inner is None or inner.header.cra is not Cra.ALERT:
            continue
        info = inner.header.other_information
        if info is not None and info.message_code == 0x1000:
            alert = gbz.decode_exact(inner.payload, alert=True).alert
            assert alert is not None
            codes.append(alert.alert_code)
    return codes


def test_gsme_closes_at_the_wake_alerts_and_opens_on_the_button(pki: Pki) -> None:
    start = datetime(2025, 1, 6, tzinfo=UTC)
    tx = Tx(start, pki.provisioning(GSME))
    tx.put_json(gm.FLOW, {"litres_per_hour": 100})
    gm.catch_up(tx)
    gm.set_tariff(tx, PRICED, snapshot_cause=None)
    gm.set_payment_mode(tx, prepay=True)
    gm.credit(tx, POUND, gm.CreditKind.TOP_UP)
    machine = _gsme(pki, _commit(tx, dict(tx.base)), start)
    later = start + timedelta(hours=12)
    step = machine.step(TimerEvent(WAKE), later)
    assert gv.state(Tx(later, machine.nvm)) is gv.Valve.CLOSED
    assert gv.ALERT_CREDIT_BELOW_DISABLEMENT in _alert_codes(step.sends)
    assert gv.ALERTS not in machine.nvm
    # a top-up arms it (as PCS01 would: gas_metering.credit), then the consumer presses
    tx = Tx(later, machine.nvm)
    gm.credit(tx, POUND, gm.CreditKind.TOP_UP)
    machine = _gsme(pki, _commit(tx, dict(machine.nvm)), later)
    assert gv.state(Tx(later, machine.nvm)) is gv.Valve.ARMED
    machine.step(LineEvent(VALVE_BUTTON, True), later + timedelta(minutes=1))
    assert gv.state(Tx(later, machine.nvm)) is gv.Valve.OPEN
