"""ESME tariff and prepayment behaviour backed by the register engine (issue 6).

Scenarios go through the whole machine (secured commands in, responses and alerts out) and
compare its registers with a direct computation by the register engine.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import metering, prepayment, supply
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, LineEvent, MessageEvent, Step, TimerEvent, Tx
from smemu.firmware.esme import REGISTERS_TIMER, EsmeMachine
from smemu.firmware.registers.meter import MeterRegisters
from smemu.firmware.registers.tables import DayProfile, Tariff, compile_table
from smemu.hil.demo import action, dlms_request, get
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.cosem import (
    ChargeTableEntry,
    DayScheduleAction,
    SeasonProfile,
    UnitCharge,
    WeekProfile,
)
from smemu.protocols.dlms.cosem import (
    DayProfile as CosemDayProfile,
)
from smemu.protocols.dlms.data import (
    Array,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    LongUnsigned,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.use_cases import USE_CASES
from smemu.protocols.utrn import ValueClass, encode_utrn
from tests.firmware._support import ESME, T0, command, make_pki

NOW = bytes(9) + b"\x80\x00\xff"  #: "activate now" (gbcs-reference.md 7.4)
NEVER = b"\xff" * 9 + b"\x80\x00\xff"
SUPPLIER = bytes.fromhex("90B3D51F30010000")
SECRET = bytes(range(32))
Item = tuple[apdu.AccessRequestSpecification, Data]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


class Meter:
    """An ESME driven by secured commands, its own timers and local events."""

    def __init__(self, pki: Pki) -> None:
        self.pki = pki
        self.machine = EsmeMachine(ESME, pki.provisioning(ESME))
        self.now = T0
        self.counter = 1000
        self.alerts: list[int] = []
        self.timers: dict[str, datetime] = {}
        self._record(self.machine.step(BootEvent(), T0))

    def _record(self, step: Step) -> list[bytes]:
        for request in step.timers:
            if request.at is None:
                self.timers.pop(request.name, None)
            else:
                self.timers[request.name] = request.at
        out = []
        for sent in step.sends:
            message = decode_han(sent.data).message
            inner = frame.signing_message(frame.locate(message).message)
            assert inner is not None
            body = apdu.decode_exact(inner.payload)
            if isinstance(body, apdu.DataNotificationMessage):
                head = body.body
                assert isinstance(head, Structure) and isinstance(head.items[0], LongUnsigned)
                self.alerts.append(head.items[0].value)
            else:
                out.append(inner.payload)
        return out

    def send(self, use_case: str, *items: Item) -> apdu.AccessResponseMessage:
        self.counter += 1
        uc = USE_CASES[use_case]
        data = command(
            self.pki, ESME, uc.message_codes[0], self.counter,
            dlms_request(self.counter, *items), sign=uc.criticality.value == "critical",
        )  # fmt: skip
        self.now += timedelta(seconds=1)
        put = HanFrame(TunnelCommand.PUT, data).encode()
        step = self.machine.step(MessageEvent("han", put), self.now)
        [payload] = self._record(step)
        body = apdu.decode_exact(payload)
        assert isinstance(body, apdu.AccessResponseMessage)
        return body

    def run_until(self, until: datetime) -> None:
        """Fire the machine's own timers up to ``until``."""
        while True:
            due = sorted((at, name) for name, at in self.timers.items() if at <= until)
            if not due:
                break
            at, name = due[0]
            del self.timers[name]
            self.now = max(self.now, at)
            self._record(self.machine.step(TimerEvent(name), self.now))
        self.now = until

    def line(self, name: str) -> None:
        self._record(self.machine.step(LineEvent(name, True), self.now))

    def tx(self) -> Tx:
        return Tx(self.now, self.machine.nvm)


def _ok(body: apdu.AccessResponseMessage) -> None:
    assert all(s.result == 0 for s in body.specifications), body.specifications


def _set(cls: int, obis: str, attr: int, value: Data) -> Item:
    return apdu.AccessRequestSet(cls, parse_obis(obis), attr), value


def _prices(tou: dict[int, int]) -> Data:
    entries = [ChargeTableEntry(bytes([i]), tou.get(i, 0)) for i in range(1, 49)]
    entries += [
        ChargeTableEntry(bytes([0xA0 + 0x10 * b + s]), 0) for b in range(4) for s in range(1, 9)
    ]
    return UnitCharge(3, -5, 3, parse_obis("1-0:1.8.0.255"), 2, tuple(entries)).to_data()


