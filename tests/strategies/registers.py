"""Hypothesis strategies for the register engine: tariffs, prepayment, states and spans.

Everything drawn here compiles (tables.compile_table) and advances without error. Spans
favour local midnights (so the C engine's whole-day path runs) and dates near the GB clock
changes, and consumption is small enough that block thresholds and credit thresholds are
crossed inside short spans.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from hypothesis import strategies as st

from smemu.firmware.registers import layout as lay
from smemu.firmware.registers.calendar import days_from_civil, local_midnight
from smemu.firmware.registers.loadcontrol import SwitchCalendar, SwitchCommand
from smemu.firmware.registers.tables import (
    DayProfile,
    Prepayment,
    Season,
    Settings,
    SpecialDay,
    Table,
    Tariff,
    compile_table,
)

prices = st.integers(0, 60_000)


@st.composite
def day_profiles(draw: st.DrawFn, *, block_sets: int) -> DayProfile:
    starts = draw(st.sets(st.integers(0, 47), min_size=1, max_size=6))
    selectors = st.integers(1, 6)
    if block_sets:
        selectors = st.one_of(selectors, st.integers(101, 100 + block_sets))
    return DayProfile(tuple((slot * 30, draw(selectors)) for slot in sorted(starts)))


@st.composite
def tariffs(draw: st.DrawFn) -> Tariff:
    block_sets = draw(st.integers(0, 3))
    n_profiles = draw(st.integers(1, 4))
    profiles = tuple(draw(day_profiles(block_sets=block_sets)) for _ in range(n_profiles))
    profile = st.integers(0, n_profiles - 1)
    n_weeks = draw(st.integers(1, 3))
    weeks = tuple(tuple(draw(st.lists(profile, min_size=7, max_size=7))) for _ in range(n_weeks))
    seasons = draw(
        st.lists(
            st.builds(
                Season,
                month=st.integers(1, 12),
                day=st.integers(1, 28),
                week=st.integers(0, n_weeks - 1),
                year=st.sampled_from([0, 0, 2023, 2024, 2025]),
            ),
            max_size=4,
        )
    )
    specials = draw(
        st.lists(
            st.builds(
                SpecialDay,
                month=st.sampled_from([3, 10, 12, 1]),
                day=st.integers(1, 31).filter(lambda d: d <= 28 or d in (30, 31)),
                profile=profile,
                year=st.sampled_from([0, 2024, 2025]),
            ),
            max_size=5,
        )
    )
    thresholds = []
    for _ in range(block_sets):
        values = draw(st.lists(st.integers(1, 8_000), min_size=0, max_size=3, unique=True))
        thresholds.append(tuple(sorted(values)))
    return Tariff(
        day_profiles=profiles,
        week_profiles=weeks,
        seasons=tuple(seasons),
        special_days=tuple(specials),
        tou_prices=tuple(draw(st.lists(prices, min_size=6, max_size=6))),
        block_prices=tuple(
            tuple(draw(st.lists(prices, min_size=4, max_size=4))) for _ in range(block_sets)
        ),
        block_thresholds=tuple(thresholds),
        standing_charge=draw(st.integers(0, 80_000)),
    )


@st.composite
def prepayments(draw: st.DrawFn) -> Prepayment:
    period = st.sampled_from(["hourly", "daily"])
    friendly: tuple[tuple[tuple[int, int], ...], ...] = ()
    if draw(st.booleans()):
        start = draw(st.integers(0, 40))
        end = draw(st.integers(start + 1, 48))
        days = draw(st.lists(st.booleans(), min_size=7, max_size=7))
        friendly = tuple(((start * 30, end * 30),) if on else () for on in days)
    return Prepayment(
        low_credit_threshold=draw(st.integers(0, 500_000)),
        emergency_credit_threshold=draw(st.integers(0, 300_000)),
        emergency_credit_limit=draw(st.integers(0, 500_000)),
        disablement_threshold=draw(st.integers(-100_000, 50_000)),
        debt_rates=(
            (draw(st.integers(0, 20_000)), draw(period)),
            (draw(st.integers(0, 100_000)), draw(period)),
        ),
        suspend_debt_emergency=draw(st.booleans()),
        suspend_debt_disabled=draw(st.booleans()),
        friendly=friendly,
    )


settings = st.builds(
    Settings,
    billing_day=st.integers(0, 28),
    block_reset=st.sampled_from(["daily", "billing"]),
    log_profile=st.booleans(),
    log_profile_export=st.booleans(),
    log_profile_reactive=st.booleans(),
    log_daily=st.booleans(),
    log_billing=st.booleans(),
    max_demand_period=st.sampled_from([30, 30, 30, 60, 90, 180, 1440]),
)

#: days near the GB clock changes (2024: 31 March, 27 October), a month end, a year end
_ANCHORS = [
    days_from_civil(2024, 3, 29),
    days_from_civil(2024, 10, 25),
    days_from_civil(2025, 3, 28),
    days_from_civil(2024, 1, 30),
    days_from_civil(2024, 12, 30),
]


@st.composite
def start_times(draw: st.DrawFn) -> int:
    """A half-hour boundary, usually a local midnight near an interesting date."""
    day = draw(st.sampled_from(_ANCHORS)) + draw(st.integers(-3, 3))
    offset = draw(st.sampled_from([0, 0, 0, 1, 17, 47]))
    return local_midnight(day) + offset * lay.INTERVAL


@dataclass(frozen=True)
class StateSpec:
    """How to build one meter's starting state (money in 10^-5 units)."""

    prepay: bool
    balance: int
    ec_active: bool
    ec_balance: int
    debts: tuple[int, int]
    disabled: bool

    def build(self, t: int) -> array[int]:
        state = lay.new_state(t, prepay=self.prepay, balance=self.balance)
        if self.ec_active:
            state[lay.S_FLAGS] |= lay.M_EC_ACTIVE
            state[lay.S_EC] = self.ec_balance * lay.FINE
        if self.disabled:
            state[lay.S_FLAGS] |= lay.M_DISABLED
        state[lay.S_DEBT], state[lay.S_DEBT + 1] = (d * lay.FINE for d in self.debts)
        return state


