"""The gas meter's tariff reads: calendars and the current price (GCS21b, GCS21f).

Layer: firmware. Use Case volume GCS21b (Read GSME Configuration Data Prepayment: the
non-disablement calendar) and GCS21f (Read GSME Tariff Data: the tariff switching table and
the active price); ZCL Calendar cluster Get Day Profiles / Get Week Profiles / Get Seasons /
Get Special Days (0x01-0x04, client to server) and Price cluster Get Current Price (0x00).

Theory of operation
-------------------
The calendars are the supplier's Publish... instructions as
:mod:`smemu.firmware.gas_tariff` stores them (``gsme/calendar/<issuer calendar id>/...``,
``gsme/calendar_of/<type>`` for the one in force). A read names the calendar by its issuer
calendar id, or 0xFFFFFFFF for the current tariff switching table (calendar type 0,
delivered) and 0xFFFFFFFE for the current non-disablement (friendly credit, type 3)
calendar. The answers are those Publish commands again, one component per day or week
profile, with the Issuer Event ID set to the current UTC time (the use case), each complete
in one command (Command Index 0 of 1). A calendar or part the meter does not hold is
answered NOT_FOUND.

Get Current Price answers Publish Price for the tier the TOU calendar selects now (GB local
time: special day, else the season's week profile, else the only week profile; the last
schedule entry at or before now), priced from the Price cluster's TierNBlock1Price
attribute, valid from now (start time 0) for the minutes until the next switch or local
midnight. Without a calendar or a price for the tier: NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from smemu.firmware import gas_tariff as tariff
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import ZclRefusedError, ZclReply, decode_request
from smemu.firmware.registers.calendar import DAY, civil_from_days, utc_offset, weekday
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import ZclDate
from smemu.protocols.zigbee.calendar import (
    GetDayProfiles,
    GetSeasons,
    GetSpecialDays,
    GetWeekProfiles,
    PublishDayProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishWeekProfile,
)
from smemu.protocols.zigbee.price import GetCurrentPrice, PublishPrice
from smemu.protocols.zigbee.zcl import ZclStatus

PRICE: Final = 0x0700
#: Issuer Calendar ID wildcards of the GBCS reads.
CURRENT_TARIFF_CALENDAR: Final = 0xFFFF_FFFF
CURRENT_FRIENDLY_CALENDAR: Final = 0xFFFF_FFFE
UNIT_M3: Final = 0x01
GBP: Final = 826
UNTIL_CHANGED: Final = 0xFFFF
_Y2K: Final = 946_684_800
_ANY: Final = 0xFF





def _now(tx: Tx) -> int:
    """``tx.now`` as ZCL UTCTime."""
    return int(tx.now.timestamp()) - _Y2K


def resolve(tx: Tx, issuer_calendar_id: int, calendar_type: int | None = None) -> int:
    """The issuer calendar id a read names (wildcards resolved); NOT_FOUND if not held."""
    if issuer_calendar_id in (CURRENT_TARIFF_CALENDAR, CURRENT_FRIENDLY_CALENDAR):
        if calendar_type is None:
            calendar_type = (
                tariff.TOU_DELIVERED
                if issuer_calendar_id == CURRENT_TARIFF_CALENDAR
                else tariff.FRIENDLY_CREDIT
            )
        ident = tariff.calendar_id(tx, calendar_type)
        if ident is None:
            raise ZclRefusedError(ZclStatus.NOT_FOUND, "no calendar of that type")
        return ident
    if not tx.keys(_prefix(issuer_calendar_id)):
        raise ZclRefusedError(ZclStatus.NOT_FOUND, f"no calendar {issuer_calendar_id:#x}")
    return issuer_calendar_id


def _prefix(calendar_id: int) -> str:
    return f"{tariff.CALENDAR_PREFIX}{calendar_id:08x}/"


def _numbered(tx: Tx, calendar_id: int, kind: str) -> dict[int, bytes]:
    """Stored ``day/<n>`` or ``week/<n>`` payloads of a calendar: n -> payload."""
    prefix = f"{_prefix(calendar_id)}{kind}/"
    out: dict[int, bytes] = {}
    for key in tx.keys(prefix):
        raw = tx.get(key)
        suffix = key[len(prefix) :]
        if raw is not None and suffix.isdigit():
            out[int(suffix)] = raw
    return out


def _chosen(stored: dict[int, bytes], start: int, count: int) -> list[bytes]:
    ids = [n for n in sorted(stored) if n >= start]
    return [stored[n] for n in (ids[:count] if count else ids)]


def _replies(command_id: int, payloads: Sequence[bytes]) -> ZclReply:
    if not payloads:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "nothing stored")
    first, *rest = (ZclReply(command_id, p) for p in payloads)
    return ZclReply(first.command_id, first.payload, more=tuple(rest))


def get_day_profiles(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """Calendar 0x01 Get Day Profiles: one Publish Day Profile per day profile asked."""
    request = decode_request(GetDayProfiles, comp)
    ident = resolve(tx, request.issuer_calendar_id)
    now = _now(tx)
    out: list[bytes] = []
    for raw in _chosen(
        _numbered(tx, ident, "day"), request.start_day_id, request.number_of_days
    ):
        day = PublishDayProfile.decode_exact(raw)
        out.append(
            PublishDayProfile(
                day.provider_id, now, day.issuer_calendar_id, day.day_id,
                len(day.entries), 0, 1, day.calendar_type, day.entries,
            ).encode()
        )  # fmt: skip
    return _replies(PublishDayProfile.COMMAND_ID, out)


def get_week_profiles(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """Calendar 0x02 Get Week Profiles: one Publish Week Profile per week profile asked."""
    request = decode_request(GetWeekProfiles, comp)
    ident = resolve(tx, request.issuer_calendar_id)
    now = _now(tx)
    out: list[bytes] = []
    for raw in _chosen(
        _numbered(tx, ident, "week"), request.start_week_id, request.number_of_weeks
    ):
        week = PublishWeekProfile.decode_exact(raw)
        out.append(
            PublishWeekProfile(
                week.provider_id, now, week.issuer_calendar_id, week.week_id, week.monday,
                week.tuesday, week.wednesday, week.thursday, week.friday, week.saturday,
                week.sunday,
            ).encode()
        )  # fmt: skip
    return _replies(PublishWeekProfile.COMMAND_ID, out)


def get_seasons(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """Calendar 0x03 Get Seasons: the calendar's seasons in one Publish Seasons."""
    request = decode_request(GetSeasons, comp)
    raw = tx.get(_prefix(resolve(tx, request.issuer_calendar_id)) + "seasons")
    if raw is None:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no seasons")
    seasons = PublishSeasons.decode_exact(raw)
    reply = PublishSeasons(
        seasons.provider_id, _now(tx), seasons.issuer_calendar_id, 0, 1, seasons.seasons
    )
    return ZclReply(reply.COMMAND_ID, reply.encode())


