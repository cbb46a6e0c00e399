"""gas_tariff_reads: calendars and the current price read back (GCS21b, GCS21f)."""

from __future__ import annotations

from datetime import UTC, datetime

from smemu.firmware import gas_handlers as gh
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import serve
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import ZclDate, ZclRecord
from smemu.protocols.zigbee.calendar import (
    DayScheduleEntry,
    GetDayProfiles,
    GetSeasons,
    GetSpecialDays,
    GetWeekProfiles,
    PublishCalendar,
    PublishDayProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishWeekProfile,
    SeasonEntry,
    SpecialDayEntry,
)
from smemu.protocols.zigbee.price import (
    GetCurrentPrice,
    PriceMatrixEntry,
    PublishPrice,
    PublishPriceMatrix,
)
from smemu.protocols.zigbee.zcl import ZclStatus

NOW = datetime(2024, 12, 24, 18, 10, tzinfo=UTC)  # Tuesday; GMT
CAL = 0x1234
TO_CLIENT = 0x09  # cluster specific, server to client (a Publish instruction)
TO_SERVER = 0x01


def _frame(cluster: int, fc: int, command: ZclRecord, cmd: int) -> gbz.GbzComponent:
    return gbz.GbzComponent(0, cluster, fc, 0, cmd, command.encode())


def _serve(tx: Tx, *comps: gbz.GbzComponent) -> list[gbz.GbzComponent]:
    message = gbz.GbzMessage(comps)
    return list(serve(tx, message, gh.STORE, gh.HANDLERS).components)


def _install(tx: Tx) -> None:
    days = {
        1: ((0, 1), (16 * 60, 2), (19 * 60, 1)),  # weekday: tier 2 from 16:00 to 19:00
        2: ((0, 3),),  # weekend
        3: ((0, 4),),  # Christmas
    }
    publishes = [
        (0x0707, PublishCalendar(0, 1, CAL, 0, 0, 1, b"tou", 1, 1, len(days)), 0x00),
        *(
            (
                0x0707,
                PublishDayProfile(
                    0, 1, CAL, n, len(e), 0, 1, 0, tuple(DayScheduleEntry(*x) for x in e)
                ),
                0x01,
            )
            for n, e in days.items()
        ),
        (0x0707, PublishWeekProfile(0, 1, CAL, 1, 1, 1, 1, 1, 1, 2, 2), 0x02),
        (0x0707, PublishSeasons(0, 1, CAL, 0, 1, (SeasonEntry(ZclDate(0xFF, 1, 1, 0xFF), 1),)), 3),
        (
            0x0707,
            PublishSpecialDays(
                0, 1, CAL, 0, 0, 1, 0, 1, (SpecialDayEntry(ZclDate(0xFF, 12, 25, 0xFF), 3),)
            ),
            0x04,
        ),
        (
            0x0700,
            PublishPriceMatrix(
                0, 1, 0, 7, 0, 1, 1, tuple(PriceMatrixEntry(t, 1000 * t) for t in (1, 2, 3, 4))
            ),
            0x05,
        ),
    ]
    replies = _serve(tx, *(_frame(c, TO_CLIENT, m, i) for c, m, i in publishes))
    assert all(r.payload[-1] == ZclStatus.SUCCESS for r in replies)


def test_get_day_profiles_answers_one_component_per_profile() -> None:
    tx = Tx(NOW, {})
    _install(tx)
    ask = GetDayProfiles(0, 0xFFFF_FFFF, 1, 0)
    week = GetWeekProfiles(0, 0xFFFF_FFFF, 1, 0)
    out = _serve(tx, _frame(0x0707, TO_SERVER, ask, 1), _frame(0x0707, TO_SERVER, week, 2))
    assert [(c.command_id, c.sequence) for c in out] == [(1, 0)] * 3 + [(2, 0)]
    assert [c.control & gbz.CONTROL_LAST for c in out] == [0, 0, 0, gbz.CONTROL_LAST]
    profiles = [PublishDayProfile.decode_exact(c.payload) for c in out[:3]]
    assert [p.day_id for p in profiles] == [1, 2, 3]
    now = int(NOW.timestamp()) - 946_684_800
    assert {p.issuer_event_id for p in profiles} == {now}
    assert [e.action for e in profiles[0].entries] == [1, 2, 1]
    # start at day 2, one day
    (one,) = _serve(tx, _frame(0x0707, TO_SERVER, GetDayProfiles(0, CAL, 2, 1), 1))
    assert PublishDayProfile.decode_exact(one.payload).day_id == 2


def test_seasons_and_special_days_read_back() -> None:
    tx = Tx(NOW, {})
    _install(tx)
    seasons, special = _serve(
        tx,
        _frame(0x0707, TO_SERVER, GetSeasons(0, 0xFFFF_FFFF), 3),
        _frame(0x0707, TO_SERVER, GetSpecialDays(0, 0, 0, 0, 0xFFFF_FFFF), 4),
    )
    assert PublishSeasons.decode_exact(seasons.payload).seasons[0].week_id == 1
    days = PublishSpecialDays.decode_exact(special.payload)
    assert (days.total_number_of_special_days, days.special_days[0].day_id) == (1, 3)


def test_without_a_calendar_every_read_is_not_found() -> None:
    tx = Tx(NOW, {})
    asks = [
        (GetDayProfiles(0, 0xFFFF_FFFE, 1, 0), 1),
        (GetWeekProfiles(0, 0xFFFF_FFFE, 1, 0), 2),
        (GetSeasons(0, 0xFFFF_FFFE), 3),
        (GetSpecialDays(0, 0, 3, 0, 0xFFFF_FFFE), 4),
    ]
    out = _serve(
        tx,
        *(_frame(0x0707, TO_SERVER, m, i) for m, i in asks),
        _frame(0x0700, TO_SERVER, GetCurrentPrice(0), 0),
    )
    assert [(c.command_id, c.payload) for c in out] == [
        (0x0B, bytes((i, ZclStatus.NOT_FOUND))) for i in (1, 2, 3, 4, 0)
    ]


def _price(at: datetime) -> PublishPrice:
    tx = Tx(NOW, {})
    _install(tx)
    tx = Tx(at, {k: v for k, v in tx.writes.items() if v is not None})
    (out,) = _serve(tx, _frame(0x0700, TO_SERVER, GetCurrentPrice(0), 0))
    assert out.command_id == 0x00, out.payload
    return PublishPrice.decode_exact(out.payload)


def test_current_price_follows_the_switching_table() -> None:
    peak = _price(datetime(2024, 12, 24, 16, 30, tzinfo=UTC))  # Tuesday 16:30
    assert (peak.price_trailing_digit_and_tier & 0x0F, peak.price) == (2, 2000)
    assert peak.duration_in_minutes == 150  # until 19:00
    assert _price(datetime(2024, 12, 24, 20, 0, tzinfo=UTC)).price == 1000
    assert _price(datetime(2024, 12, 25, 12, 0, tzinfo=UTC)).price == 4000  # special day
    assert _price(datetime(2024, 12, 28, 12, 0, tzinfo=UTC)).price == 3000  # Saturday
    summer = _price(datetime(2025, 7, 1, 15, 30, tzinfo=UTC))  # 16:30 BST, a Tuesday
    assert (summer.price, summer.unit_of_measure, summer.currency) == (2000, 1, 826)