state_specs = st.builds(
    StateSpec,
    prepay=st.booleans(),
    balance=st.integers(-50_000, 3_000_000),
    ec_active=st.booleans(),
    ec_balance=st.integers(0, 300_000),
    debts=st.tuples(st.integers(0, 200_000), st.integers(0, 400_000)),
    disabled=st.integers(0, 9).map(lambda n: n == 0),
)


@dataclass(frozen=True)
class Payment:
    """A top-up between spans: ``delay`` seconds after a span's end (money in 10^-5 units).

    With ``emergency``, the consumer selects emergency credit there instead (no payment).
    """

    meter: int
    amount: int
    percent_bp: int  #: payment-based debt recovery, 1/100 % of the payment
    weekly_cap: int | None  #: DebtRecoveryRateCap, or None
    delay: int
    emergency: bool = False


def payments(meters: int) -> st.SearchStrategy[Payment]:
    """Top-ups of any size, with or without recovery and a weekly cap, on any meter; one in
    four is an emergency credit selection instead."""
    return st.builds(
        Payment,
        meter=st.integers(0, meters - 1),
        amount=st.integers(1, 5_000_000),
        percent_bp=st.sampled_from([0, 500, 2_500, 10_000]) | st.integers(0, 10_000),
        weekly_cap=st.none() | st.integers(0, 2_000_000),
        delay=st.sampled_from([0, 1, 900, 1_799]),
        emergency=st.integers(0, 3).map(lambda n: n == 0),
    )


@st.composite
def consumption(draw: st.DrawFn, meters: int, intervals: int) -> array[int]:
    """uint16 Wh per meter per interval: a seeded pattern, sometimes with spikes or zeros."""
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0, 5, 300, 1_500, 65_535]))
    values = array("H", bytes(2 * meters * intervals))
    x = seed
    for i in range(meters * intervals):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        values[i] = (x >> 33) % (scale + 1)
    return values


@st.composite
def reactive_series(draw: st.DrawFn, meters: int, intervals: int) -> array[int] | None:
    """Reactive import (uint16 varh) for ``advance``: none, per interval, or one per meter."""
    kind = draw(st.sampled_from(["none", "series", "series", "constant"]))
    if kind == "none":
        return None
    if kind == "constant":
        return array("H", draw(st.lists(st.integers(0, 65_535), min_size=meters, max_size=meters)))
    return draw(consumption(meters, intervals))


def year_table() -> Table:
    """A realistic table for long runs: weekday/weekend TOU, a block set, prepayment, logs."""
    tariff = Tariff(
        day_profiles=(
            DayProfile(((0, 1), (7 * 60, 2), (16 * 60, 3), (19 * 60, 2), (23 * 60, 1))),
            DayProfile(((0, 1), (9 * 60, 101), (21 * 60, 1))),
            DayProfile(((0, 4),)),
        ),
        week_profiles=((0, 0, 0, 0, 0, 1, 1), (0, 0, 0, 0, 0, 0, 1)),
        seasons=(Season(10, 27, 0), Season(3, 29, 1)),
        special_days=(SpecialDay(12, 25, 2), SpecialDay(5, 6, 2, 2024)),
        tou_prices=(12_000, 24_000, 41_000, 9_000),
        block_prices=((15_000, 22_000, 30_000, 45_000),),
        block_thresholds=((4_000, 9_000, 15_000),),
        standing_charge=52_000,
    )
    prepayment = Prepayment(
        low_credit_threshold=200_000,
        emergency_credit_threshold=100_000,
        emergency_credit_limit=500_000,
        disablement_threshold=0,
        debt_rates=((2_000, "hourly"), (30_000, "daily")),
    )
    meter = Settings(billing_day=1, log_profile_export=True, log_profile_reactive=True)
    return compile_table(tariff, prepayment, meter)


# ---- load control ----

_switch_entries = st.lists(
    st.tuples(st.integers(0, 1439), st.booleans()), max_size=4
).map(tuple)

#: switch calendars: up to 4 entries per weekday, random offsets up to 600 s (sometimes more)
switch_calendars = st.builds(
    SwitchCalendar,
    days=st.tuples(*[_switch_entries] * 7),
    random_offset_limit=st.one_of(st.integers(0, 600), st.integers(0, 100_000)),
)


@st.composite
def switch_commands(draw: st.DrawFn, t0: int, span: int) -> list[SwitchCommand]:
    """Ad hoc, boost, test, loss and restore inputs in (and around) [t0, t0 + span)."""
    kinds = st.sampled_from(["adhoc", "boost", "test", "loss", "restore"])
    return draw(
        st.lists(
            st.builds(
                SwitchCommand,
                t=st.integers(t0 - 3600, t0 + span),
                kind=kinds,
                closed=st.booleans(),
                duration=st.one_of(st.none(), st.integers(1, 3 * 3600)),
                delay_minutes=st.one_of(st.just(0), st.integers(1, 1440)),
            ),
            max_size=6,
        )
    )
