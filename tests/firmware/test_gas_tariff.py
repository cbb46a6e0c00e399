"""Gas meter tariff, calendars and CV / conversion factor instructions (gas_tariff)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smemu.firmware import gas_metering, gas_tariff
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_handlers import HANDLERS, READS, STORE
from smemu.firmware.gas_zcl import ZclRefusedError
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000
from smemu.protocols.zigbee.calendar import PublishCalendar, PublishDayProfile
from smemu.protocols.zigbee.price import (
    PriceMatrixEntry,
    PublishCalorificValue,
    PublishConversionFactor,
    PublishPriceMatrix,
)
from smemu.protocols.zigbee.zcl import ZclStatus

from ._support import T0


def _comp(cluster: int, command: object, *, fc: int = 0x09) -> gbz.GbzComponent:
    cid = type(command).COMMAND_ID  # type: ignore[attr-defined]
    payload = command.encode()  # type: ignore[attr-defined]
    return gbz.GbzComponent(gbz.CONTROL_LAST, cluster, fc, 0, cid, payload)


def test_gcs23_sets_cv_and_conversion_factor_in_the_engine() -> None:
    tx = Tx(T0, {})
    HANDLERS[(0x0700, 0x02)](tx, _comp(0x0700, PublishConversionFactor(1, 0, 102264, 0x50)))
    HANDLERS[(0x0700, 0x03)](tx, _comp(0x0700, PublishCalorificValue(1, 0, 400, 1, 0x10)))
    assert gas_metering.conversion(tx) == (40_000, 1_022_640)
    assert gas_tariff.calorific_value(tx) == (400, 1)
    assert STORE.read(tx, 0x0700, 0x0304) == b"\x23" + (400).to_bytes(4, "little")
    with pytest.raises(ZclRefusedError):
        gas_tariff.publish_calorific_value(
            tx, _comp(0x0700, PublishCalorificValue(1, 0, 400, 7, 0x10))
        )


@pytest.mark.parametrize(("digit", "places", "value"), [(0x50, 6, 1022640), (0x10, 3, 40000),
                                                       (0x70, 6, 102264)])
def test_rescale(digit: int, places: int, value: int) -> None:
    raw = {0x50: 102264, 0x10: 400, 0x70: 1022640}[digit]
    assert gas_tariff.rescale(raw, digit, places) == value


def test_price_matrix_stores_prices_and_attributes() -> None:
    tx = Tx(T0, {})
    entries = (PriceMatrixEntry(1, 1500), PriceMatrixEntry(2, 2500))
    HANDLERS[(0x0700, 0x05)](tx, _comp(0x0700, PublishPriceMatrix(0, 1, 0, 1, 0, 1, 1, entries)))
    assert gas_tariff.prices(tx) == {1: 1500, 2: 2500}
    assert STORE.read(tx, 0x0700, 0x0410) == b"\x23" + (1500).to_bytes(4, "little")
    assert tx.get_int(gas_tariff.GENERATION) == 1


def test_friendly_credit_calendar_and_future_start() -> None:
    tx = Tx(T0, {})
    start = int((T0 + timedelta(hours=2) - EPOCH_2000).total_seconds())
    calendar = PublishCalendar(0, 1, 77, start, 3, 0, b"", 0, 0, 1)
    HANDLERS[(0x0707, 0x00)](tx, _comp(0x0707, calendar))
    assert not gas_tariff.has_calendar(tx, gas_tariff.FRIENDLY_CREDIT)
    later = Tx(T0 + timedelta(hours=3), dict(tx.writes))  # type: ignore[arg-type]
    assert gas_tariff.activate_due(later) == ["calendar_3"]
    assert gas_tariff.calendar_id(later, gas_tariff.FRIENDLY_CREDIT) == 77
    day = PublishDayProfile(0, 1, 77, 1, 0, 0, 1, 3, ())
    HANDLERS[(0x0707, 0x01)](later, _comp(0x0707, day))
    assert gas_tariff.calendar_part(later, 3, "day/1") == day.encode()


def test_a_get_with_a_publish_command_id_goes_to_the_reads() -> None:
    tx = Tx(T0, {})
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0707, 0x01, 0, 0x01, bytes(10))
    if (0x0707, 0x01) not in READS:
        with pytest.raises(ZclRefusedError) as info:
            HANDLERS[(0x0707, 0x01)](tx, comp)
        assert info.value.status is ZclStatus.UNSUP_CLUSTER_COMMAND
    assert not tx.keys(gas_tariff.CALENDAR_PREFIX)


def test_future_special_days_wait_for_their_start_like_the_other_kinds() -> None:
    from smemu.protocols.zigbee._fields import ZclDate
    from smemu.protocols.zigbee.calendar import PublishSpecialDays, SpecialDayEntry

    day = (SpecialDayEntry(ZclDate(125, 12, 25, 0xFF), 2),)
    tx = Tx(T0, {})
    start = int((T0 + timedelta(hours=2) - EPOCH_2000).total_seconds())
    days = PublishSpecialDays(0, 1, 77, start, 0, 1, 0, 1, day)
    HANDLERS[(0x0707, 0x04)](tx, _comp(0x0707, days))
    assert gas_tariff.pending(tx) == {"special_days": start}
    assert gas_tariff.calendar_part(tx, 0, "special_days") is None
    later = Tx(T0 + timedelta(hours=3), dict(tx.writes))  # type: ignore[arg-type]
    assert gas_tariff.activate_due(later) == ["special_days"]
    stored = later.get(f"{gas_tariff.CALENDAR_PREFIX}{77:08x}/special_days")
    assert stored == days.encode()
    # start 0: at once
    now = PublishSpecialDays(0, 2, 78, 0, 0, 1, 0, 1, day)
    HANDLERS[(0x0707, 0x04)](later, _comp(0x0707, now))
    assert later.get(f"{gas_tariff.CALENDAR_PREFIX}{78:08x}/special_days") == now.encode()