def get_special_days(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """Calendar 0x04 Get Special Days: the calendar's special days in one Publish Special
    Days (Number of Events 0: all of them)."""
    request = decode_request(GetSpecialDays, comp)
    ident = resolve(tx, request.issuer_calendar_id, int(request.calendar_type))
    raw = tx.get(_prefix(ident) + "special_days")
    if raw is None:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no special days")
    days = PublishSpecialDays.decode_exact(raw)
    chosen = days.special_days[: request.number_of_events or None]
    reply = PublishSpecialDays(
        days.provider_id, _now(tx), days.issuer_calendar_id, days.start_time,
        days.calendar_type, len(chosen), 0, 1, chosen,
    )  # fmt: skip
    return ZclReply(reply.COMMAND_ID, reply.encode())


# ----------------------------------------------------------------------- current price


def _matches(date: ZclDate, year: int, month: int, day: int) -> bool:
    return (
        date.year_offset in (_ANY, year - 1900)
        and date.month in (_ANY, month)
        and date.day in (_ANY, day)
    )


def _week_id(tx: Tx, ident: int, today: tuple[int, int, int]) -> int | None:
    """The week profile of the season in force on ``today`` (the latest season start on or
    before it; before the first start of the year, last year's last season)."""
    raw = tx.get(_prefix(ident) + "seasons")
    if raw is None:
        return None
    starts: list[tuple[tuple[int, int, int], int]] = []
    for entry in PublishSeasons.decode_exact(raw).seasons:
        date = entry.season_start_date
        year = today[0] if date.year_offset == _ANY else 1900 + date.year_offset
        starts.append(((year, date.month, date.day), entry.week_id))
    if not starts:
        return None
    starts.sort()
    before = [week for start, week in starts if start <= today]
    return before[-1] if before else starts[-1][1]


def day_profile_now(tx: Tx, calendar_type: int = tariff.TOU_DELIVERED) -> PublishDayProfile | None:
    """The day profile the calendar in force selects for the local day of ``tx.now``."""
    ident = tariff.calendar_id(tx, calendar_type)
    if ident is None:
        return None
    t = int(tx.now.timestamp())
    days = (t + utc_offset(t)) // DAY
    year, month, dom = civil_from_days(days)
    day_id: int | None = None
    special = tx.get(_prefix(ident) + "special_days")
    if special is not None:
        for entry in PublishSpecialDays.decode_exact(special).special_days:
            if _matches(entry.date, year, month, dom):
                day_id = entry.day_id
                break
    weeks = _numbered(tx, ident, "week")
    if day_id is None and weeks:
        week_id = _week_id(tx, ident, (year, month, dom))
        raw = weeks.get(week_id) if week_id is not None else None
        week = PublishWeekProfile.decode_exact(raw if raw is not None else weeks[min(weeks)])
        refs = (
            week.monday, week.tuesday, week.wednesday, week.thursday, week.friday,
            week.saturday, week.sunday,
        )  # fmt: skip
        day_id = refs[weekday(days)]
    profiles = _numbered(tx, ident, "day")
    if day_id is None and len(profiles) == 1:
        day_id = next(iter(profiles))
    raw_day = profiles.get(day_id) if day_id is not None else None
    return None if raw_day is None else PublishDayProfile.decode_exact(raw_day)


def current_tier(tx: Tx) -> tuple[int, int] | None:
    """(price tier in force, minutes it stays in force) from the TOU calendar, if any."""
    profile = day_profile_now(tx)
    if profile is None or not profile.entries:
        return None
    t = int(tx.now.timestamp())
    minute = (t + utc_offset(t)) % DAY // 60
    entries = sorted(profile.entries, key=lambda e: e.start_time)
    active = [e for e in entries if e.start_time <= minute]
    entry = active[-1] if active else entries[-1]
    later = [e.start_time for e in entries if e.start_time > minute]
    return entry.action, (later[0] if later else 1440) - minute


def get_current_price(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS21f (price 0x00 Get Current Price): Publish Price of the active tier."""
    decode_request(GetCurrentPrice, comp)
    tier_now = current_tier(tx)
    if tier_now is None:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, "no tariff switching table")
    tier, minutes = tier_now
    price = tariff.read_int(tx, PRICE, tariff.NO_TIER_BLOCK_1_PRICE + 0x10 * tier, -1)
    if price < 0 or not 1 <= tier <= 0x0F:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, f"no price for tier {tier}")
    info = tariff.tariff_information(tx)
    tiers = info.number_of_price_tiers_in_use if info is not None else len(tariff.prices(tx))
    digits = tariff.read_int(tx, PRICE, tariff.PRICE_TRAILING_DIGIT) >> 4
    now = _now(tx)
    reply = PublishPrice(
        provider_id=0,
        rate_label=b"",
        issuer_event_id=now,
        current_time=now,
        unit_of_measure=UNIT_M3,
        currency=tariff.read_int(tx, PRICE, tariff.CURRENCY, GBP),
        price_trailing_digit_and_tier=(digits & 0x0F) << 4 | tier,
        number_of_price_tiers_and_register_tier=min(0x0F, tiers) << 4 | tier,
        start_time=0,
        duration_in_minutes=min(UNTIL_CHANGED, minutes),
        price=price,
    )
    return ZclReply(reply.COMMAND_ID, reply.encode())


__all__ = [
    "CURRENT_FRIENDLY_CALENDAR",
    "CURRENT_TARIFF_CALENDAR",
    "current_tier",
    "day_profile_now",
    "get_current_price",
    "get_day_profiles",
    "get_seasons",
    "get_special_days",
    "get_week_profiles",
    "resolve",
]
