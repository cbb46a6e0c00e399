"""A month of prepayment life of one emulated ESME, checked against the reference engine.

Issue 6 "Done means": an ESME in prepayment mode, run as a :class:`~smemu.devices.device.Device`
(SQLite store, :class:`~smemu.hal.clock.VirtualClock`, its own timers) for 30 simulated days:
a two-rate tariff with a standing charge, a seeded domestic load, a time-based debt recovered
daily and a payment-based debt recovered per top-up, top-ups by UTRN sent from the head-end
(CS01a) and typed on the keypad, low-credit / emergency-credit-available / credit-exhausted
alerts, emergency credit taken with the consumer's buttons and spent to the end (the
emergency-credit-exhausted alert 0x81AA at the instant the supply is disabled), and the
supply re-enabled.

Alongside the device, the test keeps its own meter: the *pure-Python* register engine
(:func:`smemu.firmware.registers.reference.advance`) and the instantaneous operations of
:mod:`smemu.firmware.registers.ops`, fed the same consumption and the same operations at
the same instants, with a table compiled from the test's own tariff parameters (not from the
device's COSEM objects). At the end the device's registers, state words and logs must equal
the reference's, and every credit alert the device sent must be one the reference engine
raised, sent at the simulated instant the reference says.

The clock stands still (speed 0) and jumps from event to event, firing every timer on the way
at its own instant: the month takes a few real seconds, i.e. well over 10,000x real time,
while each step sees exactly the simulated instant it would see at 10,000x.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import pytest

from smemu.devices.device import Device, DeviceSpec
from smemu.devices.keys import Pki, init_pki
from smemu.firmware import metering, supply
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, Outgoing, Tx
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops, reference
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Season,
    Table,
    Tariff,
    compile_table,
)
from smemu.hal.clock import VirtualClock
from smemu.hil.demo import action, build_command, dlms_request, get
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import parse_obis
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
    Enum,
    LongUnsigned,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.gbcs.use_cases import USE_CASES, Criticality
from smemu.protocols.utrn import ValueClass, encode_utrn

pytestmark = pytest.mark.timeout(60)

ESME: Final = Eui64.parse("00-DB-12-34-56-78-90-B3")
T0: Final = datetime.fromisoformat("2025-01-06T00:00:00+00:00")  # a Monday, GMT all month
DAYS: Final = 30
NOW: Final = bytes(9) + b"\x80\x00\xff"  #: activation "now" (gbcs-reference.md 7.4 / 9.3)
LOAD: Final = {"watts": 500, "seed": 2025}  #: the ESME's seeded domestic load (esme/load)

# The tariff, in 10^-5 currency units: night rate (register 2) 00:00-07:00, day rate
# (register 1) after; a daily standing charge.
DAY_PRICE: Final = 28_000  #: per kWh
NIGHT_PRICE: Final = 12_000
STANDING: Final = 30_000  #: per day (a charge entry is a long: < 2**15)
# Prepayment settings (ECS08a) and debts (ECS07).
LOW_CREDIT: Final = 500_000
EC_LIMIT: Final = 400_000
EC_THRESHOLD: Final = 100_000
TIME_DEBT: Final = 150_000  #: time-based debt 1, recovered at DEBT_RATE a day
DEBT_RATE: Final = 30_000
PAYMENT_DEBT: Final = 1_500_000  #: recovered at PAYMENT_SHARE of each top-up...
PAYMENT_SHARE_BP: Final = 2_500  #: ... 25 % (basis points) ...
WEEKLY_CAP: Final = 600_000  #: ... at most this much a week
OPENING_BALANCE: Final = 800_000

#: engine event -> the alert code GBCS gives it (Alert Code table names)
ALERT_OF_EVENT: Final = {
    lay.E_LOW_CREDIT: 0x810D,  # Low Credit
    lay.E_EC_AVAILABLE: 0x8119,  # Emergency Credit Has Become Available
    lay.E_EC_EXHAUSTED: 0x81AA,  # Emergency Credit Exhausted
    lay.E_CREDIT_EXHAUSTED: 0x8F0F,  # Supply Disabled: credit below the disablement threshold
    lay.E_BILLING_SNAPSHOT: 0x8F0A,  # Billing Data Log Updated
}
#: debt-cleared event value (register) -> Debt Collection Completed alert
DEBT_CLEARED_ALERT: Final = {0: 0x81A7, 1: 0x81A8, 2: 0x81A9}  # time debt 1, 2, payment


def _alert_of(event: ops.Event) -> int | None:
    if event.code == lay.E_DEBT_CLEARED:
        return DEBT_CLEARED_ALERT[event.value]
    return ALERT_OF_EVENT.get(event.code)


# ------------------------------------------------------------------ the head-end side


def _set(class_id: int, obis: str, attr: int, value: Data) -> tuple[apdu.AccessRequestSet, Data]:
    return apdu.AccessRequestSet(class_id, parse_obis(obis), attr), value


def _unit_charge(entries: tuple[ChargeTableEntry, ...], commodity: bool) -> Data:
    if commodity:
        return UnitCharge(3, -5, 3, parse_obis("1-0:1.8.0.255"), 2, entries).to_data()
    return UnitCharge(0, -5, 0, bytes(6), 0, entries).to_data()


def _price_matrix() -> Data:
    prices = {1: DAY_PRICE, 2: NIGHT_PRICE}
    entries = [ChargeTableEntry(bytes([i]), prices.get(i, 0)) for i in range(1, 49)]
    entries += [
        ChargeTableEntry(bytes([0xA0 + 0x10 * b + s]), 0) for b in range(4) for s in range(1, 9)
    ]
    return _unit_charge(tuple(entries), commodity=True)


def _tariff_items() -> list[tuple[apdu.AccessRequestSet, Data]]:
    """ECS01a: one season, every weekday day profile 1: night rate at 00:00, day at 07:00."""
    season = SeasonProfile(b"all", bytes.fromhex("07DF0101FF000000008000FF"), b"\x01")
    week = WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 1))
    day = CosemDayProfile(
        1,
        tuple(
            DayScheduleAction(bytes((hour, 0, 0, 0)), parse_obis("0-0:10.0.100.255"), register)
            for hour, register in ((0, 2), (7, 1))
        ),
    )
    return [
        _set(20, "0-0:13.0.0.255", 7, Array((season.to_data(),))),
        _set(20, "0-0:13.0.0.255", 8, Array((week.to_data(),))),
        _set(20, "0-0:13.0.0.255", 9, Array((day.to_data(),))),
        _set(113, "0-0:19.20.4.255", 6, _unit_charge((ChargeTableEntry(b"", STANDING),), False)),
        _set(113, "0-0:19.20.0.255", 6, _price_matrix()),
        _set(20, "0-0:13.0.0.255", 10, OctetString(NOW)),
        _set(113, "0-0:19.20.4.255", 7, OctetString(NOW)),
        _set(113, "0-0:19.20.0.255", 7, OctetString(NOW)),
    ]


def _thresholds_items() -> list[tuple[apdu.AccessRequestSet, Data]]:
    """ECS08a: low credit, emergency credit limit and threshold, each activated now."""
    values = (("0-0:94.44.128.9", LOW_CREDIT), ("0-0:94.44.128.2", EC_LIMIT),
              ("0-0:94.44.128.3", EC_THRESHOLD))  # fmt: skip
    items = [_set(9000, obis, 4, DoubleLong(v)) for obis, v in values]
    items += [_set(9000, obis, 6, OctetString(NOW)) for obis, _ in values]
    return items


def _debt_items() -> list[tuple[apdu.AccessRequestSpecification, Data]]:
    """ECS07: debts, the daily recovery rate of debt 1, the per-payment share and its cap."""
    rate = _unit_charge((ChargeTableEntry(b"", DEBT_RATE),), False)
    return [
        action(113, "0-0:19.20.1.255", 4, DoubleLong(TIME_DEBT)),
        _set(113, "0-0:19.20.1.255", 6, rate),
        action(113, "0-0:19.20.1.255", 2, DoubleLong(0)),
        action(113, "0-0:19.20.3.255", 4, DoubleLong(PAYMENT_DEBT)),
        _set(113, "0-0:19.20.3.255", 13, LongUnsigned(PAYMENT_SHARE_BP)),
        _set(9000, "0-0:94.44.128.13", 4, DoubleLong(WEEKLY_CAP)),
        _set(9000, "0-0:94.44.128.13", 6, OctetString(NOW)),
    ]


def _reference_table() -> Table:
    """The engine table the commands above describe, built from the test's own numbers."""
    return compile_table(
        Tariff(
            day_profiles=(DayProfile(((0, 2), (7 * 60, 1))),),
            seasons=(Season(1, 1, 0, 2015),),  # the ECS01a season "all" from 2015-01-01
            tou_prices=(DAY_PRICE, NIGHT_PRICE),
            standing_charge=STANDING,
        ),
        Prepayment(
            low_credit_threshold=LOW_CREDIT,
            emergency_credit_threshold=EC_THRESHOLD,
            emergency_credit_limit=EC_LIMIT,
            debt_rates=((DEBT_RATE, "daily"), (0, "daily")),
        ),
    )


