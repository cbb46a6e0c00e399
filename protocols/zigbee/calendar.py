"""Calendar cluster (0x0707) commands: calendars, day / week profiles, seasons, special days.

Protocol layer (sans-IO); ZigBee SE 1.4 Calendar cluster, as GBCS GCS01a (tariff calendar),
GCS05 (friendly-credit calendar) and GCS21b/f (reads) use it (GBCS ref. §10.2).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final

from smemu.protocols.zigbee._fields import (
    DATE,
    OCTETS,
    U8,
    U32,
    UTC,
    EnumField,
    Repeat,
    UInt,
    ZclRecord,
)
from smemu.protocols.zigbee.zcl import CLIENT_TO_SERVER, SERVER_TO_CLIENT, ZclCommand

__all__ = [
    "CALENDAR_CLUSTER",
    "CalendarType",
    "CancelCalendar",
    "DayScheduleEntry",
    "GetCalendar",
    "GetCalendarCancellation",
    "GetDayProfiles",
    "GetSeasons",
    "GetSpecialDays",
    "GetWeekProfiles",
    "PublishCalendar",
    "PublishDayProfile",
    "PublishSeasons",
    "PublishSpecialDays",
    "PublishWeekProfile",
    "SeasonEntry",
    "SpecialDayEntry",
]

CALENDAR_CLUSTER: Final = 0x0707


class CalendarType(enum.IntEnum):
    """Calendar type."""

    DELIVERED = 0x00
    RECEIVED = 0x01
    DELIVERED_AND_RECEIVED = 0x02
    FRIENDLY_CREDIT = 0x03
    AUXILIARY_LOAD_SWITCH = 0x04


class _Minutes(UInt):
    """Minutes after midnight (uint16), rendered HH:MM."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(2)

    def render(self, value: Any) -> Any:
        return f"{value // 60:02d}:{value % 60:02d}"


_CALENDAR_TYPE = Annotated[int, EnumField(CalendarType)]


