"""The Billing Data Log's payment rings: prepayment credits (ECS20d) and payment-based debt
repayments (ECS20a), written by top-ups between spans and carried by both engines.

A hand-checked scenario from the Use Case volume's wording (an ECS20a entry is the "amount
of debt recovered as part of the Credit Added", an ECS20d entry the "amount of credit" and
the "timestamp of its application"), ring wrap-around, logs switched off, and the rule that
time passing (``advance``, including time-based debt recovery) never writes these rings.
"""

from __future__ import annotations

from array import array

import pytest

from smemu.firmware import registers
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops, reference
from smemu.firmware.registers.meter import MeterRegisters
from smemu.firmware.registers.ops import PaymentEntry
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Settings,
    Table,
    Tariff,
    compile_table,
)

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC, a local midnight
DAY = 86_400
ENGINES = [pytest.param(reference, id="python"), pytest.param(registers, id="active")]


def _table(*, billing_log: bool = True, debt_rate: int = 0) -> Table:
    tariff = Tariff((DayProfile(((0, 1),)),), tou_prices=(20_000,), standing_charge=30_000)
    pre = Prepayment(disablement_threshold=-10**9, debt_rates=((debt_rate, "hourly"), (0, "daily")))
    return compile_table(tariff, pre, Settings(log_profile=False, log_billing=billing_log))


def _prepay_meter(table: Table, *, logs: bool = True) -> MeterRegisters:
    meter = MeterRegisters(table, T0, prepay=True, balance=5_000_000, logs=logs)
    ops.set_debts(meter.state, time_debts=(200_000, 0), payment_debt=5_000_000)
    return meter


def _payment_rings(meter: MeterRegisters) -> bytes:
    assert meter.logs is not None
    sections = lay.prepayment_log_sections(meter.table.words[lay.T_FLAGS])
    assert sections is not None
    return bytes(meter.logs[sections[0] : sections[0] + lay.PREPAYMENT_LOG_BYTES])


def test_three_top_ups_and_payment_based_recovery_hand_checked() -> None:
    """Debt GBP 50 recovered at 20 % of each payment, weekly cap GBP 5 (10^-5 units).

    * day 0, GBP 10: 20 % = GBP 2, under the cap -> recovered 2, credit entry 10;
    * day 1, GBP 20: 20 % = GBP 4, cap leaves GBP 3 -> recovered 3;
    * day 2, GBP 5: 20 % = GBP 1, cap leaves 0 -> nothing recovered, no ECS20a entry;
    * day 8, GBP 10: the day-0 and day-1 recoveries are more than 7 x 24 h old (the window
      is (t - 7 days, t]) -> recovered 2.
    """
    meter = _prepay_meter(_table())
    cap = 500_000
    instants = [T0 + 3600, T0 + DAY + 3600, T0 + 2 * DAY + 3600, T0 + 8 * DAY + 3600]
    amounts = [1_000_000, 2_000_000, 500_000, 1_000_000]
    recovered = []
    for t, amount in zip(instants, amounts, strict=True):
        meter.advance(t - t % lay.INTERVAL, array("H", [100]))
        recovered.append(meter.top_up(amount, t=t, percent_bp=2_000, weekly_cap=cap))
    assert recovered == [200_000, 300_000, 0, 200_000]
    credits = [PaymentEntry(t, a) for t, a in zip(instants, amounts, strict=True)]
    assert meter.credit_log() == credits
    assert meter.repayment_log() == [
        PaymentEntry(instants[0], 200_000),
        PaymentEntry(instants[1], 300_000),
        PaymentEntry(instants[3], 200_000),
    ]
    assert meter.registers().payment_debt == 5_000_000 - 700_000
    assert (meter.state[lay.S_CREDIT_LOG_HEAD], meter.state[lay.S_REPAYMENT_LOG_HEAD]) == (4, 3)


