"""Running a premises until told to stop: signals, periodic saves, a status snapshot.

Layer: devices. :func:`run_premises` starts a :class:`~smemu.devices.premises.Premises`,
calls ``on_started`` once its ports are open, calls ``on_tick`` with a :class:`Status`
about twice a second, saves ``premises.json`` (with the simulated time) every few
seconds, and stops cleanly on SIGINT or SIGTERM (or when ``stop`` is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from smemu.devices.premises import Premises

TICK_S: Final = 0.5
SAVE_EVERY_TICKS: Final = 10


@dataclass(frozen=True, slots=True)
class Status:
    """A snapshot for a status line."""

    sim_time: datetime
    wan_in: int
    wan_out: int
    alerts: int
    rejected: int
    bad_input: int


def status_of(premises: Premises) -> Status:
    alerts = rejected = bad = 0
    for device in premises.devices.values():
        rejected += device.stats["rejected"]
        bad += device.stats["bad_input"]
    alerts = premises.stats["wan_alerts"]
    return Status(
        premises.clock.now(),
        premises.stats["wan_in"],
        premises.stats["wan_out"],
        alerts,
        rejected,
        bad + premises.stats["wan_dropped_bytes"],
    )


async def run_premises(
    premises: Premises,
    *,
    on_started: Callable[[Premises], None] | None = None,
    on_tick: Callable[[Status], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until SIGINT/SIGTERM or ``stop``; always stops the premises cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await premises.start()
        if on_started is not None:
            on_started(premises)
        ticks = 0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_S)
            ticks += 1
            if on_tick is not None:
                on_tick(status_of(premises))
            if ticks % SAVE_EVERY_TICKS == 0:
                premises.save()
    finally:
        await premises.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
