"""Tariff and prepayment configuration, and their compilation into a shared engine table.

Layer: firmware. The dataclasses follow the ECS01a objects (gbcs-reference.md §10.1): the
tariff switching table (seasons, week profiles, day profiles of script selectors 1..48 = TOU
rate, 101..108 = block set), special days, block thresholds (register monitors) and the price
matrix (TOU prices and block prices, 10^-5 currency per kWh), the standing charge; and the
prepayment settings of ECS04a/ECS07/ECS08/ECS09 (thresholds, emergency credit, debt recovery,
non-disablement calendar). :func:`compile_table` turns them into the int64 words that every
meter on that tariff shares.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from smemu.errors import ConfigError
from smemu.firmware.registers import layout as lay


@dataclass(frozen=True, slots=True)
class DayProfile:
    """A day schedule: ``(start minute of the local day, script selector)`` pairs.

    Selectors 1..48 switch to TOU rate n; 101..108 to block set n (GBCS §7.3.7). Start times
    must lie on half-hours (the engine's interval). Before the first switch of the day the
    profile's last switch holds, as if the same schedule had run the day before (the engine
    works per day profile, independent of the previous day).
    """

    switches: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Season:
    """A season start (``year`` 0 = every year) and the week profile it selects."""

    month: int
    day: int
    week: int
    year: int = 0


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A date (``year`` 0 = every year) on which ``profile`` replaces the week profile."""

    month: int
    day: int
    profile: int
    year: int = 0


@dataclass(frozen=True, slots=True)
class Tariff:
    """The active tariff: switching table, price matrix and block thresholds."""

    day_profiles: tuple[DayProfile, ...]  #: indexed from 0 (GBCS day_id - 1)
    #: week profiles: 7 day-profile indexes, Monday first
    week_profiles: tuple[tuple[int, ...], ...] = ((0, 0, 0, 0, 0, 0, 0),)
    seasons: tuple[Season, ...] = ()
    special_days: tuple[SpecialDay, ...] = ()
    tou_prices: tuple[int, ...] = ()  #: 10^-5 currency per kWh, rate 1 first
    block_prices: tuple[tuple[int, ...], ...] = ()  #: per block set, 4 block prices
    block_thresholds: tuple[tuple[int, ...], ...] = ()  #: per block set, up to 3, Wh
    standing_charge: int = 0  #: 10^-5 currency per day


