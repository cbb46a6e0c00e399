"""Reactive import: the varh register and the half-hourly reactive profile, on both engines.

Reactive energy is metered, not billed: it adds to its own register and (when the table
keeps the reactive profile) to the profile slot of its half-hour, and changes no cost,
credit or event. While the supply is disabled it is 0, as import is.
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
T0 = local_midnight(days_from_civil(2024, 2, 12))  # a winter Monday, local = UTC


def _table(*, reactive_log: bool, prepayment: Prepayment | None = None) -> Table:
    tariff = Tariff((DayProfile(((0, 1),)),), tou_prices=(20_000,), standing_charge=0)
    settings = Settings(billing_day=0, log_profile_reactive=reactive_log)
    return compile_table(tariff, prepayment, settings)


def _profile(logs: bytearray, offset: int, n: int) -> list[int]:
    return list(memoryview(logs)[offset : offset + 2 * n].cast("H"))


@pytest.mark.parametrize("engine", ENGINES)
def test_reactive_register_and_profile(engine: ModuleType) -> None:
    table = _table(reactive_log=True)
    flags = table.words[lay.T_FLAGS]
    state = lay.new_state(T0)
    logs = bytearray(lay.log_bytes(table.words))
    imports, reactive = array("H", [100, 200, 300]), array("H", [10, 0, 65_535])
    engine.advance(table.data, memoryview(state).cast("B"), logs, T0, T0 + 3 * HH, imports,
                   None, reactive)
    regs = ops.read(state)
    assert regs.reactive_import_varh == 10 + 65_535
    assert regs.import_wh == 600
    # energy cost only: 600 Wh x 20,000 fine units per Wh = 12,000 x 10^-5 (0.12)
    assert regs.accumulated_cost == 600 * 20_000 // 1000
    assert _profile(logs, lay.log_sections(flags)[0], 3) == [100, 200, 300]
    assert _profile(logs, lay.reactive_section(flags), 4) == [10, 0, 65_535, 0]
    # a constant rate: two more half-hours at 7 varh each, written after the first three
    engine.advance(table.data, memoryview(state).cast("B"), logs, T0 + 3 * HH, T0 + 5 * HH,
                   array("H", [1]), None, array("H", [7]))
    assert ops.read(state).reactive_import_varh == 10 + 65_535 + 14
    assert _profile(logs, lay.reactive_section(flags), 6) == [10, 0, 65_535, 7, 7, 0]


@pytest.mark.parametrize("engine", ENGINES)
def test_reactive_changes_nothing_else(engine: ModuleType) -> None:
    """Same table, state and imports, with and without reactive: only S_REACTIVE differs."""
    # low credit below 6.00, never disabled: the ~7.45 of energy below crosses it once
    table = _table(reactive_log=False, prepayment=Prepayment(600_000, 0, 0, -(10**9)))
    n = 48 * 3 + 5
    imports = array("H", (k * 37 % 500 for k in range(n)))
    runs = []
    for reactive in (None, array("H", (k * 11 % 300 for k in range(n)))):
        state = lay.new_state(T0, prepay=True, balance=800_000)
        logs = bytearray(lay.log_bytes(table.words))
        events = engine.advance(table.data, memoryview(state).cast("B"), logs, T0, T0 + n * HH,
                                imports, None, reactive)
        runs.append((state, bytes(logs), events))
    (a, logs_a, ev_a), (b, logs_b, ev_b) = runs
    assert a[lay.S_REACTIVE] == 0
    assert b[lay.S_REACTIVE] == sum(k * 11 % 300 for k in range(n))
    b[lay.S_REACTIVE] = 0
    assert (a, logs_a, ev_a) == (b, logs_b, ev_b)
    assert [e.code for e in ops.decode_events(ev_a)] == [lay.E_LOW_CREDIT]


@pytest.mark.parametrize("engine", ENGINES)
def test_no_reactive_while_disabled(engine: ModuleType) -> None:
    table = _table(reactive_log=True)
    state = lay.new_state(T0)
    state[lay.S_FLAGS] |= lay.M_DISABLED
    logs = bytearray(lay.log_bytes(table.words))
    logs[:] = b"\xff" * len(logs)
    engine.advance(table.data, memoryview(state).cast("B"), logs, T0, T0 + 50 * HH,
                   array("H", [100]), None, array("H", [40]))
    assert state[lay.S_REACTIVE] == 0
    assert _profile(logs, lay.reactive_section(table.words[lay.T_FLAGS]), 50) == [0] * 50


@pytest.mark.parametrize("engine", ENGINES)
def test_reactive_of_the_wrong_length_is_refused(engine: ModuleType) -> None:
    table = _table(reactive_log=False)
    state = lay.new_state(T0)
    with pytest.raises(ValueError, match="consumption"):
        engine.advance(table.data, memoryview(state).cast("B"), None, T0, T0 + 4 * HH,
                       array("H", [1] * 4), None, array("H", [1] * 3))


def test_log_budget() -> None:
    """Import profile + daily + billing (with its payment rings) fits 60 KB; the reactive
    profile is its own flag."""
    full = lay.F_LOG_PROFILE | lay.F_LOG_DAILY | lay.F_LOG_BILLING
    budget = 60_000
    # 53,640 bytes of profile, daily and billing snapshots + 15 x 16 bytes of payment rings
    assert lay.log_sections(full)[4] == 53_640 + 240
    assert lay.log_sections(full)[4] <= budget
    assert lay.log_sections(full | lay.F_LOG_PROFILE_REACTIVE)[4] == 53_880 + 396 * 48 * 2
    every = lay.F_LOGS_ALL
    # sections in order, none overlapping: import, export, reactive, daily, billing
    prof, export, daily, billing, size = lay.log_sections(every)
    assert (prof, export, lay.reactive_section(every), daily) == (0, 38_016, 76_032, 114_048)
    assert size == billing + 13 * lay.BILLING_WORDS * 8 + lay.PREPAYMENT_LOG_BYTES
    assert lay.prepayment_log_sections(every) == (size - 240, size - 160)


def test_meter_registers_pass_reactive_across_a_tariff_change() -> None:
    table = _table(reactive_log=True)
    meter = MeterRegisters(table, T0)
    meter.schedule(_table(reactive_log=True), T0 + 3 * HH)
    meter.advance(T0 + 6 * HH, array("H", [5] * 6), None, array("H", [1, 2, 3, 4, 5, 6]))
    assert meter.registers().reactive_import_varh == 21
    assert meter.logs is not None
    start = lay.reactive_section(table.words[lay.T_FLAGS])
    assert _profile(meter.logs, start, 6) == [1, 2, 3, 4, 5, 6]
