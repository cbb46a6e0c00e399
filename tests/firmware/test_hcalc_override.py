"""HCALC override (boost) rules of seed 004: the 60-minute cap is the override's, not the
press's; an ESME command supersedes a boost and ends the override when it takes effect.

Driven like :mod:`tests.firmware.test_hcalc` (12:00 on a Monday, GMT, no calendar: open).
"""

from __future__ import annotations

from datetime import timedelta

from smemu.firmware import hcalc_frames as alc
from smemu.firmware.common.machine import Step
from smemu.firmware.hcalc import UI_PORT, HcalcConfig, switch_timeline_of
from tests.firmware.test_hcalc import MIN, T0, _closed, _frames, _machine, _run_timers, _send


def _notices(steps: list[Step]) -> list[alc.AlcFrame]:
    return [f for s in steps for f in _frames(s) if isinstance(f, alc.OverrideNotice)]


def test_a_second_press_cannot_carry_the_override_past_an_hour() -> None:
    m = _machine()
    first = _send(m, alc.Boost(1, 60), T0, UI_PORT)
    second = _send(m, alc.Boost(1, 60), T0 + 45 * MIN, UI_PORT)
    assert _closed(m)
    later = _run_timers(m, second, T0 + timedelta(hours=3))
    # one override, 12:00-13:00: not 12:00-13:45
    assert switch_timeline_of(m.nvm, 1) == [(T0, False), (T0, True), (T0 + 60 * MIN, False)]
    assert _notices([first, second, *later]) == [
        alc.OverrideNotice(1, True),
        alc.OverrideNotice(1, False),
    ]
    assert any("extended" in log.text for log in second.logs)


def test_a_press_extends_a_short_boost_up_to_the_cap() -> None:
    m = _machine()
    _send(m, alc.Boost(1, 15), T0, UI_PORT)
    step = _send(m, alc.Boost(1, 60), T0 + 10 * MIN, UI_PORT)
    _run_timers(m, step, T0 + timedelta(hours=3))
    assert switch_timeline_of(m.nvm, 1)[-1] == (T0 + 60 * MIN, False)


def test_an_override_ends_at_its_cap_and_a_later_one_has_its_own_hour() -> None:
    m = _machine()
    step = _send(m, alc.Boost(1, 30), T0, UI_PORT)
    _send(m, alc.Boost(1, 60), T0 + 20 * MIN, UI_PORT)  # to 13:00, the cap
    _run_timers(m, step, T0 + 59 * MIN)
    assert _closed(m)
    # the override is over at 13:00: a press then starts a new one, with a new cap
    step = _send(m, alc.Boost(1, 30), T0 + 60 * MIN, UI_PORT)
    assert _notices([step]) == [alc.OverrideNotice(1, False), alc.OverrideNotice(1, True)]
    _run_timers(m, step, T0 + timedelta(hours=3))
    assert switch_timeline_of(m.nvm, 1)[-1] == (T0 + 90 * MIN, False)


def test_the_cap_also_holds_when_a_period_cuts_the_press_short() -> None:
    start = int(T0.timestamp())
    m = _machine(HcalcConfig(no_override=((start + 100 * 60, start + 120 * 60),)))
    step = _send(m, alc.Boost(1, 60), T0 + 50 * MIN, UI_PORT)
    step = _send(m, alc.Boost(1, 60), T0 + 95 * MIN, UI_PORT)
    _run_timers(m, step, T0 + timedelta(hours=4))
    # 12:50 + 60 = 13:50 cap; the configured period (13:40) comes first
    assert switch_timeline_of(m.nvm, 1)[-1] == (T0 + 100 * MIN, False)


def test_an_esme_no_override_command_ends_the_override_when_it_begins() -> None:
    m = _machine()
    _send(m, alc.Boost(1, 60), T0, UI_PORT)
    # 12:10: the ESME closes the switch for 10 minutes, override not allowed
    step = _send(m, alc.SetState(1, True, 600, override_allowed=False), T0 + 10 * MIN)
    assert alc.OverrideNotice(1, False) in _frames(step)  # notified at 12:10, not 12:20
    assert _closed(m)
    refused = _send(m, alc.Boost(1, 15), T0 + 12 * MIN, UI_PORT)
    assert _frames(refused) == []
    later = _run_timers(m, step, T0 + timedelta(hours=2))
    assert switch_timeline_of(m.nvm, 1)[-1] == (T0 + 20 * MIN, False)
    assert _notices(later) == []  # the end was notified once


def test_a_delayed_esme_command_ends_the_override_when_it_takes_effect() -> None:
    m = _machine(HcalcConfig(delay_minutes=(15, 0)))
    _send(m, alc.Boost(1, 60), T0, UI_PORT)
    step = _send(m, alc.SetState(1, False), T0 + 10 * MIN)
    assert _notices([step]) == []  # still boosting until 12:25
    assert _closed(m)
    later = _run_timers(m, step, T0 + timedelta(hours=2))
    assert _notices(later) == [alc.OverrideNotice(1, False)]
    assert switch_timeline_of(m.nvm, 1)[-1] == (T0 + 25 * MIN, False)
