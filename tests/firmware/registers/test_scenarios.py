"""Hand-checked scenarios, written from the specification text; run on both engines.

Each figure below is worked out by hand in the comments, from the rules in reference.py's
theory of operation (GBCS §10 tariff structures, SMETS prepayment rules, seed 004).
"""

from __future__ import annotations

from array import array
from types import ModuleType

import pytest

from smemu.firmware import registers
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import ops, reference
from smemu.firmware.registers.calendar import days_from_civil, local_midnight
from smemu.firmware.registers.meter import MeterRegisters
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Settings,
    Table,
    Tariff,
    compile_table,
)

ENGINES = [pytest.param(reference, id="python")]
if registers.USING_C:
    from smemu.firmware.registers import _engine

    ENGINES.append(pytest.param(_engine, id="c"))

HH = lay.INTERVAL
NO_LOGS = Settings(log_profile=False, log_daily=False, log_billing=False, billing_day=0)


def _advance(
    engine: ModuleType,
    table: Table,
    state: array[int],
    t_to: int,
    series: list[int],
    *,
    logs: bytearray | None = None,
) -> list[ops.Event]:
    data = engine.advance(
        table.data, memoryview(state).cast("B"), logs, state[lay.S_T], t_to, array("H", series)
    )
    return ops.decode_events(data)


def _tou_day_table() -> Table:
    # rate 1 at night, rate 2 from 07:00 to 23:00 local time, every day
    profile = DayProfile(((0, 1), (7 * 60, 2), (23 * 60, 1)))
    return compile_table(Tariff((profile,), tou_prices=(10_000, 20_000)), None, NO_LOGS)


@pytest.mark.parametrize("engine", ENGINES)
def test_tou_day_across_spring_clock_change(engine: ModuleType) -> None:
    # Sunday 31 March 2024: local day = 00:00 UTC .. 23:00 UTC, 46 half-hours.
    # 07:00 BST = 06:00 UTC, 23:00 BST = 22:00 UTC: rate 2 gets 32 half-hours, rate 1 14.
    table = _tou_day_table()
    start = local_midnight(days_from_civil(2024, 3, 31))
    assert start == days_from_civil(2024, 3, 31) * 86_400
    state = lay.new_state(start)
    _advance(engine, table, state, start + 46 * HH, [100] * 46)
    assert state[lay.S_TOU : lay.S_TOU + 2].tolist() == [1_400, 3_200]
    # the 06:00-06:30 UTC half-hour is 07:00 BST: rate 2 (it would be rate 1 in GMT)
    state = lay.new_state(start + 12 * HH)
    _advance(engine, table, state, start + 13 * HH, [7])
    assert state[lay.S_TOU : lay.S_TOU + 2].tolist() == [0, 7]


@pytest.mark.parametrize("engine", ENGINES)
def test_tou_day_across_autumn_clock_change(engine: ModuleType) -> None:
    # Sunday 27 October 2024: local day = 23:00 UTC Saturday .. 00:00 UTC Monday, 50
    # half-hours; 01:00-02:00 local happens twice, both at rate 1: 18 at rate 1, 32 at rate 2.
    table = _tou_day_table()
    start = local_midnight(days_from_civil(2024, 10, 27))
    assert start == days_from_civil(2024, 10, 27) * 86_400 - 3_600
    state = lay.new_state(start)
    _advance(engine, table, state, start + 50 * HH, [100] * 50)
    assert state[lay.S_TOU : lay.S_TOU + 2].tolist() == [1_800, 3_200]
    assert state[lay.S_COST] == (1_800 * 10_000 + 3_200 * 20_000)


@pytest.mark.parametrize("engine", ENGINES)
def test_block_threshold_crossing_mid_interval(engine: ModuleType) -> None:
    # block set 1, thresholds 1000 and 2000 Wh; the counter stands at 800 Wh when a 600 Wh
    # half-hour comes: 200 Wh at block 1 price, 400 Wh at block 2, and the block changes a
    # third of the way through: t + 1800 * 200 / 600 = t + 600 s.
    tariff = Tariff(
        (DayProfile(((0, 101),)),),
        block_prices=((1_000, 2_000, 3_000, 4_000),),
        block_thresholds=((1_000, 2_000),),
    )
    table = compile_table(tariff, None, NO_LOGS)
    t0 = local_midnight(days_from_civil(2024, 6, 3))
    state = lay.new_state(t0)
    assert _advance(engine, table, state, t0 + 2 * HH, [500, 300]) == []
    events = _advance(engine, table, state, t0 + 3 * HH, [600])
    assert events == [ops.Event(0, lay.E_BLOCK_CHANGE, t0 + 2 * HH + 600, 1)]
    assert state[lay.S_BLOCK : lay.S_BLOCK + 2].tolist() == [1_000, 400]
    assert state[lay.S_COST] == 1_000 * 1_000 + 400 * 2_000
    assert state[lay.S_PERIOD] == 1_400


