"""The gas meter's ZCL tariff compiled into its register engine; the billing calendar.

Layer: firmware. GCS01a / GCS01b (Publish Tariff Information, Price Matrix, Block
Thresholds, Calendar, Day / Week Profiles, Seasons, Special Days), GCS25 (Publish Billing
Period / Block Period) and GCS21d (Get Billing Period), as gbcs-reference.md 10.2 and the
Use Case volume describe them.

Theory of operation
-------------------
:mod:`smemu.firmware.gas_tariff` keeps the instructions as the meter holds them (ZCL
attributes and command payloads in NVM). Every time one of them changes (its
``bump_generation``), :func:`sync` builds the engine :class:`~smemu.firmware.registers.
tables.Tariff` and :class:`~smemu.firmware.registers.tables.Settings` from what is stored
and, when they differ from what the engine runs, installs them with
:func:`smemu.firmware.gas_metering.set_tariff` / ``set_settings`` (which first bring the
registers up to now under the old ones). The first tariff change of an instant takes a
billing data log entry with snapshot cause "change of tariff" (GCS15b); the further
components of the same command only recompile.

Mapping (the engine's unit of consumption is the litre, its money 10^-5 currency units):

* prices and the standing charge are rescaled from the tariff's price trailing digit to 5
  decimal places; TOU tier ``n`` (price matrix id ``n`` with the TOU sub-payload control)
  is engine rate ``n``; block ``b`` of tier ``t`` (id ``t << 4 | b``) is block ``b + 1`` of
  engine block set ``max(t, 1)``;
* block thresholds (in the unit of the block threshold multiplier / divisor: the default 1 /
  1000 makes them litres) become litres; tier 0's set applies to every block set;
* the charging scheme (high nibble of Publish Tariff Information's tariff type) decides what
  a day profile's price tier selects: TOU (0) rate ``tier``, block (1) block set 1, block /
  TOU (2, 3) block set ``tier``;
* the TOU calendar in force (calendar type 0): day profiles by day id (start times rounded
  down to the half-hour), week profiles by week id, seasons and special days by date (ZCL
  "any year" = every year). Without a calendar the whole day is tier 1;
* the billing calendar (GCS25): the engine bills monthly at local midnight of the start
  date's day of month (1..28); the block counters reset at each billing period once a block
  period is published, daily before.
"""

from __future__ import annotations

from typing import Final, TypeVar

from smemu.errors import ConfigError, DecodeError
from smemu.firmware import gas_metering
from smemu.firmware import gas_tariff as zcl
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import ZclRefusedError, ZclReply
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.calendar import (
    civil_from_days,
    days_from_civil,
    local_day,
    local_midnight,
)
from smemu.firmware.registers.tables import (
    DayProfile,
    Season,
    Settings,
    SpecialDay,
    Tariff,
    compile_table,
)
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000, ZclDate, ZclRecord
from smemu.protocols.zigbee.calendar import (
    PublishDayProfile,
    PublishSeasons,
    PublishSpecialDays,
    PublishWeekProfile,
)
from smemu.protocols.zigbee.price import PublishBillingPeriod
from smemu.protocols.zigbee.zcl import ZclStatus

BILLING_PERIOD: Final = "gsme/billing_period"  #: the GCS25 Publish Billing Period payload
BLOCK_PERIOD: Final = "gsme/block_period"  #: the GCS25 Publish Block Period payload
#: the UTC second of the last tariff change snapshot (one per instant)
TARIFF_SNAPSHOT_AT: Final = "gsme/engine/tariff_snapshot_at"

#: Charging schemes (Publish Tariff Information, high nibble of the tariff type).
SCHEME_TOU: Final = 0
SCHEME_BLOCK: Final = 1
#: Billing period duration type: timebase months (low nibble 3), control "start of timebase".
MONTHLY: Final = 0x03
_Y2K: Final = int(EPOCH_2000.timestamp())
_ANY: Final = 0xFF
_MAX_PRICE: Final = (1 << 31) - 1
_MAX_THRESHOLD: Final = (1 << 40) - 1
_UNUSED_THRESHOLD: Final = (1 << 48) - 1


def _price_places(tx: Tx) -> int:
    return zcl.read_int(tx, zcl.PRICE, zcl.PRICE_TRAILING_DIGIT, 0x50)


def _money(value: int, digit_byte: int) -> int:
    """A ZCL money value (trailing digit ``digit_byte``) in 10^-5 units, clamped for the engine."""
    return max(0, min(_MAX_PRICE, zcl.rescale(value, digit_byte, 5)))


def _scheme(tx: Tx) -> int:
    info = zcl.tariff_information(tx)
    if info is not None:
        return info.tariff_type_charging_scheme >> 4 & 0x0F
    return SCHEME_TOU if tx.get_int("gsme/tariff/tou", 1) else SCHEME_BLOCK


