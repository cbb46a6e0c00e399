"""Load-control switch timing: hand-checked against the HCALC rules of seed 004."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import ConfigError
from smemu.firmware import registers
from smemu.firmware.registers.calendar import days_from_civil, local_midnight
from smemu.firmware.registers.loadcontrol import (
    SwitchCalendar,
    SwitchCommand,
    random_offset,
    timeline,
)
from tests.strategies.registers import start_times, switch_calendars, switch_commands

# closed 00:00-07:00 and 22:00-24:00 local, every day (a storage heater)
NIGHT = SwitchCalendar(days=(((0, True), (7 * 60, False), (22 * 60, True)),) * 7)
DAY0 = local_midnight(days_from_civil(2024, 6, 3))  # a Monday in BST


def test_calendar_switches_at_local_time() -> None:
    changes = timeline(NIGHT, DAY0, DAY0 + 86_400)
    assert changes == [(DAY0, True), (DAY0 + 7 * 3600, False), (DAY0 + 22 * 3600, True)]


def test_boost_during_a_no_override_period_is_refused() -> None:
    # 12:00-16:00 is a "no override" period: boosts asked at 13:00 and 15:30 are refused;
    # a 50-minute boost at 11:30 is cut at 12:00 when the period starts; a 50-minute boost
    # at 17:00 is rounded up to four 15-minute steps: 17:00-18:00.
    no_override = ((DAY0 + 12 * 3600, DAY0 + 16 * 3600),)
    cmds = [
        SwitchCommand(DAY0 + 13 * 3600, "boost", duration=1800),
        SwitchCommand(DAY0 + 15 * 3600 + 1800, "boost", duration=3000),
        SwitchCommand(DAY0 + 11 * 3600 + 1800, "boost", duration=3000),
        SwitchCommand(DAY0 + 17 * 3600, "boost", duration=3000),
    ]
    changes = timeline(NIGHT, DAY0 + 8 * 3600, DAY0 + 20 * 3600, cmds, no_override=no_override)
    assert changes == [
        (DAY0 + 8 * 3600, False),
        (DAY0 + 11 * 3600 + 1800, True),
        (DAY0 + 12 * 3600, False),
        (DAY0 + 17 * 3600, True),
        (DAY0 + 18 * 3600, False),
    ]


def test_later_command_supersedes_and_test_flips_for_five_minutes() -> None:
    cmds = [
        SwitchCommand(DAY0 + 9 * 3600, "adhoc", closed=True, duration=4 * 3600),
        SwitchCommand(DAY0 + 10 * 3600, "adhoc", closed=False, duration=600),
        SwitchCommand(DAY0 + 19 * 3600, "test"),
    ]
    changes = timeline(NIGHT, DAY0 + 8 * 3600, DAY0 + 20 * 3600, cmds)
    assert changes == [
        (DAY0 + 8 * 3600, False),
        (DAY0 + 9 * 3600, True),
        (DAY0 + 10 * 3600, False),  # the second command ends the first: back to calendar
        (DAY0 + 19 * 3600, True),
        (DAY0 + 19 * 3600 + 300, False),
    ]


def test_fail_open_on_supply_loss_and_refresh_on_restore() -> None:
    cmds = [SwitchCommand(DAY0 + 3600, "loss"), SwitchCommand(DAY0 + 2 * 3600, "restore")]
    changes = timeline(NIGHT, DAY0, DAY0 + 3 * 3600, cmds)
    assert changes == [(DAY0, True), (DAY0 + 3600, False), (DAY0 + 2 * 3600, True)]


def test_delay_timer_range() -> None:
    with pytest.raises(ConfigError):
        timeline(NIGHT, DAY0, DAY0 + 3600, [SwitchCommand(DAY0, "adhoc", delay_minutes=1441)])
    changes = timeline(NIGHT, DAY0 + 8 * 3600, DAY0 + 9 * 3600,
                       [SwitchCommand(DAY0 + 8 * 3600, "adhoc", delay_minutes=10)])
    assert changes == [(DAY0 + 8 * 3600, False), (DAY0 + 8 * 3600 + 600, True)]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), limit=st.integers(0, 600), day=st.integers(19_000, 21_000))
def test_random_offsets_stay_within_the_limit_and_are_repeatable(
    seed: int, limit: int, day: int
) -> None:
    cal = SwitchCalendar(NIGHT.days, random_offset_limit=limit)
    start = local_midnight(day)
    changes = timeline(cal, start + 3600, start + 86_400, seed=seed)
    assert changes == timeline(cal, start + 3600, start + 86_400, seed=seed)
    for t, _closed in changes[1:]:
        assert 0 <= (t - start) % 3600 <= limit
    assert 0 <= random_offset(seed, 1, day, 2, limit) <= limit


@pytest.mark.skipif(not registers.USING_C, reason=f"no C engine: {registers.C_ERROR}")
@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    cal=switch_calendars,
    t0=start_times(),
    span=st.integers(0, 3 * 86_400),
    switch=st.integers(0, 3),
    seed=st.integers(0, 2**64 - 1),
)
def test_c_timeline_equals_reference(  # noqa: PLR0917 - hypothesis passes keywords
    data: st.DataObject, cal: SwitchCalendar, t0: int, span: int, switch: int, seed: int
) -> None:
    """_engine.switch_timeline and loadcontrol.timeline agree (same SplitMix64 offsets)."""
    commands = data.draw(switch_commands(t0, span))
    window = data.draw(st.integers(t0 - 7200, t0 + span))
    no_override = data.draw(st.sampled_from([(), ((window, window + 4 * 3600),)]))
    try:
        expected = timeline(cal, t0, t0 + span, commands, switch=switch, seed=seed,
                            no_override=no_override)
    except ConfigError:
        with pytest.raises(ConfigError):
            registers.switch_timeline(cal, t0, t0 + span, commands, switch=switch, seed=seed,
                                      no_override=no_override)
        return
    got = registers.switch_timeline(cal, t0, t0 + span, commands, switch=switch, seed=seed,
                                    no_override=no_override)
    assert got == expected