@pytest.mark.parametrize("engine", ENGINES)
def test_time_debt_recovery_capped_by_what_remains(engine: ModuleType) -> None:
    # hourly recovery of 1000 (10^-5) against a debt of 2500: 1000, 1000, then only 500,
    # and the register clears at the third hour end.
    pre = Prepayment(
        disablement_threshold=-(10**9),
        low_credit_threshold=-(10**9),
        emergency_credit_threshold=-(10**9),
        debt_rates=((1_000, "hourly"), (0, "daily")),
    )
    table = compile_table(Tariff((DayProfile(((0, 1),)),), tou_prices=(0,)), pre, NO_LOGS)
    t0 = local_midnight(days_from_civil(2024, 6, 3))
    state = lay.new_state(t0, prepay=True, balance=100_000)
    ops.set_debts(state, time_debts=(2_500, 0), payment_debt=0)
    events = _advance(engine, table, state, t0 + 10 * HH, [0] * 10)
    assert events == [ops.Event(0, lay.E_DEBT_CLEARED, t0 + 6 * HH, 0)]
    assert ops.read(state).meter_balance == 97_500
    assert ops.read(state).time_debts == (0, 0)


def test_payment_debt_recovery_weekly_cap() -> None:
    # 50 % of each top-up recovers payment debt, but at most 3000 in any 7 x 24 h.
    table = compile_table(Tariff((DayProfile(((0, 1),)),)), Prepayment(), NO_LOGS)
    state = lay.new_state(0, prepay=True)
    ops.set_debts(state, time_debts=(0, 0), payment_debt=100_000)
    day = 86_400

    def top_up(t: int) -> int:
        return ops.top_up(table.words, state, t, 4_000, percent_bp=5_000, weekly_cap=3_000)

    assert top_up(day) == 2_000
    assert top_up(3 * day) == 1_000
    assert top_up(5 * day) == 0
    # 8 days after the first top-up, it has left the window; the second (1000) has not
    assert top_up(9 * day) == 2_000
    assert ops.read(state).payment_debt == 100_000 - 5_000
    assert ops.read(state).meter_balance == 16_000 - 5_000


@pytest.mark.parametrize("engine", ENGINES)
def test_emergency_credit(engine: ModuleType) -> None:
    # 1 kWh per half-hour at 10p/kWh = 10000 (10^-5 GBP) per half-hour. Balance 3.00 GBP,
    # low credit 2.50, EC threshold 2.00, EC limit 5.00, disablement at 0.
    pre = Prepayment(low_credit_threshold=250_000, emergency_credit_threshold=200_000,
                     emergency_credit_limit=500_000, disablement_threshold=0)
    table = compile_table(Tariff((DayProfile(((0, 1),)),), tou_prices=(10_000,)), pre, NO_LOGS)
    t0 = local_midnight(days_from_civil(2024, 6, 3))
    state = lay.new_state(t0, prepay=True, balance=300_000)
    events = _advance(engine, table, state, t0 + 11 * HH, [1_000] * 11)
    # 2.40 after the 6th half-hour (< 2.50): low credit; 1.90 after the 11th: EC available
    assert [(e.name, e.t, e.value) for e in events] == [
        ("low_credit", t0 + 6 * HH, 240_000 * lay.FINE),
        ("emergency_credit_available", t0 + 11 * HH, 190_000 * lay.FINE),
    ]
    assert ops.activate_emergency_credit(table.words, state)
    # 1.90 of balance lasts 19 half-hours, then 5.00 of EC 50 more: all gone at 69. The
    # available credit (balance + EC, 6.90) re-armed the low-credit alert: it falls below
    # 2.50 again after 45 half-hours.
    events = _advance(engine, table, state, t0 + 11 * HH + 80 * HH, [1_000] * 80)
    end = t0 + (11 + 69) * HH
    assert [(e.name, e.t) for e in events] == [
        ("low_credit", t0 + (11 + 45) * HH),
        ("emergency_credit_exhausted", end),
        ("credit_exhausted", end),
        ("supply_disabled", end),
    ]
    regs = ops.read(state)
    assert (regs.meter_balance, regs.emergency_credit_balance) == (0, 0)
    assert regs.supply_disabled and regs.import_wh == 80_000  # nothing after disablement
    # a 10.00 top-up repays the 5.00 emergency credit first; the supply can be re-enabled
    ops.top_up(table.words, state, end, 1_000_000)
    assert ops.read(state).meter_balance == 500_000
    assert not ops.read(state).emergency_credit_active
    assert ops.enable_supply(table.words, state)