def _prices(tx: Tx) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """(TOU prices by rate, block prices by block set) in 10^-5 units per kWh."""
    digit = _price_places(tx)
    tou_ids = bool(tx.get_int("gsme/tariff/tou", 1))
    tou = [0] * 4
    blocks = [[0] * lay.N_BLOCKS for _ in range(lay.N_SETS)]
    for ident, price in sorted(zcl.prices(tx).items()):
        value = _money(price, digit)
        if tou_ids:
            if 1 <= ident <= lay.N_TOU:
                tou.extend([0] * (ident - len(tou)))
                tou[ident - 1] = value
            continue
        tier, block = ident >> 4, ident & 0x0F
        if block < lay.N_BLOCKS and tier <= lay.N_SETS:
            blocks[max(tier, 1) - 1][block] = value
    return tuple(tou), tuple(tuple(b) for b in blocks)


def _thresholds(tx: Tx) -> tuple[tuple[int, ...], ...]:
    """Block thresholds in litres per engine block set (tier 0's for every set)."""
    multiplier = zcl.read_int(tx, zcl.PRICE, zcl.THRESHOLD_MULTIPLIER, 1) or 1
    divisor = zcl.read_int(tx, zcl.PRICE, zcl.THRESHOLD_DIVISOR, 1000) or 1
    given = zcl.thresholds(tx)

    def litres(values: tuple[int, ...]) -> tuple[int, ...]:
        used = {v * multiplier * 1000 // divisor for v in values if 0 < v < _UNUSED_THRESHOLD}
        return tuple(sorted(v for v in used if 0 < v <= _MAX_THRESHOLD))[: lay.N_THRESHOLDS]

    common = litres(given.get(0, ()))
    return tuple(
        litres(given[s + 1]) if s + 1 in given else common for s in range(lay.N_SETS)
    )


def _selector(scheme: int, tier: int) -> int:
    if scheme == SCHEME_TOU:
        return min(max(tier, 1), lay.N_TOU)
    if scheme == SCHEME_BLOCK:
        return 101
    return 100 + min(max(tier, 1), lay.N_SETS)


R = TypeVar("R", bound=ZclRecord)


def _decoded(kind: type[R], raw: bytes | None) -> R | None:
    if raw is None:
        return None
    try:
        return kind.decode_exact(raw)
    except DecodeError:
        return None


def _date(date: ZclDate) -> tuple[int, int, int] | None:
    """(year or 0 for every year, month, day) of a ZCL date; None when month / day is 'any'."""
    if not (1 <= date.month <= 12 and 1 <= date.day <= 31):
        return None
    return (0 if date.year_offset == _ANY else 1900 + date.year_offset), date.month, date.day


def _calendar(tx: Tx, scheme: int) -> Tariff:
    """The switching table of the TOU calendar in force (no prices)."""
    kind = zcl.TOU_DELIVERED
    part = zcl.calendar_part
    ident = zcl.calendar_id(tx, kind)
    days: dict[int, DayProfile] = {}
    weeks: dict[int, tuple[int, ...]] = {}
    if ident is not None:
        prefix = f"{zcl.CALENDAR_PREFIX}{ident:08x}/"
        for key in sorted(tx.keys(prefix + "day/")):
            day = _decoded(PublishDayProfile, tx.get(key))
            if day is None or not day.entries:
                continue
            starts = {e.start_time // 30 * 30 % 1440: e.action for e in day.entries}
            switches = tuple((m, _selector(scheme, a)) for m, a in sorted(starts.items()))
            days[day.day_id] = DayProfile(switches[:48])
        for key in sorted(tx.keys(prefix + "week/")):
            week = _decoded(PublishWeekProfile, tx.get(key))
            if week is not None:
                weeks[week.week_id] = (
                    week.monday, week.tuesday, week.wednesday, week.thursday, week.friday,
                    week.saturday, week.sunday,
                )  # fmt: skip
    if not days:
        return Tariff(day_profiles=(DayProfile(((0, _selector(scheme, 1)),)),))
    day_ids = sorted(days)[: lay.N_PROFILES]
    day_index = {d: i for i, d in enumerate(day_ids)}
    week_ids = sorted(weeks)[: lay.N_WEEKS]
    week_index = {w: i for i, w in enumerate(week_ids)}
    week_rows = tuple(tuple(day_index.get(d, 0) for d in weeks[w]) for w in week_ids)
    seasons: list[Season] = []
    message = _decoded(PublishSeasons, part(tx, kind, "seasons"))
    for entry in message.seasons if message is not None else ():
        date = _date(entry.season_start_date)
        if date is not None and len(seasons) < lay.N_SEASONS:
            seasons.append(Season(date[1], date[2], week_index.get(entry.week_id, 0), date[0]))
    specials: list[SpecialDay] = []
    special = _decoded(PublishSpecialDays, part(tx, kind, "special_days"))
    for item in special.special_days if special is not None else ():
        date = _date(item.date)
        if date is not None and item.day_id in day_index and len(specials) < lay.N_SPECIAL:
            specials.append(SpecialDay(date[1], date[2], day_index[item.day_id], date[0]))
    return Tariff(
        day_profiles=tuple(days[d] for d in day_ids),
        week_profiles=week_rows or ((0,) * 7,),
        seasons=tuple(seasons),
        special_days=tuple(specials),
    )


def engine_tariff(tx: Tx) -> Tariff:
    """The engine tariff of the ZCL tariff stored in NVM (prices per kWh, 10^-5 units)."""
    scheme = _scheme(tx)
    calendar = _calendar(tx, scheme)
    tou, blocks = _prices(tx)
    info = zcl.tariff_information(tx)
    standing = 0 if info is None else _money(info.standing_charge, _price_places(tx))
    return Tariff(
        day_profiles=calendar.day_profiles,
        week_profiles=calendar.week_profiles,
        seasons=calendar.seasons,
        special_days=calendar.special_days,
        tou_prices=tou,
        block_prices=blocks,
        block_thresholds=_thresholds(tx),
        standing_charge=standing,
    )


def engine_settings(tx: Tx) -> Settings:
    """The engine's billing calendar and block reset from the GCS25 instructions stored."""
    billing = _decoded(PublishBillingPeriod, tx.get(BILLING_PERIOD))
    current = gas_metering.settings(tx)
    day = current.billing_day
    if billing is not None and billing.billing_period_start_time not in zcl.CANCEL_TIMES:
        start = billing.billing_period_start_time
        instant = _Y2K + start if start else int(tx.now.timestamp())
        day = min(28, civil_from_days(local_day(instant))[2])
    reset = "billing" if tx.get(BLOCK_PERIOD) is not None else "daily"
    return Settings(billing_day=day, block_reset=reset)


def sync(tx: Tx) -> bool:
    """Install the stored tariff and billing calendar in the engine if they changed (see the
    module docstring); whether the tariff changed. A tariff the engine cannot take (it
    should not happen: :func:`engine_tariff` builds valid ones) leaves the old one running."""
    gas_metering.set_settings(tx, engine_settings(tx))
    new = engine_tariff(tx)
    try:
        table = compile_table(new).data
    except ConfigError as exc:
        tx.log("trace", f"tariff not compiled: {exc}")
        return False
    if table == compile_table(gas_metering.tariff(tx)).data:
        return False  # the same switching table and prices, however written
    now = int(tx.now.timestamp())
    first = tx.get_int(TARIFF_SNAPSHOT_AT, -1) != now
    if first:
        tx.put_int(TARIFF_SNAPSHOT_AT, now)
    cause = gas_metering.CAUSE_TARIFF if first else None
    gas_metering.set_tariff(tx, new, snapshot_cause=cause)
    return True


# ---------------------------------------------------------------------------- GCS25 / GCS21d


def publish_billing_period(tx: Tx, comp: gbz.GbzComponent) -> None:
    """GCS25 (price 0x09 Publish Billing Period): the billing calendar, from now."""
    try:
        PublishBillingPeriod.decode_exact(comp.payload)
    except DecodeError as exc:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, str(exc)) from exc
    tx.put(BILLING_PERIOD, comp.payload)
    zcl.bump_generation(tx)


def billing_period(tx: Tx) -> PublishBillingPeriod:
    """The billing calendar the engine runs, as a Publish Billing Period.

    The GCS25 instruction in force when there is one (its start is the calendar's first
    billing instant); otherwise the engine's default calendar: monthly, the current period
    starting at the last local midnight of the billing day at or before now.
    """
    stored = _decoded(PublishBillingPeriod, tx.get(BILLING_PERIOD))
    if stored is not None:
        return stored
    day = gas_metering.settings(tx).billing_day or 1
    now = int(tx.now.timestamp())
    year, month, _ = civil_from_days(local_day(now))
    start = local_midnight(days_from_civil(year, month, day))
    if start > now:
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        start = local_midnight(days_from_civil(year, month, day))
    return PublishBillingPeriod(0, 0, max(0, start - _Y2K), 1, MONTHLY, 0)


def get_billing_period(tx: Tx, comp: gbz.GbzComponent) -> ZclReply:
    """GCS21d (price 0x0B Get Billing Period): the billing calendar the engine runs."""
    reply = billing_period(tx)
    return ZclReply(PublishBillingPeriod.COMMAND_ID, reply.encode(), False)


__all__ = [
    "BILLING_PERIOD",
    "BLOCK_PERIOD",
    "billing_period",
    "engine_settings",
    "engine_tariff",
    "get_billing_period",
    "publish_billing_period",
    "sync",
]
