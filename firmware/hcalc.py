"""HcalcMachine: the HAN-connected auxiliary load control switch (HCALC).

Layer: firmware. Behaviour of seed 004 (product.md, normative for us), timing by the
register engine's :func:`~smemu.firmware.registers.switch_timeline` (same semantics as the
ESME's ALCS).

Theory of operation ------------------- The HCALC holds N switches (configuration
``hcalc/config``: count, per-switch delay timer 1-1440 minutes, per-switch calendar with its
random offset limit, the random seed, fixed "no override" periods, ``hold_up``). Everything
that ever decides a switch's state is kept as a list of
:class:`~smemu.firmware.registers.loadcontrol.SwitchCommand` per switch
(``hcalc/cmds/<n>``): ad hoc state changes from the ESME (HECS01 ``SetState``: later ones
supersede earlier ones, an optional duration then revert), boosts (15-minute steps up to 60
minutes per override however often the button is pressed, refused in a "no override" period
-- a fixed one or an ESME command sent with "override allowed" false; an ESME command
supersedes a boost and so ends the override when it takes effect), tests (flip for five
minutes, then back to the calendar), supply loss (fail open, unless ``hold_up``) and
restore. The state at any instant is the engine's timeline of those inputs; the machine
keeps one ``switch`` timer at the next change, records every change in
``hcalc/timeline/<n>`` (what tests read, :func:`switch_timeline_of`) and tells the ESME when
a boost starts and ends (``OverrideNotice``). On power restore it asks the ESME for a
refresh (``RefreshRequest``) and repeats every minute until a ``SetState`` arrives. CS08
answers the firmware version; CS03A2 / CS04AC join and unjoin the ESME
(:mod:`~smemu.firmware.hcalc_joins`). ECS35g reads the ESME's own Auxiliary Controller Event
Log, where the ESME records what it sent here and what this machine answered or notified
(:mod:`smemu.firmware.esme_han`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from smemu.errors import ConfigError
from smemu.firmware import hcalc_frames as alc
from smemu.firmware import hcalc_joins
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.machine import DeviceType, LineEvent, MessageEvent, TimerEvent, Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.ppmid_firmware import CS08, FIRMWARE_VERSION, read_firmware_version
from smemu.firmware.registers import switch_timeline
from smemu.firmware.registers.loadcontrol import (
    BOOST_MAX,
    BOOST_STEP,
    SwitchCalendar,
    SwitchCommand,
)

CONFIG: Final = "hcalc/config"
CMDS: Final = "hcalc/cmds/"
TIMELINE: Final = "hcalc/timeline/"
STATE: Final = "hcalc/switch/"
BOOST_END: Final = "hcalc/boost_end/"
BOOST_CAP: Final = "hcalc/boost_cap/"  #: the current override's latest end (start + 60 min)
REFRESH_PENDING: Final = "hcalc/refresh_pending"
ALC_PORT: Final = "alc"
UI_PORT: Final = "ui"
SWITCH_TIMER: Final = "switch"
REFRESH_TIMER: Final = "refresh"
REFRESH_RETRY: Final = timedelta(minutes=1)
_HORIZON: Final = 8 * 86400
_KEEP_COMMANDS: Final = 64
_KEEP_TIMELINE: Final = 512
_FAR: Final = 1 << 62
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_OPEN_WEEK: Final = ((),) * 7


@dataclass(frozen=True, slots=True)
class HcalcConfig:
    """The HCALC's configuration (NVM ``hcalc/config``)."""

    switches: int = 2
    delay_minutes: tuple[int, ...] = (0, 0)  #: per switch; 0 = none, else 1..1440
    calendars: tuple[SwitchCalendar, ...] = (SwitchCalendar(_OPEN_WEEK), SwitchCalendar(_OPEN_WEEK))
    seed: int = 0
    no_override: tuple[tuple[int, int], ...] = ()  #: fixed (start, end) UTC seconds
    hold_up: bool = False  #: switches hold their state through a supply loss

    def __post_init__(self) -> None:
        if not 1 <= self.switches <= 8:
            raise ConfigError("an HCALC has 1..8 switches")
        if len(self.delay_minutes) != self.switches or len(self.calendars) != self.switches:
            raise ConfigError("one delay timer and one calendar per switch")
        for d in self.delay_minutes:
            if d and not 1 <= d <= 1440:
                raise ConfigError(f"delay timer is 1..1440 minutes, got {d}")

    def to_json(self) -> dict[str, object]:
        return {
            "switches": self.switches,
            "delay_minutes": list(self.delay_minutes),
            "calendars": [
                {"days": [[list(e) for e in day] for day in c.days], "limit": c.random_offset_limit}
                for c in self.calendars
            ],
            "seed": self.seed,
            "no_override": [list(p) for p in self.no_override],
            "hold_up": self.hold_up,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> HcalcConfig:
        cals = raw["calendars"]
        assert isinstance(cals, list)
        calendars = tuple(
            SwitchCalendar(
                tuple(tuple((int(m), bool(c)) for m, c in day) for day in cal["days"]),
                int(cal["limit"]),
            )
            for cal in cals
        )
        delays = raw["delay_minutes"]
        periods = raw["no_override"]
        assert isinstance(delays, list) and isinstance(periods, list)
        return cls(
            int(str(raw["switches"])),
            tuple(int(d) for d in delays),
            calendars,
            int(str(raw["seed"])),
            tuple((int(a), int(b)) for a, b in periods),
            bool(raw["hold_up"]),
        )


def _secs(t: datetime) -> int:
    return int((t - _EPOCH).total_seconds())


def _cmd_json(c: SwitchCommand, allowed: bool = True) -> list[object]:
    return [c.t, c.kind, c.closed, c.duration, c.delay_minutes, allowed]


def switch_timeline_of(nvm: Mapping[str, bytes], switch: int) -> list[tuple[datetime, bool]]:
    """The recorded (instant, closed) changes of ``switch`` (1-based), oldest first."""
    raw = nvm.get(f"{TIMELINE}{switch}")
    if raw is None:
        return []
    return [(_EPOCH + timedelta(seconds=t), bool(c)) for t, c in json.loads(raw)]


class HcalcMachine(CommandMachine):
    """HAN-connected auxiliary load control switch."""

    device_type = DeviceType.HCALC
    HANDLERS: ClassVar = {CS08: "cs08", **dict.fromkeys(hcalc_joins.HANDLERS, "asn1_join")}
    UPLINK: ClassVar = "han"

    # ------------------------------------------------------------------ NVM helpers

    @staticmethod
    def config(tx: Tx) -> HcalcConfig:
        raw = tx.get_json(CONFIG)
        if not isinstance(raw, dict):
            return HcalcConfig()
        return HcalcConfig.from_json(raw)

    @staticmethod
    def configure(tx: Tx, config: HcalcConfig) -> None:
        """Store a new configuration (a commissioning step; the device layer calls it)."""
        tx.put_json(CONFIG, config.to_json())

    def _commands(self, tx: Tx, n: int) -> list[tuple[SwitchCommand, bool]]:
        raw = tx.get_json(f"{CMDS}{n}", [])
        assert isinstance(raw, list)
        return [(SwitchCommand(t, k, bool(c), d, int(dm)), bool(a)) for t, k, c, d, dm, a in raw]

    def _add(self, tx: Tx, n: int, cmd: SwitchCommand, allowed: bool = True) -> None:
        cmds = self._commands(tx, n)
        cmds.append((cmd, allowed))
        tx.put_json(f"{CMDS}{n}", [_cmd_json(c, a) for c, a in cmds[-_KEEP_COMMANDS:]])

    def _no_override(self, tx: Tx, n: int, config: HcalcConfig) -> tuple[tuple[int, int], ...]:
        """The "no override" periods of switch ``n``: configured ones and those of ESME
        commands sent with "override allowed" false."""
        periods = list(config.no_override)
        cmds = self._commands(tx, n)
        for i, (c, allowed) in enumerate(cmds):
            if c.kind == "adhoc" and not allowed:
                start = c.t + c.delay_minutes * 60
                end = start + c.duration if c.duration is not None else _FAR
                later = [x.t for x, _a in cmds[i + 1 :] if x.kind == "adhoc"]
                periods.append((start, min([end, *later])))
        return tuple(periods)

    def _timeline(self, tx: Tx, n: int, t_from: int, t_to: int) -> list[tuple[int, bool]]:
        config = self.config(tx)
        # A boost is stored with the exact length :meth:`boost` granted it (15-minute steps,
        # cut at the override's 60-minute cap and at a "no override" period): it reaches the
        # engine as the closing command it is, which keeps that length instead of rounding
        # it up to a quarter hour again; later commands supersede it all the same.
        cmds = [
            SwitchCommand(c.t, "adhoc", True, c.duration) if c.kind == "boost" else c
            for c, _a in self._commands(tx, n)
        ]
        return switch_timeline(
            config.calendars[n - 1],
            t_from,
            t_to,
            cmds,
            switch=n,
            seed=config.seed,
            no_override=self._no_override(tx, n, config),
        )

    # ------------------------------------------------------------------ state

    def refresh_states(self, tx: Tx) -> None:
        """Recompute every switch's state now, record changes, re-arm the switch timer."""
        now = _secs(tx.now)
        config = self.config(tx)
        next_change: int | None = None
        for n in range(1, config.switches + 1):
            line = self._timeline(tx, n, now, now + _HORIZON)
            closed = line[0][1] if line else False
            old = tx.get(f"{STATE}{n}")
            if old is None or bool(old[-1]) != closed:
                tx.put(f"{STATE}{n}", bytes((closed,)))
                self._record(tx, n, now, closed)
                tx.log("event", f"ALCS {n} {'closed' if closed else 'opened'}")
            if len(line) > 1:
                at = line[1][0]
                next_change = at if next_change is None else min(next_change, at)
            self._boost_end(tx, n, now)
            end = tx.get(f"{BOOST_END}{n}")
            if end is not None:
                until = int.from_bytes(end, "big")
                next_change = until if next_change is None else min(next_change, until)
        tx.timer(
            SWITCH_TIMER,
            None if next_change is None else _EPOCH + timedelta(seconds=next_change),
        )

    def _record(self, tx: Tx, n: int, t: int, closed: bool) -> None:
        raw = tx.get_json(f"{TIMELINE}{n}", [])
        assert isinstance(raw, list)
        raw.append([t, int(closed)])
        tx.put_json(f"{TIMELINE}{n}", raw[-_KEEP_TIMELINE:])

    def _boost_end(self, tx: Tx, n: int, now: int) -> None:
        end = tx.get(f"{BOOST_END}{n}")
        if end is None:
            return
        until = int.from_bytes(end, "big")
        if now >= until or not self.closed(tx, n):
            tx.delete(f"{BOOST_END}{n}")
            tx.delete(f"{BOOST_CAP}{n}")
            self._notify(tx, alc.OverrideNotice(n, False))
            tx.log("event", f"ALCS {n} override ended")

    def closed(self, tx: Tx, n: int) -> bool:
        raw = tx.get(f"{STATE}{n}")
        return bool(raw and raw[-1])

    def _notify(self, tx: Tx, frame: alc.AlcFrame) -> None:
        tx.send(ALC_PORT, alc.encode(frame))

    # ------------------------------------------------------------------ events

    def on_boot(self, tx: Tx) -> None:
        if tx.get(FIRMWARE_VERSION) is None:
            tx.put(FIRMWARE_VERSION, bytes.fromhex("03000000"))
        if tx.get(CONFIG) is None:
            self.configure(tx, HcalcConfig())
        config = self.config(tx)
        now = _secs(tx.now)
        was_lost = any(
            (cmds := self._commands(tx, n)) and cmds[-1][0].kind == "loss"
            for n in range(1, config.switches + 1)
        )
        if was_lost:
            # 8.4.2.1 restoration: open (delay timer), then ask the ESME to refresh.
            for n in range(1, config.switches + 1):
                restore = SwitchCommand(now, "restore", False, None, config.delay_minutes[n - 1])
                self._add(tx, n, restore)
            tx.log("event", "supply restored: refresh requested")
            tx.put_int(REFRESH_PENDING, 1)
        if tx.get_int(REFRESH_PENDING):
            self._notify(tx, alc.RefreshRequest())
            tx.timer(REFRESH_TIMER, tx.now + REFRESH_RETRY)
        self.refresh_states(tx)

    def on_line(self, tx: Tx, event: LineEvent) -> None:
        if event.line != "power" or event.active:
            super().on_line(tx, event)
            return
        config = self.config(tx)
        tx.log("event", "supply lost" + (" (hold up)" if config.hold_up else ": switches open"))
        now = _secs(tx.now)
        for n in range(1, config.switches + 1):
            if config.hold_up:
                continue
            self._add(tx, n, SwitchCommand(now, "loss", False))
            if self.closed(tx, n):
                tx.put(f"{STATE}{n}", b"\x00")
                self._record(tx, n, now, False)
        if not config.hold_up:
            for n in range(1, config.switches + 1):
                if tx.get(f"{BOOST_END}{n}") is not None:
                    tx.delete(f"{BOOST_END}{n}")
                    tx.delete(f"{BOOST_CAP}{n}")
        tx.timer(SWITCH_TIMER, None)
        tx.timer(REFRESH_TIMER, None)

    def on_timer(self, tx: Tx, event: TimerEvent) -> None:
        if event.name == SWITCH_TIMER:
            self.refresh_states(tx)
        elif event.name == REFRESH_TIMER and tx.get_int(REFRESH_PENDING):
            self._notify(tx, alc.RefreshRequest())  # 8.5.3.1: repeat if no response
            tx.timer(REFRESH_TIMER, tx.now + REFRESH_RETRY)
        else:
            super().on_timer(tx, event)

    def on_message(self, tx: Tx, event: MessageEvent) -> None:
        if event.port not in (ALC_PORT, UI_PORT):
            super().on_message(tx, event)
            return
        frame = alc.decode_exact(event.data)
        config = self.config(tx)
        switch = getattr(frame, "switch", 1)
        if not 1 <= switch <= config.switches:
            tx.log("event", f"frame for unknown ALCS {switch} ignored")
            return
        if event.port == ALC_PORT and isinstance(frame, alc.SetState):
            self.set_state(tx, frame, config)
        elif event.port == UI_PORT and isinstance(frame, alc.Boost):
            self.boost(tx, frame)
        elif event.port == UI_PORT and isinstance(frame, alc.Test):
            self._add(tx, frame.switch, SwitchCommand(_secs(tx.now), "test"))
            tx.log("event", f"ALCS {frame.switch} test")
            self.refresh_states(tx)
        else:
            tx.log("trace", f"{type(frame).__name__} on {event.port} ignored")

    def set_state(self, tx: Tx, frame: alc.SetState, config: HcalcConfig) -> None:
        """8.5.2: open / close switch [n], optionally for a duration (later ones supersede)."""
        n = frame.switch
        cmd = SwitchCommand(
            _secs(tx.now), "adhoc", frame.closed, frame.duration, config.delay_minutes[n - 1]
        )
        self._add(tx, n, cmd, frame.override_allowed)
        self._supersede_boost(tx, n, cmd.t + cmd.delay_minutes * 60)
        if tx.get_int(REFRESH_PENDING):
            tx.delete(REFRESH_PENDING)
            tx.timer(REFRESH_TIMER, None)
        tx.log("event", f"ALCS {n} state change request: {'close' if frame.closed else 'open'}")
        self._notify(tx, alc.StateResult(n, True))
        self.refresh_states(tx)

    def _supersede_boost(self, tx: Tx, n: int, at: int) -> None:
        """An ESME command taking effect at ``at`` supersedes a boost in progress on switch
        ``n`` (8.5.2): the override ends then -- at once when the command has no delay --
        and is notified then, whether or not the switch opens (seed 004: no override in a
        "no override" period; 8.9.2.1 notify when an override ends)."""
        end = tx.get(f"{BOOST_END}{n}")
        if end is not None and at < int.from_bytes(end, "big"):
            tx.put(f"{BOOST_END}{n}", at.to_bytes(8, "big"))

    def boost(self, tx: Tx, frame: alc.Boost) -> bool:
        """8.8.1 self-managed override: 15-minute steps up to 60 minutes, never in a
        "no override" period. Returns whether it was accepted.

        The 60 minutes are the override's, not the press's: a press during an override
        re-times it from now (later commands supersede earlier ones) but never past 60
        minutes from the override's start. Start and end of an override are notified once
        each, not on every press."""
        n = frame.switch
        now = _secs(tx.now)
        self._boost_end(tx, n, now)  # an override whose end is due is over before the press
        periods = self._no_override(tx, n, self.config(tx))
        raw_cap = tx.get(f"{BOOST_CAP}{n}")
        cap = now + BOOST_MAX if raw_cap is None else int.from_bytes(raw_cap, "big")
        if frame.minutes <= 0 or any(a <= now < b for a, b in periods):
            tx.log("event", f"ALCS {n} boost refused")
            return False
        seconds = min(-(-frame.minutes * 60 // BOOST_STEP) * BOOST_STEP, BOOST_MAX)
        end = min([now + seconds, cap, *(a for a, _b in periods if now < a < now + seconds)])
        self._add(tx, n, SwitchCommand(now, "boost", True, end - now))
        tx.put(f"{BOOST_END}{n}", end.to_bytes(8, "big"))
        if raw_cap is None:
            tx.put(f"{BOOST_CAP}{n}", cap.to_bytes(8, "big"))
            tx.log("event", f"ALCS {n} override started for {(end - now) // 60} minutes")
            self._notify(tx, alc.OverrideNotice(n, True))
        else:
            tx.log("event", f"ALCS {n} override extended to {(end - now) // 60} more minutes")
        self.refresh_states(tx)
        return True

    # ------------------------------------------------------------------ GBCS

    def cs08(self, tx: Tx, accepted: Accepted) -> bytes:
        return read_firmware_version(self.credentials, tx, accepted)

    def asn1_join(self, tx: Tx, accepted: Accepted) -> bytes | None:
        """CS03A2 / CS04AC (:mod:`~smemu.firmware.hcalc_joins`)."""
        code = accepted.command.header.other_information.message_code
        return hcalc_joins.HANDLERS[code](self, tx, accepted)
