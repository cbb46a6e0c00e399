"""Clocks: virtual time ordering, jumps, speed; the wall clock behind the same interface."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from smemu.errors import HalError
from smemu.hal.clock import Clock, VirtualClock, WallClock

pytestmark = pytest.mark.timeout(30)

START = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)


def test_a_still_clock_stands_still_and_jumps_fire_timers_in_order() -> None:
    clock = VirtualClock(START, speed=0)
    seen: list[tuple[str, datetime]] = []
    for name, seconds in [("c", 30), ("a", 10), ("b", 20), ("a2", 10), ("late", 100)]:
        when = START + timedelta(seconds=seconds)
        clock.call_at(when, lambda n=name: seen.append((n, clock.now())))
    assert clock.now() == START
    assert clock.advance(25) == 3
    # ties fire in the order they were set; each callback sees its own instant
    assert seen == [
        ("a", START + timedelta(seconds=10)),
        ("a2", START + timedelta(seconds=10)),
        ("b", START + timedelta(seconds=20)),
    ]
    assert clock.now() == START + timedelta(seconds=25)
    assert clock.next_due() == START + timedelta(seconds=30)
    clock.jump_to(START + timedelta(days=1))
    assert [n for n, _ in seen] == ["a", "a2", "b", "c", "late"]
    assert clock.pending() == []


def test_timers_set_by_a_timer_fire_within_the_same_jump_never_going_back() -> None:
    clock = VirtualClock(START, speed=0)
    seen: list[datetime] = []

    def first() -> None:
        seen.append(clock.now())
        clock.call_at(clock.now() + timedelta(seconds=5), lambda: seen.append(clock.now()))
        clock.call_at(START, lambda: seen.append(clock.now()))  # already due

    clock.call_at(START + timedelta(seconds=10), first)
    assert clock.advance(timedelta(minutes=1)) == 3
    assert seen == [START + timedelta(seconds=s) for s in (10, 10, 15)]
    assert seen == sorted(seen)


def test_the_same_schedule_gives_the_same_firing_order() -> None:
    def run() -> list[int]:
        clock = VirtualClock(START, speed=0)
        order: list[int] = []
        for i in range(200):
            clock.call_at(START + timedelta(seconds=(i * 7919) % 37), lambda i=i: order.append(i))
        clock.advance(3600)
        return order

    first = run()
    assert first == run()
    assert len(first) == 200


def test_cancelled_timers_do_not_fire() -> None:
    clock = VirtualClock(START, speed=0)
    fired: list[str] = []
    keep = clock.call_at(START + timedelta(seconds=1), lambda: fired.append("keep"))
    drop = clock.call_at(START + timedelta(seconds=1), lambda: fired.append("drop"))
    drop.cancel()
    clock.advance(2)
    assert fired == ["keep"]
    assert keep.fired and drop.cancelled and not drop.fired
    keep.cancel()  # after firing: no effect
    assert not keep.cancelled


def test_time_moves_forward_only_and_instants_must_be_aware() -> None:
    clock = VirtualClock(START, speed=0)
    with pytest.raises(HalError, match="forward"):
        clock.jump_to(START - timedelta(seconds=1))
    with pytest.raises(HalError, match="aware"):
        clock.jump_to(datetime(2024, 1, 1))
    with pytest.raises(HalError, match="aware"):
        VirtualClock(datetime(2024, 1, 1))
    with pytest.raises(HalError):
        VirtualClock(START, speed=-1)


def test_a_callback_may_not_jump_and_a_failing_callback_does_not_stop_others() -> None:
    clock = VirtualClock(START, speed=0)
    fired: list[str] = []

    def bad() -> None:
        raise RuntimeError("boom")

    def jumper() -> None:
        with pytest.raises(HalError, match="callback"):
            clock.advance(1)
        fired.append("jumper")

    clock.call_at(START + timedelta(seconds=1), bad)
    clock.call_at(START + timedelta(seconds=2), jumper)
    clock.call_at(START + timedelta(seconds=3), lambda: fired.append("after"))
    assert clock.advance(5) == 3
    assert fired == ["jumper", "after"]


def test_an_accelerated_clock_runs_timers_on_the_event_loop() -> None:
    async def main() -> None:
        clock = VirtualClock(START, speed=3600)  # an hour per second
        fired: list[datetime] = []
        clock.call_at(START + timedelta(minutes=6), lambda: fired.append(clock.now()))
        await clock.sleep_until(START + timedelta(minutes=3))
        assert clock.now() >= START + timedelta(minutes=3)
        assert fired == []
        await clock.sleep(180)
        await asyncio.sleep(0.05)
        assert len(fired) == 1 and fired[0] >= START + timedelta(minutes=6)
        clock.set_speed(0)
        frozen = clock.now()
        await asyncio.sleep(0.02)
        assert clock.now() == frozen

    asyncio.run(main())


def test_a_jump_wakes_sleepers_of_a_still_clock() -> None:
    async def main() -> None:
        clock = VirtualClock(START, speed=0)
        sleeper = asyncio.ensure_future(clock.sleep_until(START + timedelta(days=30)))
        await asyncio.sleep(0.01)
        assert not sleeper.done()
        clock.advance(timedelta(days=31))
        await asyncio.wait_for(sleeper, 1)
        # a timer already due fires soon even though time stands still
        done = asyncio.Event()
        clock.call_at(START, done.set)
        await asyncio.wait_for(done.wait(), 1)

    asyncio.run(main())


@pytest.mark.parametrize("make", [WallClock, lambda: VirtualClock(START, speed=1.0)])
def test_both_clocks_share_one_interface(make: object) -> None:
    async def main() -> None:
        clock = make()  # type: ignore[operator]
        assert isinstance(clock, Clock)
        now = clock.now()
        assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
        order: list[int] = []
        clock.call_at(now + timedelta(milliseconds=40), lambda: order.append(2))
        clock.call_at(now + timedelta(milliseconds=20), lambda: order.append(1))
        handle = clock.call_at(now + timedelta(milliseconds=30), lambda: order.append(99))
        handle.cancel()
        await clock.sleep(0.08)
        assert order == [1, 2]
        assert clock.now() - now >= timedelta(milliseconds=80)

    asyncio.run(main())