def _standing(amount: int) -> Data:
    return UnitCharge(0, -5, 0, bytes(6), 0, (ChargeTableEntry(b"", amount),)).to_data()


def _day(day_id: int, switches: list[tuple[int, int]]) -> Data:
    actions = tuple(
        DayScheduleAction(bytes((h, 0, 0, 0)), parse_obis("0-0:10.0.100.255"), sel)
        for h, sel in switches
    )
    return CosemDayProfile(day_id, actions).to_data()


def _tou_tariff(meter: Meter, *, activation: bytes = NOW) -> apdu.AccessResponseMessage:
    """ECS01a: day 1 = rate 2 from 00:00, rate 1 from 07:00 (a two-rate tariff)."""
    season = SeasonProfile(b"all", bytes.fromhex("07DF0101FF000000008000FF"), b"\x01")
    week = WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 1))
    return meter.send(
        "ECS01a",
        _set(20, "0-0:13.0.0.255", 7, Array((season.to_data(),))),
        _set(20, "0-0:13.0.0.255", 8, Array((week.to_data(),))),
        _set(20, "0-0:13.0.0.255", 9, Array((_day(1, [(0, 2), (7, 1)]),))),
        _set(113, "0-0:19.20.4.255", 6, _standing(20_000)),
        _set(113, "0-0:19.20.0.255", 6, _prices({1: 15_000, 2: 30_000})),
        _set(20, "0-0:13.0.0.255", 10, OctetString(activation)),
        _set(113, "0-0:19.20.4.255", 7, OctetString(activation)),
        _set(113, "0-0:19.20.0.255", 7, OctetString(activation)),
    )


def _engine_tariff() -> Tariff:
    return Tariff(
        day_profiles=(DayProfile(((0, 2), (420, 1))),),
        tou_prices=(15_000, 30_000),
        standing_charge=20_000,
    )


def test_tariff_then_a_week_reads_agree_with_the_engine(pki: Pki) -> None:
    meter = Meter(pki)
    _ok(_tou_tariff(meter))
    meter.run_until(T0 + timedelta(days=7, minutes=10))
    body = meter.send(
        "ECS24",
        get(3, "1-0:1.8.0.255", 2),
        get(3, "1-0:1.8.1.255", 2),
        get(3, "1-0:1.8.2.255", 2),
    )
    reference = MeterRegisters(compile_table(_engine_tariff()), int(T0.timestamp()))
    reference.advance(int((T0 + timedelta(days=7)).timestamp()), bytes((200, 0)))
    regs = reference.registers()
    assert body.list_of_data == (
        DoubleLongUnsigned(regs.import_wh),
        DoubleLongUnsigned(regs.tou_wh[0]),
        DoubleLongUnsigned(regs.tou_wh[1]),
    )
    assert regs.import_wh == 7 * 48 * 200 and regs.tou_wh[0] == 7 * 34 * 200
    mine = metering.registers(meter.tx())
    assert mine.accumulated_cost == regs.accumulated_cost > 0


def test_future_tariff_waits_for_its_activation_and_cancel_keeps_the_old(pki: Pki) -> None:
    meter = Meter(pki)
    at = T0 + timedelta(days=2)
    stamp = at.year.to_bytes(2, "big") + bytes((at.month, at.day, 0xFF, 0, 0, 0, 0))
    stamp += b"\x80\x00\xff"
    _ok(_tou_tariff(meter, activation=stamp))
    price = meter.send("ECS24", get(3, "0-0:94.44.1.7", 2)).list_of_data
    assert price == (DoubleLongUnsigned(0),)
    meter.run_until(at + timedelta(hours=8))
    price = meter.send("ECS24", get(3, "0-0:94.44.1.7", 2)).list_of_data
    assert price == (DoubleLongUnsigned(15_000),)  # 08:00: rate 1
    other = Meter(pki)
    _ok(_tou_tariff(other, activation=stamp))
    _ok(other.send("ECS01a", _set(20, "0-0:13.0.0.255", 10, OctetString(NEVER)),
                   _set(113, "0-0:19.20.0.255", 7, OctetString(NEVER))))  # fmt: skip
    other.run_until(at + timedelta(hours=8))
    price = other.send("ECS24", get(3, "0-0:94.44.1.7", 2)).list_of_data
    assert price == (DoubleLongUnsigned(0),)


