"""Emergency credit from activation to exhaustion, on both engines (issue 6).

The rules, from the Use Case volume (ECS09 / GCS06 "Activate Emergency Credit Remotely",
ECS04b: the EC balance equals the EC limit whenever no emergency credit is owed; the
EmergencyCreditThreshold "at which emergency credit becomes available") and SMETS as the
volume maps it: EC is offered when the meter balance falls below its threshold; once taken,
it is what the consumer spends when the meter balance is exhausted; the supply is disabled
when the credit left (meter balance + EC balance) reaches the disablement threshold. So
with the threshold at 0 the EC balance reaches 0, the "emergency credit exhausted" alert is
due (0x81AA), credit is exhausted and the supply is disabled all at one instant.

The engine books a half-hour's cost at its end: credit that runs out inside a half-hour
leaves the meter balance a little below 0 at that instant. That deficit is owed to the EC
once it is taken (reference.settle), not left on the balance for the EC to carry.
"""

from __future__ import annotations

import dataclasses
from array import array
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.firmware import registers
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops, reference
from smemu.firmware.registers.calendar import days_from_civil, local_midnight
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Settings,
    Table,
    Tariff,
    compile_table,
)
from tests.strategies.registers import consumption, prepayments, start_times, tariffs

ENGINES = [pytest.param(reference, id="python")]
if registers.USING_C:
    from smemu.firmware.registers import _engine

    ENGINES.append(pytest.param(_engine, id="c"))

HH = lay.INTERVAL
F = lay.FINE
NO_LOGS = Settings(log_profile=False, log_daily=False, log_billing=False, billing_day=0)


def _advance(engine: ModuleType, table: Table, state: array[int], n: int, wh: int) -> list[
    tuple[str, int, int]
]:
    """``n`` half-hours of ``wh`` each; the events as (name, t, value in 10^-5 units)."""
    data = engine.advance(
        table.data, memoryview(state).cast("B"), None, state[lay.S_T],
        state[lay.S_T] + n * HH, array("H", [wh] * n),
    )  # fmt: skip
    return [(e.name, e.t, e.value // F) for e in ops.decode_events(data)]


def _table(*, low_credit: int = 20_000, limit: int = 50_000) -> Table:
    # 10p per kWh at one rate all day, no standing charge, no debt. Low credit below 0.20,
    # EC offered below 0.10, EC limit 0.50, supply disabled at 0.00 (10^-5 GBP).
    pre = Prepayment(low_credit_threshold=low_credit, emergency_credit_threshold=10_000,
                     emergency_credit_limit=limit, disablement_threshold=0)  # fmt: skip
    return compile_table(Tariff((DayProfile(((0, 1),)),), tou_prices=(10_000,)), pre, NO_LOGS)


@pytest.mark.parametrize("engine", ENGINES)
def test_credit_runs_out_then_emergency_credit_runs_out(engine: ModuleType) -> None:
    table = _table()
    t0 = local_midnight(days_from_civil(2024, 6, 3))
    state = lay.new_state(t0, prepay=True, balance=30_000)
    # 1.2 kWh a half-hour costs 0.12. The balance of 0.30 goes 0.18 (below 0.20: low
    # credit), 0.06 (below 0.10: EC available), then runs out inside the third half-hour:
    # at its end the balance is -0.06, credit is exhausted and the supply disabled. The
    # next three half-hours take nothing.
    events = _advance(engine, table, state, 6, 1_200)
    assert events == [
        ("low_credit", t0 + HH, 18_000),
        ("emergency_credit_available", t0 + 2 * HH, 6_000),
        ("credit_exhausted", t0 + 3 * HH, -6_000),
        ("supply_disabled", t0 + 3 * HH, -6_000),
    ]
    regs = ops.read(state)
    assert (regs.meter_balance, regs.import_wh, regs.supply_disabled) == (-6_000, 3_600, True)

    # The consumer takes EC: the 0.06 overdrawn is owed to it at once, leaving 0.44 of EC
    # and a balance of 0. Credit is back above 0: the supply may be enabled again.
    assert ops.activate_emergency_credit(table.words, state)
    regs = ops.read(state)
    assert regs.emergency_credit_active
    assert (regs.meter_balance, regs.emergency_credit_balance) == (0, 44_000)
    assert ops.enable_supply(table.words, state)
    t1 = state[lay.S_T]

    # EC 0.44 goes 0.32, 0.20 (not below 0.20), 0.08 (low credit, re-armed by the EC), and
    # runs out inside the fourth half-hour: EC 0, balance -0.04. EC exhausted, credit
    # exhausted and supply disabled at that one instant; then nothing is consumed.
    events = _advance(engine, table, state, 6, 1_200)
    assert events == [
        ("low_credit", t1 + 3 * HH, 8_000),
        ("emergency_credit_exhausted", t1 + 4 * HH, -4_000),
        ("credit_exhausted", t1 + 4 * HH, -4_000),
        ("supply_disabled", t1 + 4 * HH, -4_000),
    ]
    regs = ops.read(state)
    assert (regs.meter_balance, regs.emergency_credit_balance) == (-4_000, 0)
    assert regs.supply_disabled and regs.import_wh == 3_600 + 4 * 1_200
    assert not ops.enable_supply(table.words, state)

    # A 1.00 top-up repays the whole 0.50 of EC (ending it), then the 0.04 the balance
    # owes: 0.46. Money in 1.30, energy 0.84 (7 x 0.12): 0.46 left, nothing lost.
    ops.top_up(table.words, state, state[lay.S_T], 100_000)
    regs = ops.read(state)
    assert not regs.emergency_credit_active
    assert (regs.meter_balance, regs.emergency_credit_balance) == (46_000, 0)
    assert ops.enable_supply(table.words, state)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_owed_balance_is_settled_by_the_next_debit(engine: ModuleType) -> None:
    # A balance made negative while EC is in use (a supplier's adjustment, ECS04a) is paid
    # from the EC by the next debit: -0.05 and EC 0.20, then 0.10 of energy: 0 and 0.05.
    table = _table(low_credit=0)
    t0 = local_midnight(days_from_civil(2024, 6, 3))
    state = lay.new_state(t0, prepay=True, balance=-5_000)
    state[lay.S_FLAGS] |= lay.M_EC_ACTIVE
    state[lay.S_EC] = 20_000 * F
    assert _advance(engine, table, state, 1, 1_000) == []
    regs = ops.read(state)
    assert (regs.meter_balance, regs.emergency_credit_balance) == (0, 5_000)
    # 0.05 of EC, then 0.10 more: EC exhausted with the balance at -0.05 (and the credit
    # left, -0.05, is below the low credit level of 0)
    assert _advance(engine, table, state, 1, 1_000) == [
        ("emergency_credit_exhausted", t0 + 2 * HH, -5_000),
        ("low_credit", t0 + 2 * HH, -5_000),
        ("credit_exhausted", t0 + 2 * HH, -5_000),
        ("supply_disabled", t0 + 2 * HH, -5_000),
    ]


@pytest.mark.parametrize(
    ("balance", "granted", "ec_left"),
    [
        (5_000, True, 50_000),  # above 0: nothing owed, the full limit
        (-49_000, True, 1_000),  # 0.49 owed of the 0.50 limit: 0.01 left to use
        (-50_000, False, 0),  # the deficit takes the whole limit: refused
        (-60_000, False, 0),
        (10_000, False, 0),  # not below the EC threshold (0.10): not offered
    ],
)
def test_activation_nets_the_deficit(balance: int, granted: bool, ec_left: int) -> None:
    table = _table()
    state = lay.new_state(0, prepay=True, balance=balance)
    before = state.tolist()
    assert ops.activate_emergency_credit(table.words, state) is granted
    regs = ops.read(state)
    if granted:
        assert regs.emergency_credit_active and regs.emergency_credit_balance == ec_left
        assert regs.meter_balance == max(0, balance)
    else:
        assert state.tolist() == before  # a refusal changes nothing


def test_no_emergency_credit_configured_is_refused() -> None:
    table = _table(limit=0)
    state = lay.new_state(0, prepay=True, balance=0)
    assert not ops.activate_emergency_credit(table.words, state)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), engine=st.sampled_from([p.values[0] for p in ENGINES]))
