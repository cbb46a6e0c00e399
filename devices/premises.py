"""Premises: a comms hub with its HAN devices, wired together and to a WAN port.

Layer: devices.

The CHF owns the WAN port (any hal URL: ``tcp://``, ``pty://``, ``serial://``,
``virtual://``, ``ichi://``); the byte stream is framed into whole GBCS messages by
:class:`~smemu.protocols.framing.wan.WanFramer`, each one step of the CHF. The HAN is an
in-process medium: a frame a device sends is handed to its destination on the next loop iteration
(never re-entrantly), the CHF addressing HAN devices by EUI and HAN devices always
talking to the CHF. The CHF and the GPF it hosts are joined by a point-to-point link.

State lives in a folder: one SQLite store per device, the PKI in ``keystore/``, and
``premises.json`` describing every device, its ports and the WAN URL, plus the simulated
time at the last save, so that a restart resumes the same premises at the same instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from smemu.devices.commissioning import commissioning_writes
from smemu.devices.config import PremisesConfig
from smemu.devices.device import Device, DeviceSpec
from smemu.devices.han import HanMedium, ZseLink
from smemu.devices.keys import Pki, add_devices, add_manufacturer, init_pki, load_pki
from smemu.errors import ConfigError, DecodeError, HalError, HalTimeout
from smemu.firmware import chf, gpf
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, Outgoing
from smemu.hal.clock import Clock, VirtualClock, WallClock
from smemu.hal.ports import LineEvent, LineEventKind, Port, open_port
from smemu.protocols.framing.wan import WanFramer
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra, Eui64

log = logging.getLogger(__name__)

STATE_FILE: Final = "premises.json"
KEYSTORE_DIR: Final = "keystore"
#: a partial WAN message older than this (real seconds) is discarded
WAN_IDLE_FLUSH_S: Final = 2.0

#: how premises.json names the in-process HAN (ZigBee SE Tunneling cluster frames)
HAN_MEDIUM: Final = "in-process zigbee-se tunnel"
#: ... the ZSE application frames: the ESME with the PPMID / HCALC, the GPF to the PPMID
ZSE_LINK: Final = "in-process zigbee-se"
#: ... a device's local user interface (keypad, buttons), driven by :meth:`Premises.press`
LOCAL_UI: Final = "local (Premises.press)"
#: every device type's ports as premises.json describes them (the CHF's WAN is added)
PORTS: Final[dict[DeviceType, dict[str, str]]] = {
    DeviceType.CHF: {"han": HAN_MEDIUM, "gpf": HAN_MEDIUM},
    DeviceType.GPF: {"chf": HAN_MEDIUM, "zse": ZSE_LINK},  # gas figures to the PPMIDs
    DeviceType.ESME: {"han": HAN_MEDIUM, "zse": ZSE_LINK, "alc": ZSE_LINK, "keypad": LOCAL_UI},
    DeviceType.GSME: {"han": HAN_MEDIUM},
    DeviceType.PPMID: {"han": HAN_MEDIUM, "zse": ZSE_LINK, "keypad": LOCAL_UI},
    DeviceType.HCALC: {"han": HAN_MEDIUM, "alc": ZSE_LINK, "ui": LOCAL_UI},
}
#: longest wait (real seconds) for the pumps to stop on :meth:`Premises.stop`
STOP_WAIT_S: Final = 2.0


def _reraise_cancel() -> None:
    """Re-raise a cancellation of the current task that a port turned into a HalError."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


#: a rig line event -> (line, active) as devices see it
LINES: Final = {
    LineEventKind.POWER_ON: ("power", True),
    LineEventKind.POWER_OFF: ("power", False),
    LineEventKind.TAMPER: ("tamper", True),
    LineEventKind.SEAL: ("tamper", False),
    LineEventKind.HOT_SHOE_PRESENT: ("hot_shoe", True),
    LineEventKind.HOT_SHOE_ABSENT: ("hot_shoe", False),
}

#: Observer of WAN traffic: (direction "in" / "out", GBCS bytes, simulated time).
WanObserver = Callable[[str, bytes, datetime], None]


def _listen_url(url: str) -> str:
    """A device's TCP WAN port listens unless the URL says otherwise."""
    if url.startswith("tcp://") and "mode=" not in url and "listen=" not in url:
        return url + ("&" if urlsplit(url).query else "?") + "mode=listen"
    return url


