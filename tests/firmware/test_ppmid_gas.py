"""Gas on the PPMID: the GPF publishes the mirrored gas figures, the PPMID keeps one set per
fuel; the gas top-up answer when it arms the valve; the ESME's enable refused without credit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import (
    esme,
    esme_han_zse,
    gas_messaging,
    gas_prepayment,
    gpf,
    joins,
    metering,
    ppmid,
    supply,
)
from smemu.firmware import gas_metering as gm
from smemu.firmware import gas_valve as gv
from smemu.firmware.common.machine import BootEvent, DeviceType, LineEvent, MessageEvent, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.firmware.ppmid_display import Balance
from smemu.firmware.ppmid_keypad import Fuel
from smemu.firmware.registers import layout as lay
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import DeviceType as LogType
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee import metering as zse_metering
from smemu.protocols.zigbee import prepayment as zp
from smemu.protocols.zigbee.registry import decode_frame
from smemu.protocols.zigbee.zcl import DefaultResponse, ZclStatus

from ._support import ESME, GSME, T0, make_pki
from .test_esme_han import PPMID, HanMeter, commissioned
from .test_gas_valve import POUND, _advance, _commit, _prepay_meter

GPF = Eui64.parse("00-DB-12-34-56-78-90-A3")
SUPPLIER = bytes.fromhex("90B3D51F30010000")
SECRET = bytes(range(32))


def _snapshots(sends: object) -> list[tuple[Eui64 | None, zp.DebtCreditStatus]]:
    out = []
    for s in sends:  # type: ignore[attr-defined]
        if s.port != esme_han_zse.ZSE_PORT:
            continue
        command = decode_frame(int.from_bytes(s.data[:2], "big"), s.data[2:]).command
        if isinstance(command, zp.PublishPrepaySnapshot):
            assert isinstance(command.snapshot_payload, zp.DebtCreditStatus)
            out.append((s.to, command.snapshot_payload))
    return out


def _with_ppmid(tx: Tx) -> Tx:
    joins.record(tx, PPMID, LogType.PPMID, JoinMethodAndRole.METHOD_A_INITIATOR)
    return tx


# ------------------------------------------------------------------ the GPF publishes


def test_publish_gas_sends_the_mirrored_figures_once_per_change() -> None:
    meter = _prepay_meter(credit=3 * POUND)  # the GSME's registers, as mirrored to the GPF
    tx = _with_ppmid(Tx(meter.now, _commit(meter, dict(meter.base))))
    assert esme_han_zse.publish_gas(tx) == 1
    [(to, status)] = _snapshots(tx.sends)
    regs = gm.registers(tx)
    assert to == PPMID
    assert status.credit_remaining == regs.balance // 1000 == 300
    assert status.emergency_credit_remaining == regs.emergency_credit // 1000
    assert status.accumulated_debt == regs.accumulated_debt // 1000
    assert esme_han_zse.publish_gas(tx) == 0  # unchanged: nothing more
    gm.credit(tx, POUND, gm.CreditKind.TOP_UP)
    assert esme_han_zse.publish_gas(tx) == 1
    assert _snapshots(tx.sends)[-1][1].credit_remaining == 400
    # the GPF numbers its ZSE frames with the sequence its relayed messages use
    assert tx.get_int(gas_messaging.SEQUENCE) == 2


def test_publish_gas_needs_a_mirror_and_a_ppmid() -> None:
    assert esme_han_zse.publish_gas(_with_ppmid(Tx(T0, {}))) == 0  # nothing mirrored yet
    meter = _prepay_meter()
    assert esme_han_zse.publish_gas(Tx(meter.now, _commit(meter, dict(meter.base)))) == 0


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(
        tmp_path, {GSME: DeviceType.GSME, GPF: DeviceType.GPF, PPMID: DeviceType.PPMID}
    )


def test_the_gpf_publishes_after_a_mirror_refresh_and_the_ppmid_shows_gas(pki: Pki) -> None:
    prepaid = _prepay_meter(credit=7 * POUND)
    start = prepaid.now
    meter = MACHINES[DeviceType.GSME](
        GSME, {**pki.provisioning(GSME), **_commit(prepaid, dict(prepaid.base))}
    )
    proxy = MACHINES[DeviceType.GPF](
        GPF,
        {**pki.provisioning(GPF), gpf.GSME_EUI: bytes(GSME),
         **_commit(_with_ppmid(Tx(start, {})), {})},
    )  # fmt: skip
    proxy.step(BootEvent(), start)
    published = []
    for sent in meter.step(BootEvent(), start).sends:
        if sent.port == "han":
            published += _snapshots(proxy.step(MessageEvent("chf", sent.data), start).sends)
    [(to, status)] = published
    assert to == PPMID and status.credit_remaining == 700
    # the PPMID joined to the GPF (CS03A2, method A responder) shows it as gas
    log = Tx(start, {})
    joins.record(log, GPF, LogType.GPF, JoinMethodAndRole.METHOD_A_RESPONDER)
    screen = MACHINES[DeviceType.PPMID](PPMID, _commit(log, {}))
    screen.step(BootEvent(), start)
    snapshot = zp.PublishPrepaySnapshot(1, 0, 1, 0, 1, 1, 0, status)
    screen.step(MessageEvent(ppmid.ZSE_PORT, ppmid.zse_frame(snapshot), GPF), start)
    electricity = zp.DebtCreditStatus(-250, 0, 0, 0, 500, 1234)
    snapshot = zp.PublishPrepaySnapshot(1, 0, 1, 0, 1, 1, 0, electricity)
    screen.step(MessageEvent(ppmid.ZSE_PORT, ppmid.zse_frame(snapshot), ESME), start)
    shown = ppmid.display(screen.nvm)
    assert shown.gas == Balance(700, status.emergency_credit_remaining, status.accumulated_debt)
    assert shown.electricity == Balance(1234, 500, -250)
    assert shown.lines[:4] == (
        "Credit £12.34", "Emergency £5.00", "Debt -£2.50", "Gas credit £7.00",
    )  # fmt: skip


def test_fuel_follows_the_sender() -> None:
    tx = Tx(T0, {})
    joins.record(tx, GPF, LogType.GPF, JoinMethodAndRole.METHOD_A_RESPONDER)
    joins.record(tx, ESME, LogType.ESME, JoinMethodAndRole.METHOD_A_RESPONDER)
    tx.put(ppmid.GSME_KEY, bytes(GSME))
    assert [ppmid.fuel_of(tx, s) for s in (GPF, GSME, ESME, None)] == [
        Fuel.GAS, Fuel.GAS, Fuel.ELECTRICITY, Fuel.ELECTRICITY,
    ]  # fmt: skip


def test_the_gsmes_pcs01_answer_shows_as_gas_in_pence() -> None:
    screen = ppmid.PpmidMachine(PPMID, {})
    tx = Tx(T0, {})
    answer = zp.ConsumerTopUpResponse(zp.TopUpResult.ACCEPTED_SUPPLY_ARMED, 500_000, 2, 1_234_000)
    screen.show_command(tx, answer, Fuel.GAS, 1000)
    shown = ppmid.display(_commit(tx, {}))
    assert shown.gas.credit == 1234 and shown.electricity == Balance()
    assert shown.status.startswith("Top up accepted")
    rejected = zp.ConsumerTopUpResponse(zp.TopUpResult.REJECTED_DUPLICATE_TOP_UP, 0, 2, -1)
    screen.show_command(tx, rejected, Fuel.GAS, 1000)
    assert ppmid.display(_commit(tx, {})).status == "Top up rejected"
    assert ppmid.display(_commit(tx, {})).gas.credit == 1234


def test_a_screen_stored_before_the_fuel_sets_reads_as_electricity() -> None:
    old = {"at": None, "credit": 5, "emergency_credit": 6, "debt": 7, "message": "", "status": ""}
    tx = Tx(T0, {})
    tx.put_json("ppmid/display", old)
    assert ppmid.display(_commit(tx, {})).electricity == Balance(5, 6, 7)


# ------------------------------------------------------------------ gas top-up answer


def _utrn(value: int) -> str:
    from smemu.protocols.utrn import encode_utrn

    return encode_utrn(
        prepayment_secret=SECRET, originator=SUPPLIER, target=bytes(GSME), counter=1 << 32,
        value=value,
    )  # fmt: skip


def _top_up(tx: Tx, utrn: str) -> zp.ConsumerTopUpResponse:
    handler = gas_prepayment.consumer_top_up_handler(
        lambda _tx: gas_prepayment.UtrnKeys(SECRET, SUPPLIER, bytes(GSME))
    )
    body = zp.ConsumerTopUp(2, utrn.encode())
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 0, 0x04, body.encode())
    return zp.ConsumerTopUpResponse.decode_exact(handler(tx, comp).payload)


def test_a_top_up_that_arms_the_valve_answers_supply_armed() -> None:
    tx = _advance(_prepay_meter(), 24)
    assert gv.state(tx) is gv.Valve.CLOSED
    answer = _top_up(tx, _utrn(500))
    assert answer.result_type == zp.TopUpResult.ACCEPTED_SUPPLY_ARMED
    assert gv.state(tx) is gv.Valve.ARMED
    assert answer.top_up_value == 500 * 1000


def test_a_top_up_with_the_valve_open_answers_accepted() -> None:
    tx = _prepay_meter()
    assert _top_up(tx, _utrn(500)).result_type == zp.TopUpResult.ACCEPTED
    assert gv.state(tx) is gv.Valve.OPEN


def test_engine_settings_default_to_the_credit_mode_control() -> None:
    settings = gas_prepayment.engine_settings(Tx(T0, {}))
    # 0x0C94: bit 10 set (suspend debt while disabled), bit 11 set (no suspension in EC)
    assert (settings.suspend_debt_disabled, settings.suspend_debt_emergency) == (True, False)


# ------------------------------------------------------------------ ESME enable refused


def _armed_without_credit(pki: Pki) -> HanMeter:
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,)))
    tx = meter.tx()

    def prepay_no_credit(table: object, state: object) -> None:
        state[lay.S_FLAGS] |= lay.M_PREPAY | lay.M_DISABLED  # type: ignore[index]
        state[lay.S_BALANCE] = 0  # type: ignore[index]

    metering.mutate(tx, prepay_no_credit)
    tx.put_int(supply.SUPPLY, supply.Supply.ARMED)
    meter.machine = esme.EsmeMachine(ESME, _commit(tx, dict(meter.machine.nvm)))
    meter.step(BootEvent())
    return meter


@pytest.fixture
def esme_pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "esme")


def test_the_enable_button_without_credit_leaves_the_switch_armed(esme_pki: Pki) -> None:
    meter = _armed_without_credit(esme_pki)
    meter.now += timedelta(minutes=1)
    meter.step(LineEvent(esme.ENABLE_BUTTON, True))
    assert supply.state(meter.tx()) is supply.Supply.ARMED
    assert metering.registers(meter.tx()).supply_disabled


def test_a_ppmid_enable_without_credit_is_refused_and_stays_armed(esme_pki: Pki) -> None:
    meter = _armed_without_credit(esme_pki)
    request = ppmid.zse_frame(zse_metering.LocalChangeSupply(zse_metering.SupplyStatus.ON), 3)
    sent = meter.frame("zse", request, PPMID)
    answers = [
        decode_frame(int.from_bytes(o.data[:2], "big"), o.data[2:]).command
        for o in sent if o.port == "zse" and o.to == PPMID
    ]  # fmt: skip
    refusals = [a for a in answers if isinstance(a, DefaultResponse)]
    assert [a.status for a in refusals] == [ZclStatus.FAILURE]
    assert supply.state(meter.tx()) is supply.Supply.ARMED