@pytest.mark.parametrize("engine", ENGINES)
def test_billing_day_snapshot(engine: ModuleType) -> None:
    # billing day 1: the snapshot is taken at local midnight starting 1 April 2024, which is
    # 23:00 UTC on 31 March (BST); maximum demand then restarts.
    table = compile_table(
        Tariff((DayProfile(((0, 1),)),), tou_prices=(10_000,)), None, Settings(billing_day=1)
    )
    t0 = local_midnight(days_from_civil(2024, 3, 30))
    state = lay.new_state(t0)
    logs = bytearray(lay.log_bytes(table.words))
    n = 48 + 46 + 10
    series = [10] * n
    series[50] = 700  # the largest half-hour before the snapshot
    events = _advance(engine, table, state, t0 + n * HH, series, logs=logs)
    snap_t = days_from_civil(2024, 3, 31) * 86_400 + 23 * 3_600
    assert events == [ops.Event(0, lay.E_BILLING_SNAPSHOT, snap_t, 1)]
    billing = lay.log_sections(table.words[lay.T_FLAGS])[3]
    entry = memoryview(logs)[billing : billing + lay.BILLING_WORDS * 8].cast("q")
    assert entry[lay.B_T] == snap_t
    assert entry[lay.B_IMPORT] == 10 * 93 + 700
    assert (entry[lay.B_MD], entry[lay.B_MD + 1]) == (700, t0 + 51 * HH)
    assert entry[lay.B_TOU] == 10 * 93 + 700
    assert state[lay.S_MD_IMPORT] == 10  # restarted after the snapshot


def test_tariff_change_takes_a_snapshot_and_switches_prices() -> None:
    settings = Settings(billing_day=0)
    cheap = compile_table(Tariff((DayProfile(((0, 1),)),), tou_prices=(10_000,)), None, settings)
    dear = compile_table(Tariff((DayProfile(((0, 2),)),), tou_prices=(0, 30_000)), None, settings)
    t0 = local_midnight(days_from_civil(2024, 6, 3))
    meter = MeterRegisters(cheap, t0)
    meter.schedule(dear, t0 + 4 * HH)
    events = meter.advance(t0 + 10 * HH, array("H", [100] * 10))
    assert [(e.name, e.t) for e in events] == [("billing_snapshot", t0 + 4 * HH)]
    regs = meter.registers()
    assert regs.tou_wh[:2] == (400, 600)
    assert regs.accumulated_cost == (400 * 10_000 + 600 * 30_000) // lay.FINE


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("period", "import_max", "export_max"),
    [
        # 30 minutes: the largest half-hour, 300 Wh ending 00:30; export 90 ending 01:30
        (30, (300, 1), (90, 3)),
        # 60 minutes: 300+100 = 400 ending 01:00, 250+200 = 450 ending 02:00 (larger);
        # export 10+20 = 30, then 90+80 = 170 ending 02:00
        (60, (450, 4), (170, 4)),
        # 120 minutes: one period, 850 Wh import and 200 Wh export ending 02:00
        (120, (850, 4), (200, 4)),
    ],
)
def test_maximum_demand_period_import_and_export(
    engine: ModuleType, period: int, import_max: tuple[int, int], export_max: tuple[int, int]
) -> None:
    table = compile_table(
        Tariff((DayProfile(((0, 1),)),), tou_prices=(10_000,)),
        None,
        Settings(log_profile=False, log_daily=False, log_billing=False, billing_day=0,
                 max_demand_period=period),
    )
    t0 = local_midnight(days_from_civil(2024, 1, 10))  # winter: local = UTC
    state = lay.new_state(t0)
    engine.advance(
        table.data, memoryview(state).cast("B"), None, t0, t0 + 4 * HH,
        array("H", [300, 100, 250, 200]), array("H", [10, 20, 90, 80]),
    )
    regs = ops.read(state)
    assert (regs.max_demand_import_wh, regs.max_demand_import_t) == (
        import_max[0], t0 + import_max[1] * HH,
    )
    assert (regs.max_demand_export_wh, regs.max_demand_export_t) == (
        export_max[0], t0 + export_max[1] * HH,
    )


def test_maximum_demand_period_must_divide_a_day() -> None:
    from smemu.errors import ConfigError

    tariff = Tariff((DayProfile(((0, 1),)),))
    for bad in (0, 45, 70, 2880):
        with pytest.raises(ConfigError):
            compile_table(tariff, None, Settings(max_demand_period=bad))