def test_emergency_credit_runs_out_with_the_credit(data: st.DataObject, engine: ModuleType) -> None:
    """With the disablement threshold at 0, any tariff, charges, debts and load: from an EC
    just taken, the balance never goes below 0 while EC is left, and the first "credit
    exhausted" comes with "emergency credit exhausted" at the same instant."""
    pre = dataclasses.replace(data.draw(prepayments()), disablement_threshold=0)
    table = compile_table(data.draw(tariffs()), pre, NO_LOGS)
    t0 = data.draw(start_times())
    balance = data.draw(st.integers(-100_000, pre.emergency_credit_threshold - 1))
    state = lay.new_state(t0, prepay=True, balance=balance)
    if not ops.activate_emergency_credit(table.words, state):
        assert pre.emergency_credit_limit + min(balance, 0) <= 0
        return
    intervals = data.draw(st.sampled_from([1, 7, 48, 48 * 3 + 5]))
    imports = data.draw(consumption(1, intervals))
    out = engine.advance(
        table.data, memoryview(state).cast("B"), None, t0, t0 + intervals * HH, imports
    )
    events = ops.decode_events(out)
    regs = ops.read(state)
    assert regs.meter_balance >= 0 or regs.emergency_credit_balance == 0
    exhausted = [e for e in events if e.code == lay.E_CREDIT_EXHAUSTED]
    ec_out = [e for e in events if e.code == lay.E_EC_EXHAUSTED]
    if exhausted:
        assert ec_out and ec_out[0].t == exhausted[0].t
        assert events.index(ec_out[0]) < events.index(exhausted[0])
    if ec_out:
        assert exhausted and exhausted[0].t == ec_out[0].t
