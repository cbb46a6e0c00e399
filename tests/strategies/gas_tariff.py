"""Hypothesis strategies for GSME tariffs (:class:`smemu.hil.commands_gas_tariff.GasTariff`)."""

from __future__ import annotations

from hypothesis import strategies as st

from smemu.hil.commands_gas_tariff import GasTariff
from smemu.protocols.zigbee.calendar import (
    PublishCalendar,
    PublishDayProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishWeekProfile,
)
from smemu.protocols.zigbee.price import (
    PublishBlockThresholds,
    PublishPriceMatrix,
    PublishTariffInformation,
)
from tests.strategies.zigbee import zcl_records


def _some(kind: type, most: int = 2) -> st.SearchStrategy[tuple[object, ...]]:
    return st.lists(zcl_records(kind), max_size=most).map(tuple)


@st.composite
def gas_tariffs(draw: st.DrawFn, *, calendar: bool | None = None) -> GasTariff:
    """Any tariff of typed Publish commands (``calendar``: force GCS01a / GCS01b shape)."""
    with_calendar = draw(st.booleans()) if calendar is None else calendar
    info = draw(zcl_records(PublishTariffInformation))
    matrix = draw(st.lists(zcl_records(PublishPriceMatrix), min_size=1, max_size=2).map(tuple))
    if not with_calendar:
        return GasTariff(info, matrix)
    return GasTariff(
        info,
        matrix,
        calendar=draw(zcl_records(PublishCalendar)),
        day_profiles=draw(_some(PublishDayProfile, 3)),
        week_profiles=draw(_some(PublishWeekProfile)),
        seasons=draw(_some(PublishSeasons, 1)),
        special_days=draw(_some(PublishSpecialDays, 1)),
        block_thresholds=draw(_some(PublishBlockThresholds, 1)),
    )