def test_rings_keep_the_newest_entries_oldest_first() -> None:
    meter = _prepay_meter(_table())
    instants = [T0 + 60 * k for k in range(1, 13)]
    for k, t in enumerate(instants):
        meter.top_up(100_000 * (k + 1), t=t, percent_bp=1_000)
    assert meter.credit_log() == [
        PaymentEntry(instants[k], 100_000 * (k + 1)) for k in range(12 - 5, 12)
    ]
    assert meter.repayment_log() == [
        PaymentEntry(instants[k], 10_000 * (k + 1)) for k in range(12 - 10, 12)
    ]
    assert meter.state[lay.S_CREDIT_LOG_HEAD] == meter.state[lay.S_REPAYMENT_LOG_HEAD] == 12


@pytest.mark.parametrize("switch", ["no log region", "billing log off"])
def test_without_the_billing_log_payments_are_not_logged(switch: str) -> None:
    logged = _prepay_meter(_table())
    if switch == "no log region":
        bare = _prepay_meter(_table(), logs=False)
    else:
        bare = _prepay_meter(_table(billing_log=False))
        assert lay.prepayment_log_sections(bare.table.words[lay.T_FLAGS]) is None
        assert bare.logs is not None  # the daily log is still kept
    for meter in (logged, bare):
        meter.top_up(1_000_000, t=T0 + 60, percent_bp=2_500)
    assert bare.credit_log() == bare.repayment_log() == []
    assert (bare.state[lay.S_CREDIT_LOG_HEAD], bare.state[lay.S_REPAYMENT_LOG_HEAD]) == (0, 0)
    # the money moves the same way with or without the log
    assert bare.registers() == logged.registers()
    assert len(logged.credit_log()) == len(logged.repayment_log()) == 1


def test_no_recovery_writes_no_repayment_entry() -> None:
    meter = _prepay_meter(_table())
    meter.top_up(1_000_000, t=T0 + 60, percent_bp=0)
    assert meter.credit_log() == [PaymentEntry(T0 + 60, 1_000_000)]
    assert meter.repayment_log() == []


@pytest.mark.parametrize("engine", ENGINES)
def test_time_passing_leaves_the_payment_rings_alone(engine: object) -> None:
    """Hourly time-based debt recovery, billing snapshots and the daily log run for 40 days
    after two payments; the rings' bytes and heads stay as the payments left them."""
    table = _table(debt_rate=1_000)
    meter = _prepay_meter(table)
    meter.top_up(2_000_000, t=T0, percent_bp=5_000)
    meter.top_up(1_000_000, t=T0, percent_bp=5_000)
    before = (_payment_rings(meter), meter.credit_log(), meter.repayment_log())
    debt = meter.registers().time_debts[0]
    advance = engine.advance  # type: ignore[attr-defined]
    assert meter.logs is not None
    advance(table.data, memoryview(meter.state).cast("B"), meter.logs, T0, T0 + 40 * DAY,
            array("H", [150]))
    assert meter.registers().time_debts[0] < debt  # time-based recovery did happen
    assert meter.state[lay.S_BILLING_HEAD] >= 1
    assert (_payment_rings(meter), meter.credit_log(), meter.repayment_log()) == before


def test_a_layout_3_meter_upgrades_without_losing_anything() -> None:
    """A meter stored before the payment rings (layout 3: 16 state bytes and 240 log bytes
    fewer, table version 3) carries on from where it was, with empty rings."""
    table = _table()
    meter = _prepay_meter(table)
    meter.advance(T0 + 3 * DAY, array("H", [120]))
    assert meter.logs is not None
    old_table = array("q", table.words)
    old_table[lay.T_VERSION] = 3
    old = (old_table.tobytes(), meter.state.tobytes()[:-16], bytes(meter.logs[:-240]))
    new_table, state, logs = lay.upgrade(*old)
    assert (new_table, state, logs) == (table.data, meter.state.tobytes(), bytes(meter.logs))
    assert lay.upgrade(new_table, state, logs) == (new_table, state, logs)
    with pytest.raises(ValueError, match="layout 3"):
        lay.upgrade(old[0], old[1] + bytes(8), old[2])
    again = MeterRegisters(table, T0, logs=False)
    again.state = array("q", state)
    again.logs = bytearray(logs)
    again.top_up(100_000, t=T0 + 3 * DAY)
    assert again.credit_log() == [PaymentEntry(T0 + 3 * DAY, 100_000)]
