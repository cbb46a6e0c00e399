"""gas_metering: the GSME's registers in the register engine (volume, energy, cost, credit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.firmware import gas_metering as gm
from smemu.firmware.common.machine import Tx
from smemu.firmware.registers import USING_C, reference
from smemu.firmware.registers.tables import DayProfile, Prepayment, Tariff

T0 = datetime(2024, 1, 1, tzinfo=UTC)
#: day rate 1 from 07:00, night rate 2 from 23:00
TOU = Tariff(
    day_profiles=(DayProfile(((0, 2), (420, 1), (1380, 2))),),
    tou_prices=(20_000, 10_000),
    standing_charge=30_000,
)


def _commit(tx: Tx, base: dict[str, bytes]) -> dict[str, bytes]:
    out = dict(base)
    for key, value in tx.writes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _meter(flow: object, tariff: Tariff | None = None) -> dict[str, bytes]:
    tx = Tx(T0, {})
    tx.put_json(gm.FLOW, flow)
    gm.catch_up(tx)
    if tariff is not None:
        gm.set_tariff(tx, tariff, snapshot_cause=None)
    return _commit(tx, {})


def _after(nvm: dict[str, bytes], delta: timedelta) -> tuple[Tx, gm.GasRegisters]:
    tx = Tx(T0 + delta, nvm)
    gm.catch_up(tx)
    return tx, gm.registers(tx)


def test_constant_flow_volume_and_energy() -> None:
    _tx, r = _after(_meter({"litres_per_hour": 120}), timedelta(days=3))
    assert r.volume_litres == 3 * 24 * 120
    assert r.energy_wh == gm.energy_wh(r.volume_litres, gm.DEFAULT_CV, gm.DEFAULT_CF)
    # 8.64 m3 x 39.5 MJ/m3 x 1.02264 / 3.6 = 96.946 kWh
    assert r.energy_wh == 96_946
    assert r.t == int((T0 + timedelta(days=3)).timestamp())


def test_closed_valve_stops_the_flow() -> None:
    nvm = _meter({"litres_per_hour": 100})
    nvm["gsme/valve"] = (0).to_bytes(8, "big")
    _tx, r = _after(nvm, timedelta(days=1))
    assert r.volume_litres == 0


def test_tou_registers_split_by_the_calendar_and_cost_follows_energy() -> None:
    _tx, r = _after(_meter({"litres_per_hour": 100}, TOU), timedelta(days=2))
    day, night = r.tou_litres[0], r.tou_litres[1]
    assert (day, night) == (2 * 16 * 100, 2 * 8 * 100)
    kwh_per_m3 = gm.DEFAULT_CV * gm.DEFAULT_CF / 3.6e9  # kWh per m3
    expected = (day * 20_000 + night * 10_000) / 1000 * kwh_per_m3 + 2 * 30_000
    assert abs(r.accumulated_cost_pence * 1000 - expected) < 2000  # 2 pence of rounding


def test_conversion_changes_energy_not_volume() -> None:
    nvm = _meter({"litres_per_hour": 100})
    tx = Tx(T0 + timedelta(days=1), nvm)
    gm.set_conversion(tx, cv_milli=40_000, cf_micro=1_000_000)
    r = gm.registers(tx)
    assert r.volume_litres == 2400
    assert r.energy_wh == 2400 * 40_000 * 1_000_000 // 3_600_000_000
    assert tx.get_int(gm.GENERATION) == 1


def test_series_catch_up_is_independent_of_how_time_is_cut() -> None:
    flow = {"series": [10, 0, 35, 7, 100]}
    nvm = _meter(flow)
    _tx, whole = _after(nvm, timedelta(days=1, hours=5))
    tx = Tx(T0 + timedelta(hours=13), nvm)
    gm.catch_up(tx)
    _tx2, parts = _after(_commit(tx, nvm), timedelta(days=1, hours=5))
    assert whole == parts
    t0 = int(T0.timestamp())
    per_interval = [gm.GasFlow(series=(10, 0, 35, 7, 100)).interval_litres(t0 + 1800 * k)
                    for k in range(58)]  # fmt: skip
    assert whole.volume_litres == sum(per_interval)


def test_credit_top_up_adjustment_and_emergency() -> None:
    nvm = _meter({"litres_per_hour": 0})
    tx = Tx(T0, nvm)
    gm.set_prepayment(
        tx, Prepayment(emergency_credit_threshold=100_000, emergency_credit_limit=500_000)
    )
    assert gm.credit(tx, 100_000, gm.CreditKind.TOP_UP).balance == 100_000
    after = gm.credit(tx, -120_001, "adjustment")  # sub-penny amounts are kept
    assert (after.balance, after.balance_pence) == (-20_001, -21)
    r = gm.credit(tx, 0, gm.CreditKind.EMERGENCY)
    assert r.emergency_credit_active and r.emergency_credit == 479_999
    assert r.balance == 0  # the emergency credit paid off the overdrawn balance


def test_reset_credit_zeroes_balance_emergency_credit_and_debt() -> None:
    tx = Tx(T0, _meter({"litres_per_hour": 0}))
    gm.set_prepayment(
        tx, Prepayment(emergency_credit_threshold=100_000, emergency_credit_limit=500_000)
    )
    gm.set_payment_mode(tx, prepay=True)
    gm.credit(tx, -50_000, gm.CreditKind.ADJUSTMENT)
    gm.credit(tx, 0, gm.CreditKind.EMERGENCY)
    gm.set_debts(tx, time_debts=(7, 8), payment_debt=9)
    before = gm.registers(tx)
    assert before.emergency_credit_active and before.emergency_credit > 0
    r = gm.reset_credit(tx)
    assert (r.balance, r.emergency_credit, r.accumulated_debt) == (0, 0, 0)
    assert not r.emergency_credit_active
    assert (r.time_debts, r.payment_debt) == ((7, 8), 9)  # GCS40b leaves the debts


def test_snapshot_causes_are_kept() -> None:
    tx = Tx(T0 + timedelta(days=1), _meter({"litres_per_hour": 10}))
    gm.snapshot(tx, gm.CAUSE_SUPPLIER)
    gm.set_payment_mode(tx, prepay=True)
    assert tx.get_json(gm.CAUSES) == {"0": gm.CAUSE_SUPPLIER, "1": gm.CAUSE_MODE}
    assert gm.registers(tx).prepayment


@pytest.mark.skipif(not USING_C, reason="the C engine is not built: nothing to compare")
@settings(max_examples=25, deadline=None)
@given(
    series=st.lists(st.integers(0, 400), min_size=1, max_size=60),
    days=st.integers(1, 40),
)
def test_differential_c_engine_equals_reference(series: list[int], days: int) -> None:
    """The gas registers after N days are the reference engine's for the same inputs."""
    nvm = _meter({"series": series}, TOU)
    c_tx, c_regs = _after(nvm, timedelta(days=days, minutes=45))
    with mock.patch.object(gm, "engine_advance", reference.advance):
        p_tx, p_regs = _after(nvm, timedelta(days=days, minutes=45))
    assert c_regs == p_regs
    assert c_tx.get(gm.STATE) == p_tx.get(gm.STATE)
    assert c_tx.get(gm.LOGS) == p_tx.get(gm.LOGS)