@dataclass(frozen=True, slots=True)
class Prepayment:
    """Prepayment configuration; every amount in 10^-5 currency units."""

    low_credit_threshold: int = 0
    emergency_credit_threshold: int = 0
    emergency_credit_limit: int = 0
    disablement_threshold: int = 0
    #: time-based debt recovery per register: (amount per period, "hourly" | "daily")
    debt_rates: tuple[tuple[int, str], tuple[int, str]] = ((0, "daily"), (0, "daily"))
    suspend_debt_emergency: bool = False
    suspend_debt_disabled: bool = False
    #: non-disablement (friendly credit) periods per weekday, Monday first: (start, end) minutes
    friendly: tuple[tuple[tuple[int, int], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    """Meter settings that are not tariff: billing calendar, block resets, logs."""

    billing_day: int = 1  #: day of month of the billing snapshot (at local 00:00), 0 = none
    block_reset: str = "daily"  #: "daily" | "billing"
    log_profile: bool = True
    log_profile_export: bool = False
    #: half-hourly reactive import profile; off by default: with it, the log region is
    #: 91,656 bytes a meter instead of 53,640 (layout.F_LOG_PROFILE_REACTIVE)
    log_profile_reactive: bool = False
    log_daily: bool = True
    log_billing: bool = True
    #: maximum demand period in minutes: a multiple of 30 that divides a day; periods are
    #: aligned to UTC (for periods of up to an hour, the same as local time)
    max_demand_period: int = 30


@dataclass(frozen=True, slots=True)
class Table:
    """A compiled table: the int64 words shared by every meter on this tariff."""

    words: array[int] = field(repr=False)

    @property
    def data(self) -> bytes:
        return self.words.tobytes()


def _selector(selector: int) -> int:
    if 1 <= selector <= lay.N_TOU:
        return selector - 1
    if 101 <= selector <= 100 + lay.N_SETS:
        return lay.BLOCK_SELECTOR + selector - 101
    raise ConfigError(f"script selector {selector} is neither 1..48 nor 101..108")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _compile_profiles(w: array[int], tariff: Tariff) -> None:
    _check(1 <= len(tariff.day_profiles) <= lay.N_PROFILES, "1..16 day profiles")
    for p, profile in enumerate(tariff.day_profiles):
        switches = sorted(profile.switches)
        _check(bool(switches) and len(switches) <= 48, f"day profile {p}: 1..48 switches")
        current = _selector(switches[-1][1])
        starts = {minute: _selector(sel) for minute, sel in switches}
        for minute in starts:
            _check(minute % 30 == 0 and 0 <= minute < 1440, f"switch at minute {minute}")
        for slot in range(48):
            current = starts.get(slot * 30, current)
            w[lay.T_PROFILES + 48 * p + slot] = current


def _compile_calendar(w: array[int], tariff: Tariff) -> None:
    n = len(tariff.day_profiles)
    _check(1 <= len(tariff.week_profiles) <= lay.N_WEEKS, "1..4 week profiles")
    for i, week in enumerate(tariff.week_profiles):
        _check(len(week) == 7 and all(0 <= d < n for d in week), f"week profile {i}")
        w[lay.T_WEEKS + 7 * i : lay.T_WEEKS + 7 * i + 7] = array("q", week)
    _check(len(tariff.seasons) <= lay.N_SEASONS, "at most 4 seasons")
    w[lay.T_N_SEASONS] = len(tariff.seasons)
    for i, s in enumerate(tariff.seasons):
        _check(0 <= s.week < len(tariff.week_profiles), f"season {i}: week {s.week}")
        _check(1 <= s.month <= 12 and 1 <= s.day <= 31, f"season {i}: date")
        w[lay.T_SEASONS + 4 * i : lay.T_SEASONS + 4 * i + 4] = array(
            "q", (s.year, s.month, s.day, s.week)
        )
    _check(len(tariff.special_days) <= lay.N_SPECIAL, "at most 52 special days")
    w[lay.T_N_SPECIAL] = len(tariff.special_days)
    for i, d in enumerate(tariff.special_days):
        _check(0 <= d.profile < n, f"special day {i}: profile {d.profile}")
        _check(0 <= d.year < 1 << 15 and 1 <= d.month <= 12 and 1 <= d.day <= 31, "date")
        w[lay.T_SPECIAL + 2 * i] = d.year << 16 | d.month << 8 | d.day
        w[lay.T_SPECIAL + 2 * i + 1] = d.profile


def _compile_prices(w: array[int], tariff: Tariff) -> None:
    _check(len(tariff.tou_prices) <= lay.N_TOU, "at most 48 TOU prices")
    _check(len(tariff.block_prices) <= lay.N_SETS, "at most 8 block sets")
    _check(len(tariff.block_thresholds) <= lay.N_SETS, "at most 8 block sets")
    prices = [*tariff.tou_prices, *(p for b in tariff.block_prices for p in b)]
    _check(all(0 <= p < 1 << 31 for p in prices), "prices are 0 .. 2^31-1")
    for i, price in enumerate(tariff.tou_prices):
        w[lay.T_TOU_PRICE + i] = price
    for s, block in enumerate(tariff.block_prices):
        _check(len(block) <= lay.N_BLOCKS, f"block set {s}: at most 4 prices")
        for b, price in enumerate(block):
            w[lay.T_BLOCK_PRICE + 4 * s + b] = price
    for s in range(lay.N_SETS):
        given = tariff.block_thresholds[s] if s < len(tariff.block_thresholds) else ()
        _check(len(given) <= lay.N_THRESHOLDS, f"block set {s}: at most 3 thresholds")
        _check(list(given) == sorted(given) and all(0 < t < 1 << 40 for t in given), "order")
        for b in range(lay.N_THRESHOLDS):
            w[lay.T_THRESH + 3 * s + b] = given[b] if b < len(given) else lay.NO_THRESHOLD
    _check(0 <= tariff.standing_charge < 1 << 40, "standing charge")
    w[lay.T_STANDING] = tariff.standing_charge * lay.FINE


def _compile_prepayment(w: array[int], pre: Prepayment) -> int:
    flags = 0
    for index, value in (
        (lay.T_LOW_CREDIT, pre.low_credit_threshold),
        (lay.T_EC_THRESHOLD, pre.emergency_credit_threshold),
        (lay.T_EC_LIMIT, pre.emergency_credit_limit),
        (lay.T_DISABLE, pre.disablement_threshold),
    ):
        _check(abs(value) < 1 << 40, "prepayment amount out of range")
        w[index] = value * lay.FINE
    _check(pre.emergency_credit_limit >= 0, "negative emergency credit limit")
    for i, (amount, period) in enumerate(pre.debt_rates):
        _check(0 <= amount < 1 << 40 and period in ("hourly", "daily"), f"debt rate {i}")
        w[lay.T_DEBT_RATE + i] = amount * lay.FINE
        w[lay.T_DEBT_PERIOD + i] = 0 if period == "hourly" else 1
    flags |= lay.F_SUSPEND_DEBT_EMERGENCY if pre.suspend_debt_emergency else 0
    flags |= lay.F_SUSPEND_DEBT_DISABLED if pre.suspend_debt_disabled else 0
    _check(len(pre.friendly) in (0, 7), "friendly periods: none or one tuple per weekday")
    for day, periods in enumerate(pre.friendly):
        mask = 0
        for start, end in periods:
            _check(0 <= start < end <= 1440 and start % 30 == 0 and end % 30 == 0, "period")
            for slot in range(start // 30, end // 30):
                mask |= 1 << slot
        w[lay.T_FRIENDLY + day] = mask
    return flags


def compile_table(
    tariff: Tariff, prepayment: Prepayment | None = None, settings: Settings | None = None
) -> Table:
    """Check and compile a tariff (+ prepayment settings + meter settings) into a table.

    :raises ConfigError: a value outside what the engine (and GBCS) supports.
    """
    pre = prepayment or Prepayment()
    cfg = settings or Settings()
    w = array("q", bytes(lay.TABLE_BYTES))
    w[lay.T_VERSION] = lay.LAYOUT_VERSION
    _compile_profiles(w, tariff)
    _compile_calendar(w, tariff)
    _compile_prices(w, tariff)
    w[lay.T_N_PROFILES] = len(tariff.day_profiles)
    flags = _compile_prepayment(w, pre)
    _check(0 <= cfg.billing_day <= 28, "billing day 0..28")
    _check(cfg.block_reset in ("daily", "billing"), "block_reset is daily or billing")
    w[lay.T_BILLING_DAY] = cfg.billing_day
    period = cfg.max_demand_period
    _check(period % 30 == 0 and 30 <= period <= 1440 and 1440 % period == 0, "MD period")
    w[lay.T_MD_PERIOD] = period // 30
    flags |= lay.F_BLOCK_RESET_BILLING if cfg.block_reset == "billing" else 0
    flags |= lay.F_LOG_PROFILE if cfg.log_profile else 0
    flags |= lay.F_LOG_PROFILE_EXPORT if cfg.log_profile_export else 0
    flags |= lay.F_LOG_PROFILE_REACTIVE if cfg.log_profile_reactive else 0
    flags |= lay.F_LOG_DAILY if cfg.log_daily else 0
    flags |= lay.F_LOG_BILLING if cfg.log_billing else 0
    w[lay.T_FLAGS] = flags
    return Table(w)