class Premises:
    """A running premises. Use ``async with Premises(...)`` or :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        config: PremisesConfig,
        state_dir: Path,
        *,
        wan: str | None = None,
        speed: float | str | None = "config",
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.state_dir = state_dir
        self.wan_url = _listen_url(wan or config.wan)
        self._speed = config.speed if speed == "config" else speed
        self._clock = clock
        self.devices: dict[Eui64, Device] = {}
        self.han: HanMedium | None = None
        #: the ESME's ZSE exchanges with the PPMID and HCALC
        self.zse = ZseLink(self.devices, self._tally)
        self.pki: Pki | None = None
        self.wan_port: Port | None = None
        self.framer = WanFramer()
        #: premises-wide counters: wan_in, wan_out, wan_dropped_bytes, han_frames ...
        self.stats: Counter[str] = Counter()
        self.observers: list[WanObserver] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._started = False

    # ----------------------------------------------------------------- properties

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            raise HalError("premises not started")
        return self._clock

    def device(self, kind: DeviceType) -> Device:
        """The (first) device of a type."""
        for device in self.devices.values():
            if device.spec.type is kind:
                return device
        raise KeyError(kind.value)

    @property
    def chf(self) -> Device:
        return self.device(DeviceType.CHF)

    # ----------------------------------------------------------------- lifecycle

    def _saved(self) -> dict[str, object]:
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return {}
        try:
            obj = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: unreadable ({exc})") from exc
        return obj if isinstance(obj, dict) else {}

    def _make_clock(self, saved: dict[str, object]) -> Clock:
        if self._speed is None:
            return WallClock()
        start = self.config.start
        sim = saved.get("sim_time")
        if isinstance(sim, str):
            start = max(start, datetime.fromisoformat(sim))
        return VirtualClock(start, speed=float(self._speed))

    def _open_pki(self) -> Pki:
        folder = self.state_dir / KEYSTORE_DIR
        wanted = {d.eui: d.type for d in self.config.devices}
        if folder.exists():
            pki = add_manufacturer(load_pki(folder), self.config.pki_seed)
            return add_devices(pki, wanted.items())
        return init_pki(folder, wanted, seed=self.config.pki_seed)

    def _provisioning(self, spec: DeviceSpec) -> Callable[[], dict[str, bytes]]:
        def make() -> dict[str, bytes]:
            if self.pki is None:
                raise HalError("PKI not loaded")
            writes = self.pki.provisioning(spec.eui)
            if spec.type is DeviceType.CHF:
                han = {
                    d.eui: d.type.value
                    for d in self.config.devices
                    if d.type not in (DeviceType.CHF, DeviceType.GPF)
                }
                gpfs = self.config.of_type(DeviceType.GPF)
                gsmes = self.config.of_type(DeviceType.GSME)
                if gpfs:
                    writes.update(
                        chf.join_writes(han, gpfs[0].eui, gsmes[0].eui if gsmes else None)
                    )
            if spec.type is DeviceType.GPF:
                gsmes = self.config.of_type(DeviceType.GSME)
                if gsmes:
                    writes[gpf.GSME_EUI] = bytes(gsmes[0].eui)
            writes.update(commissioning_writes(spec, self.config, self.pki, self.clock.now()))
            return writes

        return make

    async def start(self) -> None:
        """Open stores, keys and the WAN port; boot every device; write ``premises.json``."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        saved = self._saved()
        if self._clock is None:
            self._clock = self._make_clock(saved)
        self.pki = self._open_pki()
        try:
            for spec in self.config.devices:
                store = self.state_dir / f"{spec.name}-{spec.eui.hex()}.db"
                device = Device.open(spec, store, self.clock, self._provisioning(spec))
                device.connect(self._route)
                self.devices[spec.eui] = device
            medium = HanMedium(self.chf, self._tally)
            for device in self.devices.values():
                if device.spec.type is not DeviceType.CHF:
                    medium.attach(device)
            self.han = medium
            self.wan_port = open_port(self.wan_url)
            await self.wan_port.open()
        except BaseException:
            self._close_devices()
            raise
        self._started = True
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._wan_reader(), name="wan-reader"),
            loop.create_task(self._wan_writer(), name="wan-writer"),
        ]
        if self.wan_port.carries_line_events:
            self._tasks.append(loop.create_task(self._line_reader(), name="wan-lines"))
        for device in self.devices.values():
            device.boot()
        medium.join_all()
        self.save()

    async def stop(self) -> None:
        """Stop pumping, save the simulated time, close the port and every store."""
        if not self._started:
            return
        self._started = False
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.settle(), 1.0)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A port may swallow a cancellation racing its own timeout: do not wait forever.
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_WAIT_S)
            for task in stuck:
                log.warning("task %s did not stop", task.get_name())
        self._tasks = []
        self.save(running=False)
        if self.wan_port is not None:
            with contextlib.suppress(HalError, OSError):
                await self.wan_port.close()
        self._close_devices()

    def _close_devices(self) -> None:
        for device in self.devices.values():
            device.close()

    async def __aenter__(self) -> Premises:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ describe

    def wan_location(self) -> str:
        return self.wan_port.location if self.wan_port is not None else self.wan_url

    def describe(self, *, running: bool = True) -> dict[str, object]:
        """What ``premises.json`` holds."""
        pki = self.pki
        devices = []
        for device in self.devices.values():
            spec = device.spec
            ports = dict(PORTS.get(spec.type, {"han": HAN_MEDIUM}))
            if spec.type is DeviceType.CHF:
                ports = {"wan": self.wan_location(), **ports}
            devices.append(
                {
                    "type": spec.type.value,
                    "name": spec.name,
                    "eui": str(spec.eui),
                    "ports": ports,
                    "store": str(device.storage.path),
                }
            )
        clock = self._clock
        return {
            "name": self.config.name,
            "wan": {"url": self.wan_url, "location": self.wan_location()},
            "keystore": str(pki.folder.resolve()) if pki else None,
            "remote_parties": (
                {r.slug: str(e) for r, e in pki.remote_parties.items()} if pki else {}
            ),
            "acb": (
                str(pki.remote_parties[Role.ACCESS_CONTROL_BROKER])
                if pki and Role.ACCESS_CONTROL_BROKER in pki.remote_parties
                else None
            ),
            "devices": devices,
            "clock": {
                "kind": "wall" if isinstance(clock, WallClock) else "virtual",
                "speed": self._speed,
            },
            "sim_time": clock.now().isoformat() if clock is not None else None,
            "pid": os.getpid(),
            "running": running,
        }

    def save(self, *, running: bool = True) -> None:
        """Write ``premises.json`` atomically."""
        path = self.state_dir / STATE_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.describe(running=running), indent=2) + "\n")
        tmp.replace(path)

    # ------------------------------------------------------------------- routing

    def _tally(self, name: str) -> None:
        self.stats[name] += 1

    def _route(self, device: Device, out: Outgoing) -> None:
        """Where a device's output goes (the wiring of the premises)."""
        device.stats[f"out_{out.port}"] += 1
        medium = self.han
        kind = device.spec.type
        if self.zse.route(device, out):
            return
        if kind is DeviceType.CHF and out.port == "wan":
            self._send_wan(out.data)
        elif medium is None:
            self.stats["han_unroutable"] += 1
        elif kind is DeviceType.CHF and out.port == "han":
            if out.to is None:
                self.stats["han_unroutable"] += 1
            else:
                medium.from_hub(out.to, out.data)
        elif kind is DeviceType.CHF and out.port == "gpf":
            medium.from_hub(self.device(DeviceType.GPF).eui, out.data)
        elif kind is not DeviceType.CHF:
            medium.from_client(device.eui, out.data)

    # -------------------------------------------------------------- line events

    def line_event(self, event: LineEvent) -> None:
        """A rig line event on the WAN port: to the comms hub, and power also to the ESMEs.

        The comms hub takes its supply from the ESME it is seated on, so the rig's DC
        supply stands for the premises supply: switching it off is a supply outage for
        the ESMEs as well. A device whose power returns asks for its HAN tunnel again.
        """
        line, active = LINES[event.kind]
        self.stats[f"line_{event.kind.value}"] += 1
        targets = [self.chf]
        if line == "power":
            targets += [d for d in self.devices.values() if d.spec.type is DeviceType.ESME]
        for device in targets:
            was = device.powered
            device.line(line, active)
            if line == "power" and active and not was and self.han is not None:
                if device.spec.type is DeviceType.CHF:
                    self.han.join_all()
                else:
                    self.han.join(device.eui)

    async def _line_reader(self) -> None:
        port = self.wan_port
        if port is None:
            return
        while True:
            try:
                event = await port.read_line_event()
            except HalError:
                _reraise_cancel()
                if not port.is_open:
                    return
                await asyncio.sleep(0.05)
                continue
            self.line_event(event)

    def _send_wan(self, data: bytes) -> None:
        self.stats["wan_out"] += 1
        with contextlib.suppress(DecodeError):
            message = frame.locate(data).message
            cra = message.cra
            if cra is Cra.ALERT:
                self.stats["wan_alerts"] += 1
        now = self.clock.now()
        for observer in self.observers:
            observer("out", data, now)
        self._outbox.put_nowait(data)

    def press(self, kind: DeviceType, port: str, data: bytes) -> None:
        """A person uses a device's local interface: ``data`` arrives on its ``port``.

        The PPMID's ``keypad`` (:class:`~smemu.firmware.ppmid_keypad.KeypadEntry`), the
        HCALC's ``ui`` buttons (:mod:`~smemu.firmware.hcalc_frames` Boost / Test), the
        ESME's ``keypad`` (a typed UTRN). Run :meth:`settle` to let the consequences travel.

        :raises KeyError: no device of that type; :raises ConfigError: not a local port.
        """
        if PORTS.get(kind, {}).get(port) != LOCAL_UI:
            raise ConfigError(f"{kind.value} has no local port {port!r}")
        self.device(kind).message(port, data)

    def inject_wan(self, data: bytes) -> None:
        """Feed bytes as if they arrived on the WAN port (tests, the demo)."""
        self.framer.feed(data)
        for message in self.framer:
            self._wan_message(message)

    def _flush_idle(self) -> None:
        """The line went idle with a partial message held: resynchronise past it."""
        before = self.framer.dropped
        while self.framer.pending():
            self.framer.skip_partial()
            for message in self.framer:
                self._wan_message(message)
        self.stats["wan_dropped_bytes"] += self.framer.dropped - before

    def _wan_message(self, message: bytes) -> None:
        self.stats["wan_in"] += 1
        if not self.chf.powered:
            self.stats["wan_unpowered"] += 1  # the hub has no power: the message is lost
            return
        now = self.clock.now()
        for observer in self.observers:
            observer("in", message, now)
        self.chf.message("wan", message)

    async def _wan_reader(self) -> None:
        port = self.wan_port
        if port is None:
            return
        while True:
            try:
                data = await port.read(timeout=WAN_IDLE_FLUSH_S)
            except HalTimeout:
                _reraise_cancel()
                self._flush_idle()
                continue
            except HalError as exc:
                _reraise_cancel()
                if not port.is_open:
                    return
                log.debug("WAN read failed: %s", exc)
                await asyncio.sleep(0.05)
                continue
            before = self.framer.dropped
            self.framer.feed(data)
            for message in self.framer:
                self._wan_message(message)
            if self.framer.dropped != before:
                self.stats["wan_dropped_bytes"] += self.framer.dropped - before
                log.info("WAN: %d bytes discarded", self.framer.dropped - before)

    async def _wan_writer(self) -> None:
        while True:
            data = await self._outbox.get()
            port = self.wan_port
            try:
                if port is None:
                    raise HalError("no WAN port")
                await port.write(data, timeout=5.0)
            except HalError as exc:
                self.stats["wan_send_failed"] += 1
                log.info("WAN send failed (%s): message dropped", exc)
                _reraise_cancel()
            finally:
                self._outbox.task_done()

    # ------------------------------------------------------------------- time

    def _idle(self) -> bool:
        han_busy = self.han is not None and self.han.inflight > 0
        return not han_busy and self.zse.inflight == 0 and self._outbox.empty()

    async def settle(self) -> None:
        """Wait until no in-process frame is in flight and the WAN outbox is written."""
        for _ in range(100_000):
            if self._idle():
                await asyncio.sleep(0)
                if self._idle():
                    return
            await asyncio.sleep(0)
        raise HalError("premises did not settle (a message loop between devices?)")

    async def advance(self, delta: timedelta) -> int:
        """Move a virtual clock forward by ``delta``, one due timer at a time, letting the
        devices exchange messages between timers. Returns the timers fired.

        :raises HalError: with a wall clock.
        """
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise HalError("only a virtual clock can be advanced")
        target = clock.now() + delta
        fired = 0
        await self.settle()
        while True:
            due = clock.next_due()
            if due is None or due > target:
                break
            fired += clock.jump_to(max(due, clock.now()))
            await self.settle()
        clock.jump_to(target)
        await self.settle()
        return fired
