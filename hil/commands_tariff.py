"""ESME tariff commands from typed values: ECS01a Set Tariff and Price, ECS24 Read Tariff Data.

Layer: hil. The tariff a head-end sets is a :class:`TariffSettings`: the DLMS views of
:mod:`smemu.protocols.dlms.cosem` (season, week and day profiles of the Tariff Switching
Table, special days, the TOU / block price matrix and the standing charge as ``unit_charge``)
plus the block thresholds and the currency flag. :func:`ecs01a_items` writes them in the
order of gbcs-reference.md 10.1 (the *passive* attributes, then every activation date-time);
:data:`ECS24_READS` is the 17-get request of ECS24 and :func:`read_back` turns its answer
into the same typed form, so "the tariff read back equals what was set" is one comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from smemu.errors import ConfigError
from smemu.protocols.dlms.apdu import AccessRequestGet, AccessRequestSet, parse_obis
from smemu.protocols.dlms.axdr import (
    Array,
    Boolean,
    Data,
    DoubleLongUnsigned,
    NullData,
    OctetString,
)
from smemu.protocols.dlms.cosem import (
    ChargeTableEntry,
    DayProfile,
    DayScheduleAction,
    SeasonProfile,
    SpecialDay,
    UnitCharge,
    ViewMismatchError,
    WeekProfile,
)

_CALENDAR: Final = parse_obis("0-0:13.0.0.255")  #: Tariff Switching Table (IC 20)
_SPECIAL_PASSIVE: Final = parse_obis("0-1:11.0.0.255")
_SPECIAL_ACTIVE: Final = parse_obis("0-0:11.0.0.255")
_THRESHOLDS_PASSIVE: Final = tuple(parse_obis(f"0-0:16.1.{11 + i}.255") for i in range(8))
_THRESHOLDS_ACTIVE: Final = tuple(parse_obis(f"0-0:16.0.{11 + i}.255") for i in range(8))
_CURRENCY: Final = parse_obis("0-0:94.44.2.0")
_STANDING: Final = parse_obis("0-0:19.20.4.255")
_PRICES: Final = parse_obis("0-0:19.20.0.255")
_SPECIAL_ACTIVATION: Final = parse_obis("0-0:94.44.128.29")
_THRESHOLD_ACTIVATION: Final = parse_obis("0-0:63.1.1.255")
_ACTIVE_PRICE: Final = parse_obis("0-0:94.44.1.7")
#: script table the day schedules name (reference 10.1: the tariff script table)
TARIFF_SCRIPT: Final = parse_obis("0-0:10.0.100.255")
#: the active import register the price matrix is per (commodity reference)
_IMPORT_REGISTER: Final = parse_obis("1-0:1.8.0.255")
#: activation date-time "now" (reference 7.4: all-zero date and time, deviation unspecified)
ACTIVATE_NOW: Final = bytes(9) + b"\x80\x00\xff"
#: price matrix entries: 48 TOU rates, then blocks 1-4 of sets 1-8 (reference 10.1)
_MATRIX_INDEXES: Final = tuple(range(1, 49)) + tuple(
    (block << 4) | n for block in (0xA, 0xB, 0xC, 0xD) for n in range(1, 9)
)
_UNUSED_THRESHOLD: Final = 0xFFFFFFFF

Set = tuple[AccessRequestSet, Data]


@dataclass(frozen=True, slots=True)
class TariffSettings:
    """A whole ESME tariff as ECS01a carries it (money in 10^-5 currency units)."""

    seasons: tuple[SeasonProfile, ...]
    weeks: tuple[WeekProfile, ...]
    days: tuple[DayProfile, ...]
    special_days: tuple[SpecialDay, ...]
    #: per TOU-block register 1..8, its thresholds as sent (0xFFFFFFFF: unused)
    thresholds: tuple[tuple[int, ...], ...]
    currency: int  #: the Currency Unit boolean octet (RTDS: 0xFF)
    standing_charge: UnitCharge
    prices: UnitCharge
    activation: bytes = ACTIVATE_NOW  #: every activation date-time of the command

    @classmethod
    def simple(
        cls,
        switches: tuple[tuple[int, int], ...],
        tou_prices: tuple[int, ...],
        *,
        standing: int = 0,
        activation: bytes = ACTIVATE_NOW,
    ) -> TariffSettings:
        """One season, one week, one day profile used every day.

        :param switches: (minute of the day, TOU rate 1..48) switching points.
        :param tou_prices: price of TOU rate 1, 2, ... (10^-5 currency units per kWh).
        :raises ConfigError: no switch, a rate outside 1..48 or without a price, a minute
            outside the day, more than 48 prices.
        """
        if not switches:
            raise ConfigError("a tariff needs at least one switching point")
        if len(tou_prices) > 48:
            raise ConfigError("at most 48 TOU prices")
        for minute, rate in switches:
            if not 0 <= minute < 1440:
                raise ConfigError(f"switching minute {minute} is outside the day")
            if not 1 <= rate <= max(1, len(tou_prices)):
                raise ConfigError(f"TOU rate {rate} has no price")
        actions = tuple(
            DayScheduleAction(bytes((m // 60, m % 60, 0, 0)), TARIFF_SCRIPT, rate)
            for m, rate in sorted(switches)
        )
        prices = dict(enumerate(tou_prices, start=1))
        return cls(
            seasons=(SeasonProfile(b"all", bytes.fromhex("07E90101FF000000008000FF"), b"\x01"),),
            weeks=(WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 1)),),
            days=(DayProfile(1, actions),),
            special_days=(),
            thresholds=((_UNUSED_THRESHOLD,),) * 8,
            currency=0xFF,
            standing_charge=UnitCharge(
                0, -5, 0, bytes(6), 0, (ChargeTableEntry(b"", standing),)
            ),
            prices=UnitCharge(
                3,
                -5,
                3,
                _IMPORT_REGISTER,
                2,
                tuple(ChargeTableEntry(bytes((i,)), prices.get(i, 0)) for i in _MATRIX_INDEXES),
            ),
            activation=activation,
        )

    def tou_prices(self) -> dict[int, int]:
        """TOU rate -> price, for the rates with a non-zero price."""
        return {
            e.index[0]: e.charge
            for e in self.prices.entries
            if len(e.index) == 1 and 1 <= e.index[0] <= 48 and e.charge
        }

    def content(self) -> TariffSettings:
        """The settings without their activation date-time (what a read shows)."""
        return replace(self, activation=ACTIVATE_NOW)


def _set(class_id: int, obis: bytes, attribute: int, value: Data) -> Set:
    return AccessRequestSet(class_id, obis, attribute), value


def ecs01a_items(tariff: TariffSettings) -> list[Set]:
    """The 21 set instructions of ECS01a, in the reference order (gbcs-reference.md 10.1)."""
    when = OctetString(tariff.activation)
    thresholds = [
        _set(21, obis, 2, Array(tuple(DoubleLongUnsigned(v) for v in values)))
        for obis, values in zip(_THRESHOLDS_PASSIVE, tariff.thresholds, strict=True)
    ]
    return [
        _set(20, _CALENDAR, 7, Array(tuple(s.to_data() for s in tariff.seasons))),
        _set(20, _CALENDAR, 8, Array(tuple(w.to_data() for w in tariff.weeks))),
        _set(20, _CALENDAR, 9, Array(tuple(d.to_data() for d in tariff.days))),
        _set(11, _SPECIAL_PASSIVE, 2, Array(tuple(d.to_data() for d in tariff.special_days))),
        *thresholds,
        _set(9000, _CURRENCY, 4, Boolean(tariff.currency)),
        _set(113, _STANDING, 6, tariff.standing_charge.to_data()),
        _set(113, _PRICES, 6, tariff.prices.to_data()),
        _set(20, _CALENDAR, 10, when),
        _set(9000, _SPECIAL_ACTIVATION, 6, when),
        _set(9000, _CURRENCY, 6, when),
        _set(113, _STANDING, 7, when),
        _set(113, _PRICES, 7, when),
        _set(9000, _THRESHOLD_ACTIVATION, 6, when),
    ]


#: ECS24's 17 reads (class, OBIS, attribute), in the reference order (gbcs-reference.md 10.1).
ECS24_READS: Final[tuple[tuple[int, bytes, int], ...]] = (
    (3, _ACTIVE_PRICE, 2),
    (3, _ACTIVE_PRICE, 3),
    (20, _CALENDAR, 3),
    (20, _CALENDAR, 4),
    (20, _CALENDAR, 5),
    (11, _SPECIAL_ACTIVE, 2),
    *((21, obis, 2) for obis in _THRESHOLDS_ACTIVE),
    (9000, _CURRENCY, 2),
    (113, _STANDING, 5),
    (113, _PRICES, 5),
)


def ecs24_items() -> list[tuple[AccessRequestGet, Data]]:
    """The get instructions of ECS24."""
    return [(AccessRequestGet(c, o, a), NullData()) for c, o, a in ECS24_READS]


def _array(value: Data, what: str) -> tuple[Data, ...]:
    if not isinstance(value, Array):
        raise ViewMismatchError(f"ECS24 {what}: expected array, got {type(value).__name__}")
    return value.items


def read_back(values: tuple[Data, ...]) -> TariffSettings:
    """The active tariff an ECS24 response's 17 values describe (activation: "now").

    :raises ViewMismatchError: a value does not have its expected shape (a failed read
        arrives as no value, so the count no longer matches either).
    """
    if len(values) != len(ECS24_READS):
        raise ViewMismatchError(f"ECS24: expected {len(ECS24_READS)} values, got {len(values)}")
    currency = values[14]
    if not isinstance(currency, Boolean):
        raise ViewMismatchError("ECS24 currency: expected boolean")
    thresholds = []
    for value in values[6:14]:
        numbers = []
        for item in _array(value, "thresholds"):
            if not isinstance(item, DoubleLongUnsigned):
                raise ViewMismatchError("ECS24 thresholds: expected double-long-unsigned")
            numbers.append(item.value)
        thresholds.append(tuple(numbers))
    return TariffSettings(
        seasons=tuple(SeasonProfile.from_data(v) for v in _array(values[2], "seasons")),
        weeks=tuple(WeekProfile.from_data(v) for v in _array(values[3], "weeks")),
        days=tuple(DayProfile.from_data(v) for v in _array(values[4], "days")),
        special_days=tuple(SpecialDay.from_data(v) for v in _array(values[5], "special days")),
        thresholds=tuple(thresholds),
        currency=currency.raw,
        standing_charge=UnitCharge.from_data(values[15]),
        prices=UnitCharge.from_data(values[16]),
    )


def from_ecs01a(values: tuple[Data, ...]) -> TariffSettings:
    """The settings an ECS01a request's 21 values carry (the inverse of :func:`ecs01a_items`).

    :raises ViewMismatchError: a value does not have its expected shape.
    """
    if len(values) != 21:
        raise ViewMismatchError(f"ECS01a: expected 21 values, got {len(values)}")
    currency, activation = values[12], values[15]
    if not isinstance(currency, Boolean) or not isinstance(activation, OctetString):
        raise ViewMismatchError("ECS01a: currency boolean / activation date-time expected")
    thresholds = tuple(
        tuple(i.value for i in _array(v, "thresholds") if isinstance(i, DoubleLongUnsigned))
        for v in values[4:12]
    )
    return TariffSettings(
        seasons=tuple(SeasonProfile.from_data(v) for v in _array(values[0], "seasons")),
        weeks=tuple(WeekProfile.from_data(v) for v in _array(values[1], "weeks")),
        days=tuple(DayProfile.from_data(v) for v in _array(values[2], "days")),
        special_days=tuple(SpecialDay.from_data(v) for v in _array(values[3], "special days")),
        thresholds=thresholds,
        currency=currency.raw,
        standing_charge=UnitCharge.from_data(values[13]),
        prices=UnitCharge.from_data(values[14]),
        activation=activation.value,
    )


def parse_switches(text: str) -> tuple[tuple[int, int], ...]:
    """``"00:00=1,07:00=2,23:00=1"`` -> ((0, 1), (420, 2), (1380, 1)).

    :raises ConfigError: an entry that is not ``HH:MM=rate``.
    """
    out = []
    for part in text.split(","):
        when, _, rate = part.strip().partition("=")
        hours, _, minutes = when.partition(":")
        try:
            out.append((int(hours) * 60 + int(minutes), int(rate)))
        except ValueError:
            raise ConfigError(f"switching point {part!r}: expected HH:MM=rate") from None
    return tuple(out)