class _ToServer(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = CALENDAR_CLUSTER
    DIRECTION: ClassVar[int | None] = CLIENT_TO_SERVER


class _ToClient(ZclCommand):
    __slots__ = ()
    CLUSTER_ID: ClassVar[int | None] = CALENDAR_CLUSTER
    DIRECTION: ClassVar[int | None] = SERVER_TO_CLIENT


# ------------------------------------------------------------------ client -> server


@dataclass(frozen=True, slots=True)
class GetCalendar(_ToServer):
    """Get Calendar (0x00)."""

    COMMAND_ID: ClassVar[int] = 0x00

    earliest_start_time: UTC
    min_issuer_event_id: U32
    number_of_calendars: U8
    calendar_type: _CALENDAR_TYPE
    provider_id: U32


@dataclass(frozen=True, slots=True)
class GetDayProfiles(_ToServer):
    """Get Day Profiles (0x01); GCS21b/f (calendar id 0xFFFFFFFF = current)."""

    COMMAND_ID: ClassVar[int] = 0x01

    provider_id: U32
    issuer_calendar_id: U32
    start_day_id: U8
    #: 0 = all.
    number_of_days: U8


@dataclass(frozen=True, slots=True)
class GetWeekProfiles(_ToServer):
    """Get Week Profiles (0x02)."""

    COMMAND_ID: ClassVar[int] = 0x02

    provider_id: U32
    issuer_calendar_id: U32
    start_week_id: U8
    number_of_weeks: U8


@dataclass(frozen=True, slots=True)
class GetSeasons(_ToServer):
    """Get Seasons (0x03)."""

    COMMAND_ID: ClassVar[int] = 0x03

    provider_id: U32
    issuer_calendar_id: U32


@dataclass(frozen=True, slots=True)
class GetSpecialDays(_ToServer):
    """Get Special Days (0x04)."""

    COMMAND_ID: ClassVar[int] = 0x04

    start_time: UTC
    number_of_events: U8
    calendar_type: _CALENDAR_TYPE
    provider_id: U32
    issuer_calendar_id: U32


@dataclass(frozen=True, slots=True)
class GetCalendarCancellation(_ToServer):
    """Get Calendar Cancellation (0x05): no payload."""

    COMMAND_ID: ClassVar[int] = 0x05


# ------------------------------------------------------------------ server -> client


@dataclass(frozen=True, slots=True)
class PublishCalendar(_ToClient):
    """Publish Calendar (0x00); GCS01a, GCS05."""

    COMMAND_ID: ClassVar[int] = 0x00

    provider_id: U32
    issuer_event_id: U32
    issuer_calendar_id: U32
    start_time: UTC
    calendar_type: _CALENDAR_TYPE
    #: 0 standard time, 1 local time.
    calendar_time_reference: U8
    calendar_name: OCTETS
    number_of_seasons: U8
    number_of_week_profiles: U8
    number_of_day_profiles: U8


@dataclass(frozen=True, slots=True)
class DayScheduleEntry(ZclRecord):
    """Day schedule entry: start (minutes after midnight) and the action.

    The action is the price tier (tariff calendars), the friendly-credit enable (friendly
    credit calendar) or the auxiliary switch state, by the calendar type.
    """

    start_time: Annotated[int, _Minutes()]
    action: U8


@dataclass(frozen=True, slots=True)
class PublishDayProfile(_ToClient):
    """Publish Day Profile (0x01)."""

    COMMAND_ID: ClassVar[int] = 0x01

    provider_id: U32
    issuer_event_id: U32
    issuer_calendar_id: U32
    day_id: U8
    total_number_of_schedule_entries: U8
    command_index: U8
    total_number_of_commands: U8
    calendar_type: _CALENDAR_TYPE
    entries: Annotated[tuple[DayScheduleEntry, ...], Repeat(DayScheduleEntry)]


@dataclass(frozen=True, slots=True)
class PublishWeekProfile(_ToClient):
    """Publish Week Profile (0x02): the day profile of each weekday, Monday first."""

    COMMAND_ID: ClassVar[int] = 0x02

    provider_id: U32
    issuer_event_id: U32
    issuer_calendar_id: U32
    week_id: U8
    monday: U8
    tuesday: U8
    wednesday: U8
    thursday: U8
    friday: U8
    saturday: U8
    sunday: U8


@dataclass(frozen=True, slots=True)
class SeasonEntry(ZclRecord):
    """Season start date and its week profile."""

    season_start_date: DATE
    week_id: U8


@dataclass(frozen=True, slots=True)
class PublishSeasons(_ToClient):
    """Publish Seasons (0x03)."""

    COMMAND_ID: ClassVar[int] = 0x03

    provider_id: U32
    issuer_event_id: U32
    issuer_calendar_id: U32
    command_index: U8
    total_number_of_commands: U8
    seasons: Annotated[tuple[SeasonEntry, ...], Repeat(SeasonEntry)]


@dataclass(frozen=True, slots=True)
class SpecialDayEntry(ZclRecord):
    """Special day date and its day profile."""

    date: DATE
    day_id: U8


@dataclass(frozen=True, slots=True)
class PublishSpecialDays(_ToClient):
    """Publish Special Days (0x04)."""

    COMMAND_ID: ClassVar[int] = 0x04

    provider_id: U32
    issuer_event_id: U32
    issuer_calendar_id: U32
    start_time: UTC
    calendar_type: _CALENDAR_TYPE
    total_number_of_special_days: U8
    command_index: U8
    total_number_of_commands: U8
    special_days: Annotated[tuple[SpecialDayEntry, ...], Repeat(SpecialDayEntry)]


@dataclass(frozen=True, slots=True)
class CancelCalendar(_ToClient):
    """Cancel Calendar (0x05)."""

    COMMAND_ID: ClassVar[int] = 0x05

    provider_id: U32
    issuer_calendar_id: U32
    calendar_type: _CALENDAR_TYPE
