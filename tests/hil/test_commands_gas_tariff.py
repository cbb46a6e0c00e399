"""GCS01a / GCS01b builders: typed Publish commands in, GBZ out, read back the same."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import ConfigError, DecodeError
from smemu.firmware import gas_tariff
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_handlers import HANDLERS
from smemu.hil.commands import BUILDERS, BuildContext
from smemu.hil.commands_gas_tariff import (
    GasTariff,
    gcs01a_payload,
    gcs01b_payload,
    issuer_event_id,
    publish_payload,
    read_back,
)
from smemu.hil.commands_tariff import parse_switches
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.calendar import PublishCalendar
from smemu.protocols.zigbee.messaging import CancelAllMessages
from tests.strategies.gas_tariff import gas_tariffs

ISSUED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SIMPLE = GasTariff.simple(
    parse_switches("00:00=1,07:00=2,23:00=1"), (15_000, 30_000), standing=25_000, issued=ISSUED
)
SUPPLIER = Eui64.parse("90-B3-D5-1F-30-01-00-00")
CTX = BuildContext(1000, SUPPLIER, Eui64.parse("00-DB-12-34-56-78-90-A1"))


@given(gas_tariffs())
def test_a_tariff_reads_back_as_built(tariff: GasTariff) -> None:
    payload = gcs01a_payload(tariff) if tariff.calendar is not None else gcs01b_payload(tariff)
    assert read_back(payload) == tariff


@given(gas_tariffs(calendar=True))
def test_components_count_up_and_only_the_last_is_marked(tariff: GasTariff) -> None:
    message = gbz.decode_exact(gcs01a_payload(tariff))
    assert [c.sequence for c in message.components] == list(range(len(tariff.commands())))
    assert [c.control for c in message.components][-1] == gbz.CONTROL_LAST
    assert all(c.control == 0 for c in message.components[:-1])
    assert all(c.frame_control == 0x09 for c in message.components)  # server to client


@given(st.binary(max_size=120))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        read_back(data)


def test_gcs01a_needs_its_calendar_and_gcs01b_refuses_one() -> None:
    prices_only = GasTariff(SIMPLE.tariff_information, SIMPLE.price_matrix)
    with pytest.raises(ConfigError, match="Publish Calendar"):
        gcs01a_payload(prices_only)
    with pytest.raises(ConfigError, match="prices only"):
        gcs01b_payload(SIMPLE)
    assert [type(c).__name__ for c in read_back(gcs01b_payload(prices_only)).commands()] == [
        "PublishTariffInformation",
        "PublishPriceMatrix",
    ]


def test_read_back_refuses_other_commands_and_a_broken_order() -> None:
    with pytest.raises(DecodeError, match="not a tariff Publish command"):
        read_back(publish_payload((CancelAllMessages(0),)))
    swapped = (SIMPLE.tariff_information, *SIMPLE.commands()[:1])
    with pytest.raises(DecodeError, match="order"):
        read_back(publish_payload(swapped))
    calendar = SIMPLE.calendar
    assert isinstance(calendar, PublishCalendar)
    with pytest.raises(DecodeError, match="one tariff information"):
        read_back(publish_payload((calendar, calendar, SIMPLE.tariff_information)))


def test_simple_tou_tariff_fields() -> None:
    info = SIMPLE.tariff_information
    event = issuer_event_id(ISSUED)
    assert event == 762_609_600
    assert (info.issuer_event_id, info.start_time, info.standing_charge) == (event, 0, 25_000)
    assert (info.tariff_type_charging_scheme, info.number_of_price_tiers_in_use) == (0x00, 2)
    [matrix] = SIMPLE.price_matrix
    assert [(e.tier_block_id, e.price) for e in matrix.entries] == [(1, 15_000), (2, 30_000)]
    [day] = SIMPLE.day_profiles
    assert [(e.start_time, e.action) for e in day.entries] == [(0, 1), (420, 2), (1380, 1)]
    [week] = SIMPLE.week_profiles
    assert {week.monday, week.sunday} == {day.day_id}


@pytest.mark.parametrize(
    ("switches", "prices", "match"),
    [
        (((60, 1),), (1,), "00:00"),
        (((0, 1),), (), "1 to 48"),
        (((0, 3),), (1, 2), "tier beyond"),
    ],
)
def test_simple_refuses_a_tariff_it_cannot_publish(
    switches: tuple[tuple[int, int], ...], prices: tuple[int, ...], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        GasTariff.simple(switches, prices)


def test_the_gsme_firmware_takes_what_the_builder_sends() -> None:
    # Differential: the GSME's own handlers apply the built commands.
    tx = Tx(ISSUED, {})
    for component in gbz.decode_exact(gcs01a_payload(SIMPLE)).components:
        HANDLERS[(component.cluster_id, component.command_id)](tx, component)
    assert gas_tariff.prices(tx) == {1: 15_000, 2: 30_000}
    stored = gas_tariff.tariff_information(tx)
    assert stored is not None and stored.standing_charge == 25_000


def test_builders_take_parameters_and_typed_tariffs() -> None:
    built = BUILDERS["GCS01a"].build(CTX, {"prices": (100, 200), "switches": ((0, 2),)})
    tariff = read_back(built)
    assert [e.price for m in tariff.price_matrix for e in m.entries] == [100, 200]
    assert BUILDERS["GCS01b"].build(CTX, {"tariff": read_back(gcs01b_payload(
        GasTariff(SIMPLE.tariff_information, SIMPLE.price_matrix)
    ))}) == gcs01b_payload(GasTariff(SIMPLE.tariff_information, SIMPLE.price_matrix))
    prices_only = read_back(BUILDERS["GCS01b"].build(CTX, {}))
    assert not prices_only.has_calendar
    assert BUILDERS["GCS01a"].critical and BUILDERS["GCS01b"].critical
    with pytest.raises(ConfigError, match="GasTariff"):
        BUILDERS["GCS01a"].build(CTX, {"tariff": "cheap"})
    with pytest.raises(ConfigError, match="sequences"):
        BUILDERS["GCS01b"].build(CTX, {"prices": 5})
