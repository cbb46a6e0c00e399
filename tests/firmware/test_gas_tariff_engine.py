"""The ZCL tariff (GCS01a/b) and billing calendar (GCS25 / GCS21d) in the gas register engine."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.firmware import gas_logs, gas_metering, gas_tariff, gas_tariff_engine
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_handlers import HANDLERS
from smemu.firmware.registers import reference
from smemu.firmware.registers.tables import DayProfile, Season, SpecialDay, Tariff, compile_table
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000, ZclDate
from smemu.protocols.zigbee.calendar import (
    DayScheduleEntry,
    PublishCalendar,
    PublishDayProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishWeekProfile,
    SeasonEntry,
    SpecialDayEntry,
)
from smemu.protocols.zigbee.price import (
    BlockThresholdSet,
    PriceMatrixEntry,
    PublishBillingPeriod,
    PublishBlockThresholds,
    PublishPriceMatrix,
    PublishTariffInformation,
)

from ._support import T0

PRICE, CALENDAR = 0x0700, 0x0707
ANY = 0xFF
#: T0 is Monday 2025-01-06; the special day is the Tuesday after
SPECIAL = ZclDate(125, 1, 7, ANY)


def _comp(cluster: int, command: object) -> gbz.GbzComponent:
    cid = type(command).COMMAND_ID  # type: ignore[attr-defined]
    return gbz.GbzComponent(gbz.CONTROL_LAST, cluster, 0x09, 0, cid, command.encode())  # type: ignore[attr-defined]


def _run(tx: Tx, cluster: int, command: object) -> None:
    cid = type(command).COMMAND_ID  # type: ignore[attr-defined]
    assert HANDLERS[(cluster, cid)](tx, _comp(cluster, command)) is None


def _info(scheme: int, standing: int, digit: int = 0x50) -> PublishTariffInformation:
    return PublishTariffInformation(
        0, 1, 1, 0, scheme << 4, b"", 4, 3, 0, 826, digit, standing, 0xFF, 1, 1000
    )


def _gcs01a_tou(tx: Tx) -> None:
    """GCS01a as gbcs-reference.md 10.2 orders it: a TOU tariff of three tiers."""
    _run(tx, CALENDAR, PublishCalendar(0, 1, 7, 0, 0, 0, b"", 1, 2, 2))
    weekday = (DayScheduleEntry(0, 2), DayScheduleEntry(7 * 60 + 10, 3), DayScheduleEntry(1380, 2))
    _run(tx, CALENDAR, PublishDayProfile(0, 1, 7, 1, 3, 0, 1, 0, weekday))
    _run(tx, CALENDAR, PublishDayProfile(0, 1, 7, 2, 1, 0, 1, 0, (DayScheduleEntry(0, 1),)))
    _run(tx, CALENDAR, PublishWeekProfile(0, 1, 7, 1, 1, 1, 1, 1, 1, 2, 2))
    _run(tx, CALENDAR, PublishWeekProfile(0, 1, 7, 2, 2, 2, 2, 2, 2, 2, 2))
    seasons = (SeasonEntry(ZclDate(ANY, 1, 1, ANY), 1), SeasonEntry(ZclDate(ANY, 7, 1, ANY), 2))
    _run(tx, CALENDAR, PublishSeasons(0, 1, 7, 0, 1, seasons))
    special = (SpecialDayEntry(SPECIAL, 2),)
    _run(tx, CALENDAR, PublishSpecialDays(0, 1, 7, 0, 0, 1, 0, 1, special))
    _run(tx, PRICE, _info(0, 2_500_000, digit=0x60))  # 25.00000 pence a day, 6 decimals
    entries = (PriceMatrixEntry(1, 1_000), PriceMatrixEntry(2, 2_000), PriceMatrixEntry(3, 4_000))
    _run(tx, PRICE, PublishPriceMatrix(0, 1, 0, 1, 0, 1, 1, entries))


#: what that GCS01a means, written out as an engine tariff (prices in 10^-5 per kWh)
EXPECTED_TOU = Tariff(
    day_profiles=(DayProfile(((0, 2), (420, 3), (1380, 2))), DayProfile(((0, 1),))),
    week_profiles=((0, 0, 0, 0, 0, 1, 1), (1, 1, 1, 1, 1, 1, 1)),
    seasons=(Season(1, 1, 0), Season(7, 1, 1)),
    special_days=(SpecialDay(1, 7, 1, 2025),),
    tou_prices=(100, 200, 400),
    standing_charge=250_000,
)


def _gcs01a_block(tx: Tx) -> None:
    _run(tx, PRICE, _info(1, 20_000))
    thresholds = (BlockThresholdSet(0x03, (200, 500, 900)),)
    _run(tx, PRICE, PublishBlockThresholds(0, 1, 0, 1, 0, 1, 1, thresholds))
    entries = tuple(PriceMatrixEntry(b, p) for b, p in enumerate((5_000, 6_000, 7_000, 8_000)))
    _run(tx, PRICE, PublishPriceMatrix(0, 1, 0, 1, 0, 1, 0, entries))


EXPECTED_BLOCK = Tariff(
    day_profiles=(DayProfile(((0, 101),)),),
    block_prices=((5_000, 6_000, 7_000, 8_000),),
    block_thresholds=((200, 500, 900),),
    standing_charge=20_000,
)

#: litres per half-hour over a day (cycled), so that every tier and block sees flow
SERIES = [40, 0, 15, 90, 3, 60, 22, 7]


def _meter(publish: object) -> tuple[Tx, Tx]:
    """(a meter given the tariff by ZCL commands, one given the expected engine tariff)."""
    a = Tx(T0, {})
    a.put_json(gas_metering.FLOW, {"series": SERIES})
    gas_metering.catch_up(a)
    publish(a)  # type: ignore[operator]
    b = Tx(T0, {})
    b.put_json(gas_metering.FLOW, {"series": SERIES})
    gas_metering.catch_up(b)
    return a, b


def _later(tx: Tx, delta: timedelta) -> Tx:
    nvm = {k: v for k, v in {**tx.base, **tx.writes}.items() if v is not None}
    return Tx(tx.now + delta, nvm)


@pytest.mark.parametrize(
    ("publish", "expected"), [(_gcs01a_tou, EXPECTED_TOU), (_gcs01a_block, EXPECTED_BLOCK)]
)
def test_gcs01a_tariff_runs_as_the_reference_engine_runs_its_meaning(
    publish: object, expected: Tariff
) -> None:
    a, b = _meter(publish)
    compiled = gas_metering.tariff(a)
    assert compiled.day_profiles == expected.day_profiles
    assert compiled.week_profiles == expected.week_profiles
    gas_metering.set_tariff(b, expected, snapshot_cause=gas_metering.CAUSE_TARIFF)
    a, b = _later(a, timedelta(days=2)), _later(b, timedelta(days=2))
    gas_metering.catch_up(a)
    with mock.patch.object(gas_metering, "engine_advance", reference.advance):
        gas_metering.catch_up(b)
    got, want = gas_metering.registers(a), gas_metering.registers(b)
    assert got.volume_litres == want.volume_litres > 0
    assert got.tou_litres == want.tou_litres
    assert got.block_litres == want.block_litres
    assert got.accumulated_cost == want.accumulated_cost > 0
    if expected is EXPECTED_TOU:  # Monday, then the special Tuesday (all tier 1)
        assert got.tou_litres[0] > 0 and got.tou_litres[1] > 0 and got.tou_litres[2] > 0
    else:
        assert all(v > 0 for v in got.block_litres)


def test_one_tariff_snapshot_per_command_and_none_when_nothing_changes() -> None:
    a, _b = _meter(_gcs01a_tou)
    tariff_entries = [s for s in gas_logs.billing_log(a) if s.cause == gas_metering.CAUSE_TARIFF]
    assert len(tariff_entries) == 1
    a = _later(a, timedelta(hours=1))
    gas_tariff.bump_generation(a)  # e.g. a prepayment change: the tariff is the same
    assert len(gas_logs.billing_log(a)) == 1


def test_tariff_before_a_change_is_billed_at_the_old_prices() -> None:
    a, _b = _meter(lambda tx: None)
    a = _later(a, timedelta(hours=5))
    before = gas_metering.registers(a) if gas_metering.catch_up(a) is not None else None
    assert before is not None and before.volume_litres > 0 and before.accumulated_cost == 0
    _gcs01a_block(a)  # the 5 hours so far were priced at 0
    assert gas_metering.registers(a).accumulated_cost == 0
    a = _later(a, timedelta(hours=1))
    gas_metering.catch_up(a)
    assert gas_metering.registers(a).accumulated_cost > 0


def test_future_dated_price_matrix_is_compiled_when_it_activates() -> None:
    tx = Tx(T0, {})
    gas_metering.catch_up(tx)
    start = int((T0 + timedelta(hours=2)).timestamp()) - int(EPOCH_2000.timestamp())
    entries = (PriceMatrixEntry(1, 9_999),)
    _run(tx, PRICE, PublishPriceMatrix(0, 1, start, 1, 0, 1, 1, entries))
    assert gas_metering.tariff(tx).tou_prices == ()
    tx = _later(tx, timedelta(hours=3))
    assert gas_tariff.activate_due(tx) == ["price_matrix"]
    assert gas_metering.tariff(tx).tou_prices[0] == 9_999


@settings(max_examples=40, deadline=None)
@given(
    entries=st.lists(
        st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFF)), min_size=1, max_size=20
    ),
    scheme=st.integers(0, 3),
    prices=st.lists(st.tuples(st.integers(0, 0xFF), st.integers(0, 2**32 - 1)), max_size=12),
    digit=st.integers(0, 9),
)
def test_any_published_tariff_compiles(
    entries: list[tuple[int, int]], scheme: int, prices: list[tuple[int, int]], digit: int
) -> None:
    """Whatever the supplier publishes, the engine gets a tariff it can run."""
    tx = Tx(T0, {})
    _run(tx, PRICE, _info(scheme, 123_456, digit=digit << 4))
    _run(tx, CALENDAR, PublishCalendar(0, 1, 9, 0, 0, 0, b"", 0, 0, 1))
    day = tuple(DayScheduleEntry(m, a) for m, a in entries)
    _run(tx, CALENDAR, PublishDayProfile(0, 1, 9, 1, len(day), 0, 1, 0, day))
    matrix = tuple(PriceMatrixEntry(i, p) for i, p in prices)
    _run(tx, PRICE, PublishPriceMatrix(0, 1, 0, 1, 0, 1, scheme == 0, matrix))
    running = compile_table(gas_metering.tariff(tx)).data
    assert running == compile_table(gas_tariff_engine.engine_tariff(tx)).data
    gas_metering.catch_up(_later(tx, timedelta(hours=1)))


def test_billing_calendar_from_gcs25_and_read_back_by_gcs21d() -> None:
    tx = Tx(T0, {})
    gas_metering.catch_up(tx)
    default = gas_tariff_engine.billing_period(tx)
    assert EPOCH_2000 + timedelta(seconds=default.billing_period_start_time) == T0.replace(day=1)
    assert default.billing_period_duration_type & 0x0F == 3  # months
    start = int((T0 + timedelta(days=10)).timestamp()) - int(EPOCH_2000.timestamp())
    published = PublishBillingPeriod(0, 5, start, 1, 0x03, 0)
    gas_tariff_engine.publish_billing_period(tx, _comp(PRICE, published))
    assert gas_metering.settings(tx).billing_day == 16
    reply = gas_tariff_engine.get_billing_period(tx, _comp(PRICE, published))
    assert PublishBillingPeriod.decode_exact(reply.payload) == published
    tx = _later(tx, timedelta(days=11))
    gas_metering.catch_up(tx)
    calendar = [s for s in gas_logs.billing_log(tx) if s.cause == gas_metering.CAUSE_BILLING_PERIOD]
    assert len(calendar) == 1