# ------------------------------------------------------------------------ the device


@dataclass
class Seen:
    """What left the device: responses (payload bytes) and alerts (code, instant)."""

    responses: list[apdu.AccessResponseMessage] = field(default_factory=list)
    alerts: list[tuple[int, datetime]] = field(default_factory=list)


class Month:
    """The ESME device, a supplier head-end talking to it, and the reference meter."""

    def __init__(self, pki: Pki, folder: Path) -> None:
        self.pki = pki
        self.clock = VirtualClock(T0, speed=0)
        self.supplier = pki.remote_parties[Role.SUPPLIER]
        self.counter = 5_000
        self.utrn_counter = 0
        self.seen = Seen()

        def provisioning() -> dict[str, bytes]:
            writes = pki.provisioning(ESME)
            writes[metering.LOAD] = json.dumps(LOAD).encode()
            return writes

        spec = DeviceSpec(DeviceType.ESME, ESME, "esme")
        self.device = Device.open(spec, folder / "esme.sqlite", self.clock, provisioning)
        self.device.connect(self._sent)
        self.device.boot()
        # the reference meter: state, logs and table of its own
        self.table = _reference_table()
        self.state = lay.new_state(metering.floor_interval(metering.epoch(T0)))
        self.logs = bytearray(lay.log_bytes(self.table.words))
        self.events: list[ops.Event] = []
        #: the alerts the reference expects: (code, simulated instant)
        self.expected: list[tuple[int, datetime]] = []
        self.load = metering.LoadModel(LOAD["watts"], LOAD["seed"])

    # -- device side -------------------------------------------------------------------

    def _sent(self, device: Device, out: Outgoing) -> None:
        message = decode_han(out.data).message
        inner = frame.signing_message(frame.locate(message).message)
        assert inner is not None
        body = apdu.decode_exact(inner.payload)
        if inner.header.cra is Cra.ALERT:
            assert isinstance(body, apdu.DataNotificationMessage)
            head = body.body
            assert isinstance(head, Structure) and isinstance(head.items[0], LongUnsigned)
            self.seen.alerts.append((head.items[0].value, self.clock.now()))
        else:
            assert isinstance(body, apdu.AccessResponseMessage)
            self.seen.responses.append(body)

    def at(self, instant: datetime) -> None:
        """Let simulated time run to ``instant`` (the device's timers fire on the way)."""
        self.clock.jump_to(instant)

    def send(self, use_case: str, *items: tuple[apdu.AccessRequestSpecification, Data]) -> (
        apdu.AccessResponseMessage
    ):
        """Send a supplier command for ``use_case``; return the device's response."""
        self.counter += 1
        uc = USE_CASES[use_case]
        data = build_command(
            self.pki.keystore,
            originator=self.supplier,
            recipient=ESME,
            code=uc.message_codes[0],
            counter=self.counter,
            payload=dlms_request(self.counter, *items),
            sign=uc.criticality is Criticality.CRITICAL,
            acb=self.pki.remote_parties[Role.ACCESS_CONTROL_BROKER],
        )
        before = len(self.seen.responses)
        self.device.message("han", HanFrame(TunnelCommand.PUT, data).encode())
        assert len(self.seen.responses) == before + 1, f"{use_case}: no response"
        return self.seen.responses[-1]

    def ok(self, use_case: str, *items: tuple[apdu.AccessRequestSpecification, Data]) -> None:
        body = self.send(use_case, *items)
        assert all(s.result == 0 for s in body.specifications), (use_case, body.specifications)

    def utrn(self, pounds: int) -> str:
        """A fresh UTRN for ``pounds`` from the supplier to this ESME (GBCS 14)."""
        self.utrn_counter += 1
        secret = self.pki.keystore.prepayment_secret(bytes(self.supplier), bytes(ESME))
        assert secret is not None
        return encode_utrn(
            prepayment_secret=secret,
            originator=bytes(self.supplier),
            target=bytes(ESME),
            counter=self.utrn_counter << 32,
            value=pounds,
            value_class=ValueClass.POUNDS,
        )

    def enable(self) -> None:
        """The consumer presses the enable button of an armed supply (both meters)."""
        assert supply.state(self.tx()) is supply.Supply.ARMED
        self.device.line("enable_button", True)
        self.device.line("enable_button", False)
        assert ops.enable_supply(self.table.words, self.state)
        assert supply.state(self.tx()) is supply.Supply.CLOSED

    def tx(self) -> Tx:
        return Tx(self.clock.now(), self.device.machine.nvm)

    # -- reference side ----------------------------------------------------------------

    def ref_to(self, instant: datetime) -> None:
        """Advance the reference meter to the half-hour boundary at or before ``instant``."""
        t_to = metering.floor_interval(metering.epoch(instant))
        t_from = self.state[lay.S_T]
        if t_to <= t_from:
            return
        data = reference.advance(
            self.table.data,
            memoryview(self.state).cast("B"),
            self.logs,
            t_from,
            t_to,
            self.load.series(t_from, t_to),
        )
        for event in ops.decode_events(data):
            self.events.append(event)
            code = _alert_of(event)
            if code is not None:  # raised by the engine at its half-hour boundary
                self.expected.append((code, metering.instant(event.t)))

    def ref_top_up(self, pounds: int) -> None:
        """A payment applied now: the credit and payment-debt rings log this instant."""
        ops.top_up(
            self.table.words, self.state, metering.epoch(self.clock.now()), pounds * 100_000,
            percent_bp=PAYMENT_SHARE_BP, weekly_cap=WEEKLY_CAP, logs=memoryview(self.logs),
        )  # fmt: skip

    def ref_registers(self) -> ops.Registers:
        return ops.read(self.state)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki") / "keys"
    return init_pki(folder, {ESME: DeviceType.ESME}, seed=b"a month of prepayment")


