"""HCALC behaviour (seed 004): delay timers, superseding commands, boost, test, fail open."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import ConfigError, DecodeError
from smemu.firmware import hcalc_frames as alc
from smemu.firmware.common.machine import (
    BootEvent,
    LineEvent,
    MessageEvent,
    Step,
    TimerEvent,
    Tx,
)
from smemu.firmware.hcalc import (
    ALC_PORT,
    REFRESH_TIMER,
    SWITCH_TIMER,
    UI_PORT,
    HcalcConfig,
    HcalcMachine,
    switch_timeline_of,
)
from smemu.firmware.registers.loadcontrol import SwitchCalendar
from smemu.protocols.gbcs.types import Eui64

HCALC = Eui64.parse("00-DB-12-34-56-78-90-A5")
T0 = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)  # a Monday (GMT: local = UTC)
MIN = timedelta(minutes=1)


def _machine(config: HcalcConfig | None = None) -> HcalcMachine:
    m = HcalcMachine(HCALC, {})
    if config is not None:
        tx = Tx(T0, {})
        HcalcMachine.configure(tx, config)
        m = HcalcMachine(HCALC, {k: v for k, v in tx.writes.items() if v is not None})
    m.step(BootEvent(), T0)
    return m


def _send(m: HcalcMachine, frame: alc.AlcFrame, at: datetime, port: str = ALC_PORT) -> Step:
    return m.step(MessageEvent(port, alc.encode(frame)), at)


def _closed(m: HcalcMachine, n: int = 1) -> bool:
    return switch_timeline_of(m.nvm, n)[-1][1]


def _frames(step: Step) -> list[alc.AlcFrame]:
    return [alc.decode_exact(s.data) for s in step.sends if s.port == ALC_PORT]


def _timer(step: Step, name: str) -> datetime | None:
    found = [t.at for t in step.timers if t.name == name]
    assert found, f"no {name} timer request"
    return found[-1]


def _run_timers(m: HcalcMachine, step: Step, until: datetime) -> list[Step]:
    """Fire the switch timer the machine asks for, until ``until``."""
    steps = []
    at = _timer(step, SWITCH_TIMER)
    while at is not None and at <= until:
        step = m.step(TimerEvent(SWITCH_TIMER), at)
        steps.append(step)
        at = _timer(step, SWITCH_TIMER)
    return steps


def test_boots_open_with_no_calendar() -> None:
    m = _machine()
    assert switch_timeline_of(m.nvm, 1) == [(T0, False)]
    assert switch_timeline_of(m.nvm, 2) == [(T0, False)]


def test_state_change_with_duration_reverts_and_reports_success() -> None:
    m = _machine()
    step = _send(m, alc.SetState(1, True, 1800), T0)
    assert _frames(step) == [alc.StateResult(1, True)]
    assert _closed(m) and not _closed(m, 2)
    assert _timer(step, SWITCH_TIMER) == T0 + 30 * MIN
    _run_timers(m, step, T0 + timedelta(hours=2))
    assert switch_timeline_of(m.nvm, 1) == [(T0, False), (T0, True), (T0 + 30 * MIN, False)]
    assert not _closed(m)


def test_later_command_supersedes_earlier() -> None:
    m = _machine()
    _send(m, alc.SetState(1, True, 3600), T0)
    step = _send(m, alc.SetState(1, False), T0 + 10 * MIN)
    assert not _closed(m)
    # the first command's end (T0+60) no longer changes anything
    assert _timer(step, SWITCH_TIMER) is None
    step = _send(m, alc.SetState(1, True), T0 + 20 * MIN)
    assert _closed(m)


def test_delay_timer_postpones_the_change() -> None:
    m = _machine(HcalcConfig(delay_minutes=(15, 0)))
    step = _send(m, alc.SetState(1, True), T0)
    assert not _closed(m)
    assert _timer(step, SWITCH_TIMER) == T0 + 15 * MIN
    _run_timers(m, step, T0 + timedelta(hours=1))
    assert switch_timeline_of(m.nvm, 1)[-1] == (T0 + 15 * MIN, True)


@pytest.mark.parametrize("minutes", [-1, 1441, 5000])
def test_delay_timer_range(minutes: int) -> None:
    with pytest.raises(ConfigError):
        HcalcConfig(delay_minutes=(minutes, 0))


@pytest.mark.parametrize(("asked", "granted"), [(1, 15), (15, 15), (20, 30), (60, 60), (200, 60)])
def test_boost_in_quarter_hours_up_to_an_hour(asked: int, granted: int) -> None:
    m = _machine()
    step = _send(m, alc.Boost(2, asked), T0, UI_PORT)
    assert alc.OverrideNotice(2, True) in _frames(step)
    assert _closed(m, 2)
    steps = _run_timers(m, step, T0 + timedelta(hours=3))
    assert switch_timeline_of(m.nvm, 2)[-1] == (T0 + granted * MIN, False)
    ended = [f for s in steps for f in _frames(s)]
    assert ended == [alc.OverrideNotice(2, False)]


def test_boost_refused_in_a_no_override_period_from_the_esme() -> None:
    m = _machine()
    _send(m, alc.SetState(1, False, 7200, override_allowed=False), T0)
    step = _send(m, alc.Boost(1, 30), T0 + 10 * MIN, UI_PORT)
    assert _frames(step) == []
    assert not _closed(m)
    assert any("boost refused" in log.text for log in step.logs)


def test_boost_refused_in_a_configured_no_override_period_and_cut_short_by_one() -> None:
    start = int(T0.timestamp())
    m = _machine(HcalcConfig(no_override=((start + 3600, start + 7200),)))
    step = _send(m, alc.Boost(1, 60), T0 + 30 * MIN, UI_PORT)
    assert _closed(m)
    steps = _run_timers(m, step, T0 + timedelta(hours=3))
    # boosted from 12:30; the no-override period at 13:00 ends it
    assert switch_timeline_of(m.nvm, 1)[-1] == (T0 + 60 * MIN, False)
    assert alc.OverrideNotice(1, False) in [f for s in steps for f in _frames(s)]
    step = _send(m, alc.Boost(1, 15), T0 + 90 * MIN, UI_PORT)
    assert not _closed(m)
    assert _frames(step) == []


def test_test_mode_flips_for_five_minutes_then_calendar() -> None:
    week = tuple(((0, False), (11 * 60, True)) for _ in range(7))  # closed from 11:00
    m = _machine(HcalcConfig(calendars=(SwitchCalendar(week), SwitchCalendar(((),) * 7))))
    assert _closed(m)
    step = _send(m, alc.Test(1), T0, UI_PORT)
    assert not _closed(m)
    _run_timers(m, step, T0 + 10 * MIN)
    assert switch_timeline_of(m.nvm, 1)[-2:] == [(T0, False), (T0 + 5 * MIN, True)]


def test_calendar_with_random_offset_drives_the_switch() -> None:
    week = tuple(((13 * 60, True), (14 * 60, False)) for _ in range(7))
    cal = SwitchCalendar(week, random_offset_limit=600)
    m = _machine(HcalcConfig(calendars=(cal, SwitchCalendar(((),) * 7)), seed=7))
    step = m.step(TimerEvent(SWITCH_TIMER), T0)
    _run_timers(m, step, T0 + timedelta(hours=3))
    line = switch_timeline_of(m.nvm, 1)
    on, off = line[-2], line[-1]
    assert on[1] and not off[1]
    assert T0 + 60 * MIN <= on[0] <= T0 + 70 * MIN
    assert T0 + 120 * MIN <= off[0] <= T0 + 130 * MIN


def test_fail_open_on_power_loss_and_refresh_on_restore() -> None:
    m = _machine(HcalcConfig(delay_minutes=(0, 5)))
    _send(m, alc.SetState(1, True), T0)
    _send(m, alc.SetState(2, True), T0)
    lost = T0 + 10 * MIN
    step = m.step(LineEvent("power", False), lost)
    assert not _closed(m, 1) and not _closed(m, 2)
    assert switch_timeline_of(m.nvm, 1)[-1] == (lost, False)
    back = T0 + 20 * MIN
    step = m.step(LineEvent("power", True), back)
    assert _frames(step) == [alc.RefreshRequest()]
    assert _timer(step, REFRESH_TIMER) == back + MIN
    # state recomputed from the command in effect; switch 2 waits for its 5-minute delay
    assert _closed(m, 1) and not _closed(m, 2)
    # no answer: the request is repeated
    step = m.step(TimerEvent(REFRESH_TIMER), back + MIN)
    assert _frames(step) == [alc.RefreshRequest()]
    assert not _closed(m, 2)
    # the ESME re-establishes the state (switch 1 opened meanwhile by the supplier)
    _send(m, alc.SetState(1, False), back + 2 * MIN)
    step = _send(m, alc.SetState(2, True), back + 2 * MIN)
    assert not _closed(m, 1) and not _closed(m, 2)
    _run_timers(m, step, back + timedelta(hours=1))
    # the restore delay ends at +5 (the old request still in effect until the new one starts)
    assert switch_timeline_of(m.nvm, 2)[-1] == (back + 5 * MIN, True)
    step = m.step(TimerEvent(REFRESH_TIMER), back + 3 * MIN)
    assert _frames(step) == []  # refresh done


def test_hold_up_keeps_the_switch_through_a_loss() -> None:
    m = _machine(HcalcConfig(hold_up=True))
    _send(m, alc.SetState(1, True), T0)
    m.step(LineEvent("power", False), T0 + MIN)
    assert _closed(m)
    m.step(LineEvent("power", True), T0 + 2 * MIN)
    assert _closed(m)


def test_frames_for_unknown_switch_and_wrong_port_change_nothing() -> None:
    m = _machine()
    before = dict(m.nvm)
    step = _send(m, alc.SetState(9, True), T0)
    assert step.writes == {} and dict(m.nvm) == before
    step = _send(m, alc.Boost(1, 30), T0, ALC_PORT)  # a boost is the consumer's, not the ESME's
    assert dict(m.nvm) == before


def test_malformed_frame_raises_and_changes_nothing() -> None:
    m = _machine()
    before: Mapping[str, bytes] = dict(m.nvm)
    with pytest.raises(DecodeError):
        m.step(MessageEvent(ALC_PORT, b"\x01\x19\x01\x01"), T0)
    assert dict(m.nvm) == before


frames = st.one_of(
    st.builds(
        alc.SetState,
        st.integers(0, 255),
        st.booleans(),
        st.none() | st.integers(0, alc.NO_DURATION - 1),
        st.booleans(),
    ),
    st.just(alc.RefreshRequest()),
    st.builds(alc.OverrideNotice, st.integers(0, 255), st.booleans()),
    st.builds(alc.StateResult, st.integers(0, 255), st.booleans()),
    st.builds(alc.Boost, st.integers(0, 255), st.integers(0, 0xFFFF)),
    st.builds(alc.Test, st.integers(0, 255)),
)


@given(frames)
def test_frame_round_trip(frame: alc.AlcFrame) -> None:
    assert alc.decode_exact(alc.encode(frame)) == frame


@given(st.binary(max_size=16))
def test_random_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        frame = alc.decode_exact(data)
    except DecodeError:
        return
    assert alc.encode(frame) == data
