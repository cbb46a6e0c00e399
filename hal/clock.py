"""Clocks: the time a device lives in, virtual (deterministic, accelerated, jumpable) or wall.

Layer: hal. Firmware never reads the time itself; devices pass it ``clock.now()`` and turn timer
requests into :meth:`Clock.call_at`. :class:`VirtualClock` starts at a chosen instant, runs at a
speed factor (0 stands still) and jumps forward; timers fire in order of their instant, ties in
the order they were set, so a run is reproducible. :class:`WallClock` is real UTC time.
"""

from __future__ import annotations

import abc
import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from smemu.errors import HalError

__all__ = ["Clock", "TimerHandle", "VirtualClock", "WallClock"]

log = logging.getLogger(__name__)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise HalError(f"expected a timezone-aware instant, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


class TimerHandle:
    """A timer set with :meth:`Clock.call_at`; :meth:`cancel` stops it from firing."""

    __slots__ = ("_on_cancel", "callback", "cancelled", "fired", "when")

    def __init__(
        self,
        when: datetime,
        callback: Callable[[], None],
        on_cancel: Callable[[TimerHandle], None] | None = None,
    ) -> None:
        self.when = when  #: the instant the timer is due (UTC)
        self.callback = callback
        self.cancelled = False
        self.fired = False
        self._on_cancel = on_cancel

    def cancel(self) -> None:
        """Stop the timer (no effect once it fired)."""
        if self.cancelled or self.fired:
            return
        self.cancelled = True
        if self._on_cancel is not None:
            self._on_cancel(self)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else "fired" if self.fired else "pending"
        return f"<TimerHandle {self.when.isoformat()} {state}>"


class Clock(abc.ABC):
    """The time source of a device. Instants are timezone-aware UTC datetimes."""

    @abc.abstractmethod
    def now(self) -> datetime:
        """The current instant (UTC, timezone-aware)."""

    @abc.abstractmethod
    def call_at(self, instant: datetime, callback: Callable[[], None]) -> TimerHandle:
        """Call ``callback()`` once the clock reaches ``instant`` (at once if already past).

        Callbacks run on the event loop (or inside :meth:`VirtualClock.jump_to`); exceptions
        they raise are logged and do not stop other timers.
        """

    async def sleep_until(self, instant: datetime) -> None:
        """Return once the clock reached ``instant``."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not done.done():
                done.set_result(None)

        handle = self.call_at(instant, wake)
        try:
            await done
        finally:
            handle.cancel()

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of this clock's time."""
        await self.sleep_until(self.now() + timedelta(seconds=seconds))


def _run(handle: TimerHandle) -> None:
    handle.fired = True
    try:
        handle.callback()
    except Exception:
        log.exception("timer callback %r failed", handle.callback)


class VirtualClock(Clock):
    """Simulated time: starts at ``start``, advances at ``speed`` x real time, jumps forward.

    With ``speed=0`` time stands still and moves only by :meth:`advance` / :meth:`jump_to`,
    which fire every timer due on the way, in order, each seeing :meth:`now` equal to its own
    instant. With ``speed > 0`` timers also fire on the running event loop as real time passes.
    """

    def __init__(self, start: datetime, *, speed: float = 1.0) -> None:
        if speed < 0:
            raise HalError(f"clock speed must be >= 0, got {speed}")
        self._base = _aware(start)
        self._anchor = time.monotonic()
        self._speed = float(speed)
        self._timers: list[tuple[datetime, int, TimerHandle]] = []
        self._order = itertools.count()
        self._pinned: datetime | None = None  # the instant shown while a jump fires timers
        self._jumping = False
        self._wakeup: asyncio.Handle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def speed(self) -> float:
        """Simulated seconds per real second (0: stands still)."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on, without moving the current instant."""
        if speed < 0:
            raise HalError(f"clock speed must be >= 0, got {speed}")
        self._base, self._anchor = self.now(), time.monotonic()
        self._speed = float(speed)
        self._arm()

    def now(self) -> datetime:
        """The simulated instant."""
        if self._pinned is not None:
            return self._pinned
        if self._speed == 0.0:
            return self._base
        elapsed = (time.monotonic() - self._anchor) * self._speed
        return self._base + timedelta(seconds=elapsed)

    def call_at(self, instant: datetime, callback: Callable[[], None]) -> TimerHandle:
        """Set a timer; see :meth:`Clock.call_at`."""
        handle = TimerHandle(_aware(instant), callback, self._cancelled)
        heapq.heappush(self._timers, (handle.when, next(self._order), handle))
        self._arm()
        return handle

    def pending(self) -> list[TimerHandle]:
        """Timers not yet fired nor cancelled, in firing order."""
        return [h for _, _, h in sorted(self._timers) if not h.cancelled]

    def next_due(self) -> datetime | None:
        """The instant of the next pending timer, if any."""
        self._discard_cancelled()
        return self._timers[0][0] if self._timers else None

    def advance(self, delta: timedelta | float) -> int:
        """Move time forward by ``delta`` (a timedelta or seconds); return timers fired."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        return self.jump_to(self.now() + delta)

    def jump_to(self, instant: datetime) -> int:
        """Move time forward to ``instant``, firing due timers in order; return how many.

        :raises HalError: if ``instant`` is in the past, or when called from a timer callback.
        """
        target = _aware(instant)
        if self._jumping:
            raise HalError("jump_to called from a timer callback")
        current = self.now()
        if target < current:
            raise HalError(
                f"time moves forward only: now {current.isoformat()}, asked {target.isoformat()}"
            )
        fired = 0
        shown = current
        self._jumping = True
        try:
            while True:
                self._discard_cancelled()
                if not self._timers or self._timers[0][0] > target:
                    break
                when, _, handle = heapq.heappop(self._timers)
                shown = max(when, shown)
                self._pinned = shown
                _run(handle)
                fired += 1
        finally:
            self._pinned = None
            self._jumping = False
            self._base, self._anchor = target, time.monotonic()
        self._arm()
        return fired

    # -- real-time firing when speed > 0 -------------------------------------------------

    def _cancelled(self, handle: TimerHandle) -> None:
        if self._timers and self._timers[0][2] is handle:
            self._arm()

    def _discard_cancelled(self) -> None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)

    def _arm(self) -> None:
        """(Re)schedule the loop wake-up for the earliest timer when time runs by itself."""
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        if self._jumping:
            return
        self._discard_cancelled()
        if not self._timers:
            return
        loop: asyncio.AbstractEventLoop | None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = self._loop
        if loop is None or loop.is_closed():
            return
        self._loop = loop
        if self._speed == 0.0:
            if self._timers[0][0] <= self._base:
                self._wakeup = loop.call_soon(self._fire_due)
            return
        seconds = (self._timers[0][0] - self.now()).total_seconds() / self._speed
        self._wakeup = loop.call_later(max(seconds, 0.0), self._fire_due)

    def _fire_due(self) -> None:
        self._wakeup = None
        now = self.now()
        self._jumping = True
        try:
            while True:
                self._discard_cancelled()
                if not self._timers or self._timers[0][0] > now:
                    break
                _, _, handle = heapq.heappop(self._timers)
                _run(handle)
        finally:
            self._jumping = False
        self._arm()


class WallClock(Clock):
    """Real time: :func:`datetime.now` in UTC; timers on the running event loop."""

    def now(self) -> datetime:
        """The current UTC instant."""
        return datetime.now(UTC)

    def call_at(self, instant: datetime, callback: Callable[[], None]) -> TimerHandle:
        """Set a timer; see :meth:`Clock.call_at`. Needs a running event loop."""
        loop = asyncio.get_running_loop()
        inner: list[asyncio.TimerHandle] = []
        handle = TimerHandle(_aware(instant), callback, lambda _: inner[0].cancel())

        def check() -> None:
            # The wall clock may have been stepped since the timer was set: re-check.
            remaining = (handle.when - self.now()).total_seconds()
            if remaining > 0:
                inner[0] = loop.call_later(remaining, check)
            elif not handle.cancelled:
                _run(handle)

        inner.append(loop.call_later(max((handle.when - self.now()).total_seconds(), 0.0), check))
        return handle