def _day(n: int, hour: int = 0, minute: int = 0) -> datetime:
    return T0 + timedelta(days=n, hours=hour, minutes=minute)


def test_a_month_of_prepayment_agrees_with_the_reference_engine(pki: Pki, tmp_path: Path) -> None:
    started = time.perf_counter()
    m = Month(pki, tmp_path)

    # Day 0, 00:05: commission for prepayment. The reference applies the same operations in
    # the same order at the same engine instant (all inside the first half-hour).
    m.at(_day(0, 0, 5))
    m.ok("ECS01a", *_tariff_items())
    m.ok("ECS08a", *_thresholds_items())
    m.ok("ECS07", *_debt_items())
    m.ok("ECS04a", action(112, "0-0:19.10.0.255", 1, DoubleLong(OPENING_BALANCE)))
    m.ok("ECS02", _set(111, "0-1:19.0.0.255", 2, Structure((Enum(2), Enum(1)))),
         _set(111, "0-1:19.0.0.255", 13, OctetString(NOW)))  # fmt: skip
    m.ref_to(m.clock.now())
    s = m.state
    s[lay.S_DEBT] += TIME_DEBT * lay.FINE
    s[lay.S_PAY_DEBT] += PAYMENT_DEBT * lay.FINE
    s[lay.S_BALANCE] += OPENING_BALANCE * lay.FINE
    ops.rearm(m.table.words, s)
    snapshot = ops.set_payment_mode(m.table.words, s, memoryview(m.logs), s[lay.S_T], prepay=True)
    m.events.append(snapshot)
    m.expected.append((0x8F0A, m.clock.now()))  # a mode change snapshots the billing log now
    assert metering.table_words(m.tx()).tobytes() == m.table.data  # same tariff, compiled twice
    assert metering.registers(m.tx()) == m.ref_registers()

    # Day 3: the opening credit has run out: the supply was disabled by the engine.
    m.at(_day(3, 9, 10))
    assert supply.state(m.tx()) is supply.Supply.OPEN
    # The consumer takes emergency credit and re-enables the supply.
    m.device.line("emergency_credit_button", True)
    m.device.line("emergency_credit_button", False)
    m.ref_to(m.clock.now())
    # owed: what the half-hour the credit ran out in overdrew, and the standing charge and
    # daily debt recovery taken at the midnight since
    overdrawn = -m.state[lay.S_BALANCE]
    assert (STANDING + DEBT_RATE) * lay.FINE < overdrawn < EC_LIMIT * lay.FINE
    assert ops.activate_emergency_credit(m.table.words, m.state)
    assert supply.state(m.tx()) is supply.Supply.ARMED
    # the EC pays off what the balance overdrew: balance 0, EC short of its limit by that
    taken = metering.registers(m.tx())
    assert taken == m.ref_registers() and taken.meter_balance == 0
    assert taken.emergency_credit_balance == (EC_LIMIT * lay.FINE - overdrawn) // lay.FINE
    m.enable()

    # Day 4, 18:00: the emergency credit ran out at 09:00; the supply was disabled then.
    m.at(_day(4, 18, 0))
    assert supply.state(m.tx()) is supply.Supply.OPEN
    ec_out = [(c, at) for c, at in m.seen.alerts if c == 0x81AA]
    assert ec_out == [(0x81AA, _day(4, 9, 0))]
    assert (0x8F0F, _day(4, 9, 0)) in m.seen.alerts  # credit exhausted at the same instant

    # Day 4, 18:40: a 30.00 top-up from the head-end (CS01a) repays the emergency credit,
    # recovers payment debt and credits the rest.
    m.at(_day(4, 18, 40))
    m.ok("CS01a", action(115, "0-0:19.40.0.255", 1, OctetString(m.utrn(30).encode())))
    m.ref_to(m.clock.now())
    m.ref_top_up(30)
    m.enable()  # credit is back: the supply is armed, and the consumer closes it

    # Day 9 and day 11: top-ups typed on the keypad (the second inside the same week: the
    # weekly recovery cap applies).
    for day, pounds in ((9, 15), (11, 10)):
        m.at(_day(day, 8, 15))
        m.device.message("keypad", m.utrn(pounds).encode())
        m.ref_to(m.clock.now())
        m.ref_top_up(pounds)

    # Day 18: another head-end top-up; day 24: a keypad one; then run out the month.
    m.at(_day(18, 12, 0))
    m.ok("CS01a", action(115, "0-0:19.40.0.255", 1, OctetString(m.utrn(20).encode())))
    m.ref_to(m.clock.now())
    m.ref_top_up(20)
    m.at(_day(24, 20, 20))
    m.device.message("keypad", m.utrn(30).encode())
    m.ref_to(m.clock.now())
    m.ref_top_up(30)
    m.enable()  # ran out again at 15:00: the top-up arms the supply, the consumer closes it

    end = _day(DAYS, 0, 1)
    m.at(end)
    balance = m.send("ECS82", get(112, "0-0:19.10.0.255", 2))  # brings the engine to now
    m.ref_to(end)

    # ---- the meter agrees with the reference engine, word for word
    mine, theirs = metering.registers(m.tx()), m.ref_registers()
    assert mine == theirs
    assert list(metering.state_words(m.tx())) == list(m.state)
    assert metering.logs(m.tx()) == bytes(m.logs)
    assert balance.list_of_data == (DoubleLong(theirs.meter_balance),)
    assert theirs.t == metering.epoch(_day(DAYS))
    # ... and the life had everything it should
    assert theirs.prepayment and not theirs.supply_disabled
    assert theirs.tou_wh[0] > 0 and theirs.tou_wh[1] > 0
    assert theirs.import_wh == sum(theirs.tou_wh)
    assert theirs.time_debts == (0, 0)  # recovered daily, then cleared
    assert 0 < theirs.payment_debt < PAYMENT_DEBT  # part recovered from the top-ups
    assert theirs.emergency_credit_balance == 0 and not theirs.emergency_credit_active

    # ---- every alert at the instant the reference raised it, and nothing else
    assert m.seen.alerts == m.expected
    codes = [code for code, _ in m.seen.alerts]
    # low credit, EC available, EC exhausted, credit exhausted, debt collected
    for code in (0x810D, 0x8119, 0x81AA, 0x8F0F, 0x81A7):
        assert code in codes, f"the month never raised {code:#06x}"
    # EC exhausted and credit exhausted (supply disabled) share their instant, in that order
    at = codes.index(0x81AA)
    assert m.seen.alerts[at + 1] == (0x8F0F, m.seen.alerts[at][1])
    assert codes.count(0x810D) >= 2  # low credit re-armed by a top-up, then crossed again
    # the whole month took seconds: faster than 10,000x real time
    elapsed = time.perf_counter() - started
    assert DAYS * 86_400 / elapsed > 10_000
    m.device.close()
