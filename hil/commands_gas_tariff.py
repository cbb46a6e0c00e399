"""GSME tariff commands from typed ZCL values: GCS01a Set Tariff and Price, GCS01b Set Price.

Layer: hil. The Use Case volume's GCS01a template is a GBZ payload of ZigBee SE Publish
commands, server to client, in this order: Publish Calendar, Publish Day Profile (one per
day profile), Publish Week Profile (one per week), Publish Seasons, Publish Special Days
(Calendar cluster 0x0707), Publish Tariff Information, Publish Block Thresholds (a block
tariff), Publish Price Matrix (Price cluster 0x0700). GCS01b carries only the last part: Publish
Tariff Information and Publish Price Matrix. The ZCL transaction sequence numbers start at
0 and count up through the payload; only the last component has the extended header's
"last" bit; every start time sits in the ZCL commands (0 now, 0xFFFFFFFF cancel), never in
a From Date Time extended header.

A tariff is a :class:`GasTariff`: the typed Publish commands themselves
(:mod:`smemu.protocols.zigbee.calendar`, :mod:`smemu.protocols.zigbee.price`).
:func:`gcs01a_payload` / :func:`gcs01b_payload` write them; :func:`read_back` turns a payload
back into a :class:`GasTariff` through our own decoders, so "what was sent is what was meant"
is one comparison. :meth:`GasTariff.simple` makes a time-of-use tariff from switching points
and prices, as the ESME's ECS01a builder does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

from smemu.errors import ConfigError, DecodeError
from smemu.protocols.zigbee._fields import ZclDate
from smemu.protocols.zigbee.calendar import (
    CalendarType,
    DayScheduleEntry,
    PublishCalendar,
    PublishDayProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishWeekProfile,
    SeasonEntry,
)
from smemu.protocols.zigbee.price import (
    PriceMatrixEntry,
    PublishBlockThresholds,
    PublishPriceMatrix,
    PublishTariffInformation,
)
from smemu.protocols.zigbee.typed import GbzPayload, ZclComponent, decode_typed
from smemu.protocols.zigbee.zcl import ZclCommand

_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
#: Issuer Tariff ID / Issuer Calendar ID meaning "the tariff switching table" (template)
TARIFF_SWITCHING_TABLE: Final = 1
#: Tariff Type / Charging Scheme: high nibble 0 TOU, 1 block; low nibble 0 delivered
TOU_TARIFF: Final = 0x00
BLOCK_TARIFF: Final = 0x10
GBP: Final = 826  #: ISO 4217 currency code of pounds sterling
#: price trailing digit octet: five decimal places (prices in 10^-5 currency units)
FIVE_DECIMALS: Final = 0x50
KWH: Final = 0  #: unit of measure: kWh
#: Price Matrix / Block Thresholds sub-payload control bit 0: TOU entries (tier ids)
TOU_ENTRIES: Final = 0x01

#: Every Publish command a GCS01a carries, in template order.
TariffCommand = (
    PublishCalendar
    | PublishDayProfile
    | PublishWeekProfile
    | PublishSeasons
    | PublishSpecialDays
    | PublishTariffInformation
    | PublishBlockThresholds
    | PublishPriceMatrix
)


@dataclass(frozen=True, slots=True)
class GasTariff:
    """A GSME tariff as GCS01a / GCS01b carry it: the typed Publish commands by kind.

    The calendar part (``calendar`` to ``special_days``) is GCS01a's only; a GCS01b tariff
    leaves it empty. Prices scale by the tariff information's price trailing digit.
    """

    tariff_information: PublishTariffInformation
    price_matrix: tuple[PublishPriceMatrix, ...]
    calendar: PublishCalendar | None = None
    day_profiles: tuple[PublishDayProfile, ...] = ()
    week_profiles: tuple[PublishWeekProfile, ...] = ()
    seasons: tuple[PublishSeasons, ...] = ()
    special_days: tuple[PublishSpecialDays, ...] = ()
    block_thresholds: tuple[PublishBlockThresholds, ...] = ()

    @property
    def has_calendar(self) -> bool:
        """Whether any calendar part is present (a GCS01a tariff)."""
        return bool(
            self.calendar is not None
            or self.day_profiles
            or self.week_profiles
            or self.seasons
            or self.special_days
        )

    def commands(self) -> tuple[ZclCommand, ...]:
        """The Publish commands in template order."""
        head: tuple[ZclCommand, ...] = () if self.calendar is None else (self.calendar,)
        return (
            *head,
            *self.day_profiles,
            *self.week_profiles,
            *self.seasons,
            *self.special_days,
            self.tariff_information,
            *self.block_thresholds,
            *self.price_matrix,
        )

    @classmethod
    def from_commands(cls, commands: tuple[ZclCommand | None, ...]) -> GasTariff:
        """Group Publish commands (in template order) into a tariff.

        :raises ConfigError: a command that is not a tariff Publish command, out of order, a
            second calendar or tariff information, or no tariff information.
        """
        rank = {kind: i for i, kind in enumerate(_ORDER)}
        parts: dict[type, list[ZclCommand]] = {kind: [] for kind in _ORDER}
        last = -1
        for command in commands:
            kind = type(command)
            if kind not in rank:
                raise ConfigError(f"GCS01: {kind.__name__} is not a tariff Publish command")
            if rank[kind] < last:
                raise ConfigError(f"GCS01: {kind.__name__} out of the template's order")
            last = rank[kind]
            assert command is not None
            parts[kind].append(command)
        calendars = parts[PublishCalendar]
        infos = parts[PublishTariffInformation]
        if len(calendars) > 1 or len(infos) != 1:
            raise ConfigError("GCS01: one tariff information (and at most one calendar) needed")
        info = infos[0]
        assert isinstance(info, PublishTariffInformation)
        return cls(
            info,
            _typed(parts[PublishPriceMatrix], PublishPriceMatrix),
            calendar=_typed(calendars, PublishCalendar)[0] if calendars else None,
            day_profiles=_typed(parts[PublishDayProfile], PublishDayProfile),
            week_profiles=_typed(parts[PublishWeekProfile], PublishWeekProfile),
            seasons=_typed(parts[PublishSeasons], PublishSeasons),
            special_days=_typed(parts[PublishSpecialDays], PublishSpecialDays),
            block_thresholds=_typed(parts[PublishBlockThresholds], PublishBlockThresholds),
        )

    @classmethod
    def simple(
        cls,
        switches: tuple[tuple[int, int], ...],
        prices: tuple[int, ...],
        *,
        standing: int = 0,
        issued: datetime | None = None,
        start_time: int = 0,
    ) -> GasTariff:
        """A time-of-use tariff: one day profile every day of the year, prices per tier.

        :param switches: ``(minute of the day, tier)`` switching points, first at 00:00.
        :param prices: price of tiers 1, 2, ... in 10^-5 GBP per kWh.
        :param standing: standing charge, 10^-5 GBP per day.
        :param issued: the Issuer Event ID's instant (template: the current UTC time).
        :param start_time: ZCL start time of every dated command (0 now, 0xFFFFFFFF cancel).
        :raises ConfigError: no switching point at midnight, a tier without a price, or more
            than the 48 tiers a ZCL price matrix holds.
        """
        if not switches or switches[0][0] != 0:
            raise ConfigError("GCS01a: the first switching point must be 00:00")
        if not prices or len(prices) > 48:
            raise ConfigError("GCS01a: 1 to 48 TOU prices")
        if any(not 1 <= tier <= len(prices) for _, tier in switches):
            raise ConfigError(f"GCS01a: switching to a tier beyond the {len(prices)} priced")
        event = issuer_event_id(issued or datetime.now(UTC))
        ident = (0, event, event)  # provider, issuer event, issuer calendar (template)
        delivered = CalendarType.DELIVERED
        entries = tuple(DayScheduleEntry(minute, tier) for minute, tier in switches)
        info = PublishTariffInformation(
            0, event, TARIFF_SWITCHING_TABLE, start_time, TOU_TARIFF, b"", len(prices), 0,
            KWH, GBP, FIVE_DECIMALS, standing, 0xFF, 1, 1000,
        )  # fmt: skip
        matrix = PublishPriceMatrix(
            0, event, start_time, TARIFF_SWITCHING_TABLE, 0, 1, TOU_ENTRIES,
            tuple(PriceMatrixEntry(tier, price) for tier, price in enumerate(prices, 1)),
        )  # fmt: skip
        return cls(
            info,
            (matrix,),
            calendar=PublishCalendar(*ident, start_time, delivered, 0, b"", 1, 1, 1),
            day_profiles=(PublishDayProfile(*ident, 1, len(entries), 0, 1, delivered, entries),),
            week_profiles=(PublishWeekProfile(*ident, 1, 1, 1, 1, 1, 1, 1, 1),),
            seasons=(PublishSeasons(*ident, 0, 1, (SeasonEntry(ZclDate(0xFF, 1, 1, 0xFF), 1),)),),
            special_days=(PublishSpecialDays(*ident, start_time, delivered, 0, 0, 1, ()),),
        )


_ORDER: Final = (
    PublishCalendar,
    PublishDayProfile,
    PublishWeekProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishTariffInformation,
    PublishBlockThresholds,
    PublishPriceMatrix,
)


_T = TypeVar("_T")


def _typed(items: list[ZclCommand], kind: type[_T]) -> tuple[_T, ...]:
    return tuple(item for item in items if isinstance(item, kind))


def issuer_event_id(moment: datetime) -> int:
    """The Issuer Event ID of a command issued at ``moment``: UTC seconds since 2000."""
    return int((moment.astimezone(UTC) - _EPOCH_2000).total_seconds())


def publish_payload(commands: tuple[ZclCommand, ...]) -> bytes:
    """A GBZ payload of ``commands``: sequence numbers 0, 1, ...; the last one marked."""
    if not commands:
        raise ConfigError("a GBZ payload needs at least one command")
    last = len(commands) - 1
    components = tuple(
        ZclComponent.build(command, i, last=i == last) for i, command in enumerate(commands)
    )
    return GbzPayload(components).encode()


def gcs01a_payload(tariff: GasTariff) -> bytes:
    """GCS01a Set Tariff and Price on GSME: calendar, tariff information, thresholds, prices.

    :raises ConfigError: the tariff has no calendar (that is GCS01b's).
    """
    if tariff.calendar is None:
        raise ConfigError("GCS01a: the tariff needs its Publish Calendar")
    return publish_payload(tariff.commands())


def gcs01b_payload(tariff: GasTariff) -> bytes:
    """GCS01b Set Price on GSME: Publish Tariff Information, then Publish Price Matrix.

    :raises ConfigError: the tariff carries a calendar or block thresholds (GCS01a's).
    """
    if tariff.has_calendar or tariff.block_thresholds:
        raise ConfigError("GCS01b: prices only (no calendar, no block thresholds)")
    return publish_payload(tariff.commands())


def tariff_param(
    use_case: str,
    params: Mapping[str, object],
    default: tuple[tuple[tuple[int, int], ...], tuple[int, ...]],
) -> GasTariff:
    """The tariff of a GCS01a / GCS01b builder's parameters: ``tariff`` (a :class:`GasTariff`),
    else a TOU tariff of ``switches`` / ``prices`` / ``standing`` (``default``: the switches
    and prices when not given); GCS01b keeps its prices only.

    :raises ConfigError: a parameter of the wrong type.
    """
    tariff = params.get("tariff")
    if tariff is None:
        switches = params.get("switches", default[0])
        prices = params.get("prices", default[1])
        standing = params.get("standing", 0)
        if not isinstance(switches, tuple) or not isinstance(prices, tuple):
            raise ConfigError(f"{use_case}: switches and prices must be sequences")
        if not isinstance(standing, int):
            raise ConfigError(f"{use_case}: standing must be an integer")
        tariff = GasTariff.simple(switches, prices, standing=standing)
        if use_case == "GCS01b":
            tariff = GasTariff(tariff.tariff_information, tariff.price_matrix)
    if not isinstance(tariff, GasTariff):
        raise ConfigError(f"{use_case}: tariff must be a GasTariff")
    return tariff


def read_back(payload: bytes) -> GasTariff:
    """The tariff a GCS01a / GCS01b payload carries (decoded with our GBZ decoders).

    :raises DecodeError: not a GBZ payload of tariff Publish commands.
    """
    decoded = decode_typed(payload, alert=False)
    try:
        return GasTariff.from_commands(tuple(c.command for c in decoded.components))
    except ConfigError as exc:
        raise DecodeError(str(exc), path="gbz.components", offset=0) from None


__all__ = [
    "BLOCK_TARIFF",
    "TOU_TARIFF",
    "GasTariff",
    "TariffCommand",
    "gcs01a_payload",
    "gcs01b_payload",
    "issuer_event_id",
    "publish_payload",
    "read_back",
    "tariff_param",
]