def _prepay(meter: Meter) -> None:
    """Prepayment at 30 p/kWh: low credit 5.00, EC 3.00 below 1.00, balance 10.00."""
    _ok(meter.send(
        "ECS08a",
        _set(9000, "0-0:94.44.128.9", 4, DoubleLong(500_000)),
        _set(9000, "0-0:94.44.128.2", 4, DoubleLong(300_000)),
        _set(9000, "0-0:94.44.128.3", 4, DoubleLong(100_000)),
        *(_set(9000, o, 6, OctetString(NOW)) for o in ("0-0:94.44.128.9", "0-0:94.44.128.2",
                                                        "0-0:94.44.128.3")),
    ))  # fmt: skip
    _ok(meter.send("ECS01b", _set(113, "0-0:19.20.0.255", 6, _prices({1: 30_000})),
                   _set(113, "0-0:19.20.0.255", 7, OctetString(NOW))))  # fmt: skip
    _ok(meter.send("ECS04a", action(112, "0-0:19.10.0.255", 1, DoubleLong(1_000_000))))
    _ok(meter.send(
        "ECS02",
        _set(111, "0-1:19.0.0.255", 2, Structure((Enum(2), Enum(1)))),
        _set(111, "0-1:19.0.0.255", 13, OctetString(NOW)),
    ))


def test_prepayment_life_low_credit_disablement_emergency_credit_enable(pki: Pki) -> None:
    meter = Meter(pki)
    _prepay(meter)
    regs = metering.registers(meter.tx())
    assert regs.prepayment and regs.meter_balance == 1_000_000
    # 400 W = 200 Wh a half-hour = 6 p: 5.00 lasts ~83 half-hours, 10.00 ~167
    meter.run_until(T0 + timedelta(days=2))
    assert 0x810D in meter.alerts  # low credit
    assert 0x8119 not in meter.alerts
    meter.run_until(T0 + timedelta(days=4))
    assert 0x8119 in meter.alerts  # emergency credit available
    assert 0x8F0F in meter.alerts  # credit below disablement
    assert supply.state(meter.tx()) is supply.Supply.OPEN
    frozen = metering.registers(meter.tx()).import_wh
    meter.run_until(T0 + timedelta(days=5))
    meter.send("ECS24", get(3, "1-0:1.8.0.255", 2))
    assert metering.registers(meter.tx()).import_wh == frozen  # no supply, no energy
    meter.line("emergency_credit_button")
    assert supply.state(meter.tx()) is supply.Supply.ARMED
    meter.line("enable_button")
    assert supply.state(meter.tx()) is supply.Supply.CLOSED
    meter.run_until(T0 + timedelta(days=5, hours=3))
    meter.send("ECS24", get(3, "1-0:1.8.0.255", 2))
    after = metering.registers(meter.tx())
    assert after.import_wh > frozen and after.emergency_credit_active
    assert after.emergency_credit_balance < 300_000


def test_balance_reads_and_adjustments(pki: Pki) -> None:
    meter = Meter(pki)
    _ok(meter.send("ECS04a", action(112, "0-0:19.10.0.255", 1, DoubleLong(123_456))))
    body = meter.send("ECS24", get(112, "0-0:19.10.0.255", 2))
    assert body.list_of_data[0] == DoubleLong(123_456)
    wrong = meter.send("ECS04a", action(112, "0-0:19.10.0.255", 1, OctetString(b"x")))
    assert wrong.specifications[0].result == ActionResult.TYPE_UNMATCHED
    body = meter.send("ECS24", get(112, "0-0:19.10.0.255", 2))
    assert body.list_of_data[0] == DoubleLong(123_456)


# --------------------------------------------------------------------------------- UTRN


def _tx(base: dict[str, bytes] | None = None, at: datetime = T0) -> Tx:
    tx = Tx(at, dict(base or {}))
    metering.initialise(tx, prepayment.compile_active(tx), prepay=True)
    return tx


def _utrn(counter_high: int, value: int = 10, cls: ValueClass = ValueClass.POUNDS) -> str:
    return encode_utrn(prepayment_secret=SECRET, originator=SUPPLIER, target=bytes(ESME),
                       counter=counter_high << 32, value=value, value_class=cls)  # fmt: skip


def _enter(tx: Tx, text: str) -> prepayment.UtrnResult:
    return prepayment.enter_utrn(tx, text, SECRET, SUPPLIER, bytes(ESME))


def test_top_up_credits_and_a_replay_is_rejected_without_state_change() -> None:
    tx = _tx()
    first = _enter(tx, _utrn(3))
    assert first.outcome is prepayment.UtrnOutcome.ACCEPTED and first.amount == 1_000_000
    assert metering.registers(tx).meter_balance == 1_000_000
    before = dict(tx.writes)
    replay = _enter(tx, _utrn(3))
    assert replay.outcome is prepayment.UtrnOutcome.DUPLICATE
    assert metering.registers(tx).meter_balance == 1_000_000
    assert {k: v for k, v in tx.writes.items() if not k.startswith("utrn/")} == {
        k: v for k, v in before.items() if not k.startswith("utrn/")
    }
    pennies = _enter(tx, _utrn(4, 250, ValueClass.PENNIES))
    assert pennies.outcome is prepayment.UtrnOutcome.ACCEPTED
    assert metering.registers(tx).meter_balance == 1_250_000


def test_old_counters_are_replays_once_the_recent_list_is_full() -> None:
    tx = _tx()
    for n in range(1, prepayment.RECENT + 2):
        assert _enter(tx, _utrn(n)).outcome is prepayment.UtrnOutcome.ACCEPTED
    balance = metering.registers(tx).meter_balance
    assert _enter(tx, _utrn(1)).outcome is not prepayment.UtrnOutcome.ACCEPTED  # too old
    assert _enter(tx, _utrn(2)).outcome is prepayment.UtrnOutcome.DUPLICATE
    assert metering.registers(tx).meter_balance == balance
    assert _enter(tx, _utrn(prepayment.RECENT + 5)).outcome is prepayment.UtrnOutcome.ACCEPTED


def test_invalid_entries_lock_out_utrn_entry() -> None:
    tx = _tx()
    forged = encode_utrn(prepayment_secret=bytes(32), originator=SUPPLIER, target=bytes(ESME),
                         counter=7 << 32, value=10)  # fmt: skip
    for _ in range(prepayment.MAX_FAILURES):
        assert _enter(tx, forged).outcome is prepayment.UtrnOutcome.NOT_AUTHENTIC
    assert _enter(tx, _utrn(8)).outcome is prepayment.UtrnOutcome.LOCKED_OUT
    later = replace(tx, now=T0 + prepayment.LOCKOUT + timedelta(seconds=1))
    assert _enter(later, _utrn(8)).outcome is prepayment.UtrnOutcome.ACCEPTED


def test_a_garbled_utrn_is_not_authentic() -> None:
    tx = _tx()
    text = _utrn(3)
    garbled = text[:-1] + str((int(text[-1]) + 1) % 10)
    assert _enter(tx, garbled).outcome is prepayment.UtrnOutcome.NOT_AUTHENTIC
    assert metering.registers(tx).meter_balance == 0


def test_keypad_entry_without_keys_is_rejected_and_logged(pki: Pki) -> None:
    meter = Meter(pki)
    step = meter.machine.step(MessageEvent("keypad", _utrn(3).encode()), meter.now)
    assert any("UTRN rejected" in entry.text for entry in step.logs)
    assert metering.registers(meter.tx()).meter_balance == 0


def test_credit_mode_reads_have_no_credit_alerts(pki: Pki) -> None:
    meter = Meter(pki)
    meter.run_until(T0 + timedelta(days=3, minutes=1))
    assert 0x810D not in meter.alerts and 0x8F0F not in meter.alerts
    assert REGISTERS_TIMER in meter.timers
    assert metering.registers(meter.tx()).import_wh == 3 * 48 * 200


def test_unknown_activation_leaves_the_value_but_not_the_price(pki: Pki) -> None:
    meter = Meter(pki)
    body = meter.send("ECS01b", _set(113, "0-0:19.20.0.255", 7, OctetString(b"short")))
    assert body.specifications[0].result == DataAccessResult.TYPE_UNMATCHED


def test_block_tariff_registers_agree_with_the_engine_and_ecs05_resets(pki: Pki) -> None:
    meter = Meter(pki)
    season = SeasonProfile(b"all", bytes.fromhex("07DF0101FF000000008000FF"), b"\x01")
    week = WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 1))
    entries = [ChargeTableEntry(bytes([i]), 0) for i in range(1, 49)]
    blocks = {0xA1: 1361, 0xB1: 2289, 0xC1: 5566}
    entries += [ChargeTableEntry(bytes([0xA0 + 0x10 * b + s]), blocks.get(0xA0 + 0x10 * b + s, 0))
                for b in range(4) for s in range(1, 9)]  # fmt: skip
    matrix = UnitCharge(3, -5, 3, parse_obis("1-0:1.8.0.255"), 2, tuple(entries)).to_data()
    unused = DoubleLongUnsigned(0xFFFFFFFF)
    _ok(meter.send(
        "ECS01a",
        _set(20, "0-0:13.0.0.255", 7, Array((season.to_data(),))),
        _set(20, "0-0:13.0.0.255", 8, Array((week.to_data(),))),
        _set(20, "0-0:13.0.0.255", 9, Array((_day(1, [(0, 101)]),))),
        _set(21, "0-0:16.1.11.255", 2,
             Array((DoubleLongUnsigned(1000), DoubleLongUnsigned(2000), unused))),
        _set(113, "0-0:19.20.0.255", 6, matrix),
        _set(20, "0-0:13.0.0.255", 10, OctetString(NOW)),
        _set(113, "0-0:19.20.0.255", 7, OctetString(NOW)),
        _set(9000, "0-0:63.1.1.255", 6, OctetString(NOW)),
    ))  # fmt: skip
    meter.run_until(T0 + timedelta(hours=12, minutes=5))
    body = meter.send("ECS24", get(1, "0-0:94.44.34.2", 2), get(21, "0-0:16.0.11.255", 2))
    reference = MeterRegisters(
        compile_table(Tariff(
            day_profiles=(DayProfile(((0, 101),)),),
            block_prices=((1361, 2289, 5566, 0),),
            block_thresholds=((1000, 2000),),
        )),
        int(T0.timestamp()),
    )  # fmt: skip
    reference.advance(int((T0 + timedelta(hours=12)).timestamp()), bytes((200, 0)))
    regs = reference.registers()
    assert regs.block_wh[0][:3] == (1000, 1000, 2800)
    assert body.specifications[0].result == DataAccessResult.SUCCESS
    [collection] = body.list_of_data[:1]
    assert isinstance(collection, Structure) and isinstance(collection.items[0], Array)
    first_set = collection.items[0].items[:4]
    assert first_set == tuple(DoubleLongUnsigned(v) for v in regs.block_wh[0])
    thresholds = (DoubleLongUnsigned(1000), DoubleLongUnsigned(2000), unused)
    assert body.list_of_data[1] == Array(thresholds)
    assert metering.registers(meter.tx()).accumulated_cost == regs.accumulated_cost
    price = meter.send("ECS24", get(3, "0-0:94.44.1.7", 2)).list_of_data
    assert price == (DoubleLongUnsigned(5566),)  # third block reached
    _ok(meter.send("ECS05", action(9, "0-0:10.0.100.255", 1, LongUnsigned(101))))
    assert all(v == 0 for row in metering.registers(meter.tx()).block_matrix_wh for v in row)
    price = meter.send("ECS24", get(3, "0-0:94.44.1.7", 2)).list_of_data
    assert price == (DoubleLongUnsigned(1361),)


def test_debt_registers_take_ecs07_updates(pki: Pki) -> None:
    meter = Meter(pki)
    _ok(meter.send("ECS07", action(113, "0-0:19.20.3.255", 4, DoubleLong(500_000)),
                   action(113, "0-0:19.20.1.255", 4, DoubleLong(70_000))))  # fmt: skip
    regs = metering.registers(meter.tx())
    assert (regs.payment_debt, regs.time_debts) == (500_000, (70_000, 0))
    _ok(meter.send("ECS07", action(113, "0-0:19.20.1.255", 4, DoubleLong(-100_000))))
    assert metering.registers(meter.tx()).time_debts == (0, 0)  # never below zero
