"""Sixty days of one premises, played once and kept for the tests of test_premises_60_days.

The scenario runs the default premises (CHF + GPF, ESME, GSME, PPMID, HCALC) on a virtual
clock that jumps from timer to timer (:meth:`Premises.advance`), a supplier head-end
(:class:`~smemu.hil.headend.HeadEnd`) on its WAN, and beside it the test's own meters: the
pure-Python register engine (:func:`smemu.firmware.registers.reference.advance`) for the
ESME and the GSME, fed the consumption the test configured and the operations the test
performed, with tables compiled from the test's own tariff numbers, and the reference
switch timeline (:func:`smemu.firmware.registers.loadcontrol.timeline`) for the HCALC.

Nothing here asserts: :func:`live` records what happened (:class:`Life`), the tests judge.
A step whose feature is missing in the firmware must not stop the story, so every command
is sent and its answer kept whatever it says.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from smemu.devices.config import load_config
from smemu.devices.premises import Premises
from smemu.errors import DecodeError, SecurityError
from smemu.firmware import (
    chf_firmware,
    gas_metering,
    gas_tariff_engine,
    hcalc,
    hcalc_frames,
    metering,
    ppmid_firmware,
    supply,
)
from smemu.firmware import firmware_image as fw
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.firmware.ppmid_keypad import Action, Fuel, KeypadEntry
from smemu.firmware.registers import layout as lay
from smemu.firmware.registers import loadcontrol, ops
from smemu.firmware.registers.loadcontrol import SwitchCommand
from smemu.hal.storage import Storage
from smemu.hil.commands_gas_tariff import GasTariff
from smemu.hil.commands_han import gbz_read_attributes
from smemu.hil.commands_tariff import TariffSettings
from smemu.hil.headend import HeadEnd, OutgoingCommand, Received
from smemu.protocols.asn1 import ActivateFirmwareCommand
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keystore import KeyStore
from smemu.protocols.utrn import ValueClass, encode_utrn
from smemu.protocols.zigbee.typed import decode_typed
from smemu.protocols.zigbee.zcl import ReadAttributesResponse

from ._premises_ref import (
    BOOST_MINUTES,
    DAYS,
    ESME_LOAD,
    GAS_PRICES,
    GAS_SERIES,
    GAS_STANDING,
    GAS_SWITCHES,
    GAS_TOP_UP_PENCE,
    GCS13A,
    IMAGE,
    METERING,
    PRICES,
    STANDING,
    SWITCHES,
    RefMeter,
    at,
    epoch,
    esme_table,
    esme_usage,
    gas_usage,
    gsme_table,
    gsme_tariff_table,
)

# ------------------------------------------------------------------ what happened


@dataclass
class Checkpoint:
    """Device and reference registers at one engine instant."""

    name: str
    t: int
    esme: ops.Registers
    esme_ref: ops.Registers
    esme_state: list[int]
    esme_ref_state: list[int]
    esme_logs: bytes
    esme_ref_logs: bytes
    gsme: ops.Registers
    gsme_ref: ops.Registers
    gsme_state: list[int]
    gsme_ref_state: list[int]
    gsme_logs: bytes
    gsme_ref_logs: bytes


@dataclass
class Life:
    """Everything the tests look at."""

    start: datetime = datetime.min
    end: datetime = datetime.min
    wall_s: float = 0.0
    tables: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # device, reference
    answers: dict[str, Received | None] = field(default_factory=dict)
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)
    #: switch -> (recorded timeline, reference timeline) as (UTC seconds, closed)
    hcalc: dict[int, tuple[list[tuple[int, bool]], list[tuple[int, bool]]]] = field(
        default_factory=dict
    )
    hcalc_refresh_requests: list[datetime] = field(default_factory=list)
    hcalc_refresh_pending: bool = True
    outage: tuple[datetime, datetime] = (datetime.min, datetime.min)
    boost_at: datetime = datetime.min
    firmware: dict[str, bytes | None] = field(default_factory=dict)  # device -> version
    pending_image: dict[str, bool] = field(default_factory=dict)
    #: the PPMID's CS09 alerts on the WAN after its image: (originator, signature verdict)
    ppmid_cs09: list[tuple[Eui64, str]] = field(default_factory=list)
    ppmid: Eui64 | None = None
    gas_read_litres: int | None = None
    gas_read_expected: int = -1
    gas_top_up: tuple[int, int] = (0, 0)  # GSME balance (fine units), reference balance
    gas_tariff_at: tuple[int, int] = (0, 0)  # when the GSME changed tariff, the wake
    gsme_gas_from_commissioning: tuple[int, int] = (0, 0)  # device litres, flow since T0
    alerts: list[tuple[int, datetime]] = field(default_factory=list)
    esme_stats: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------ the story


def _provision(state: Path) -> None:
    """First start (commissioning at the start instant: keys, device logs, the
    manufacturer's image key), then factory settings written into the stores: the ESME's
    load and the gas flow the test's reference uses."""

    async def first() -> dict[DeviceType, Path]:
        async with Premises(load_config(None), state, wan="virtual://life-0", speed=0.0) as p:
            kinds = (DeviceType.ESME, DeviceType.GSME, DeviceType.PPMID)
            return {k: p.device(k).storage.path for k in kinds}

    paths = asyncio.run(first())
    extra: dict[DeviceType, dict[str, bytes]] = {
        DeviceType.ESME: {metering.LOAD: json.dumps(ESME_LOAD).encode()},
        DeviceType.GSME: {gas_metering.FLOW: json.dumps({"series": GAS_SERIES}).encode()},
        DeviceType.PPMID: {},
    }
    for kind, path in paths.items():
        storage = Storage.open(path)
        with storage.transaction() as tx:
            for key, value in extra[kind].items():
                tx.put(key, value)
        storage.close()


class Story:
    """The running premises, the head-end and the reference meters."""

    def __init__(self, p: Premises, life: Life) -> None:
        self.p = p
        self.life = life
        assert p.pki is not None
        roles = (Role.SUPPLIER, Role.ACCESS_CONTROL_BROKER)
        self.head_end = HeadEnd(p.pki.keystore, {r: p.pki.remote_parties[r] for r in roles})
        self.supplier = self.head_end.party(Role.SUPPLIER)
        self.out: list[bytes] = []
        p.observers.append(lambda d, data, _at: self.out.append(data) if d == "out" else None)
        self.esme = p.device(DeviceType.ESME)
        self.gsme = p.device(DeviceType.GSME)
        self.gpf = p.device(DeviceType.GPF)
        self.ppmid = p.device(DeviceType.PPMID)
        self.hc = p.device(DeviceType.HCALC)
        start = epoch(p.clock.now())
        self.esme_ref = RefMeter.start(esme_table(), start)
        self.gsme_ref: RefMeter | None = None  # from the GSME's first command (see below)
        self.off: tuple[int, int] | None = None
        #: when the HCALC asked its ESME for a refresh (seen on the ZSE link)
        self.refresh_requests: list[datetime] = []
        p.zse.sniffers.append(self._sniff)

    def _sniff(self, port: str, source: Eui64, to: Eui64, data: bytes) -> None:
        if port == "alc" and source == self.hc.eui and to == self.esme.eui:
            with contextlib.suppress(DecodeError):
                if isinstance(hcalc_frames.decode_exact(data), hcalc_frames.RefreshRequest):
                    self.refresh_requests.append(self.p.clock.now())

    # -- head-end ------------------------------------------------------------------

    async def send(self, name: str, command: OutgoingCommand) -> Received | None:
        """Put a command on the WAN; keep (and return) its answer when it comes now."""
        self.out.clear()
        self.p.inject_wan(command.data)
        await self.p.settle()
        got = [r for raw in self.out for r in self.head_end.accept(raw)]
        answer = next((r for r in got if r.command is command), None)
        self.life.answers[name] = answer
        return answer

    def gbz(self, target: Eui64, code: int, use_case: str, payload: bytes) -> OutgoingCommand:
        counter = self.head_end.counters.next(self.supplier, target)
        header = GroupingHeader(
            Cra.COMMAND, counter, self.supplier, target, None, OtherInformation(code)
        )
        return self.head_end.submit(
            GeneralSigningMessage(header, payload, None), use_case=use_case, sign=False
        )

    def activate(self, target: Eui64) -> OutgoingCommand:
        """CS06 Activate Firmware (now) for the distributed image."""
        counter = self.head_end.counters.next(self.supplier, target)
        header = GroupingHeader(
            Cra.COMMAND, counter, self.supplier, target, None, OtherInformation(fw.CS06)
        )
        image_hash = fw.FirmwareImage.decode(IMAGE).image_hash
        payload = ActivateFirmwareCommand(image_hash, counter).encode()
        return self.head_end.submit(
            GeneralSigningMessage(header, payload, None), use_case="CS06", sign=True
        )

    # -- time ------------------------------------------------------------------------

    async def until(self, instant: datetime) -> None:
        await self.p.advance(instant - self.p.clock.now())

    # -- reference -----------------------------------------------------------------

    def ref_to(self, t: int) -> None:
        """Bring both reference meters to the engine instant ``t`` (a half-hour boundary)."""
        self.esme_ref.advance(t, esme_usage(self.esme_ref.t, t, self.off))
        if self.gsme_ref is not None:
            self.gsme_ref.advance(t, gas_usage(self.gsme_ref.t, t))

    def checkpoint(self, name: str) -> None:
        """Bring the devices' engines to now the way their next command would (on a scratch
        copy of their NVM), the references to the same instant, and keep both."""
        now = self.p.clock.now()
        etx = Tx(now, self.esme.machine.nvm)
        model = self.esme.machine.load_model(etx)  # type: ignore[attr-defined]
        metering.catch_up(etx, model, closed=supply.closed(etx))
        gtx = Tx(now, self.gsme.machine.nvm)
        gas_metering.catch_up(gtx)
        e_state = metering.state_words(etx)
        g_state = array("q")
        g_state.frombytes(gtx.get(gas_metering.STATE) or b"")
        t = e_state[lay.S_T]
        self.ref_to(t)
        assert self.gsme_ref is not None
        self.life.checkpoints[name] = Checkpoint(
            name,
            t,
            ops.read(e_state),
            self.esme_ref.registers(),
            list(e_state),
            list(self.esme_ref.state),
            metering.logs(etx),
            bytes(self.esme_ref.logs),
            ops.read(g_state),
            self.gsme_ref.registers(),
            list(g_state),
            list(self.gsme_ref.state),
            gtx.get(gas_metering.LOGS) or b"",
            bytes(self.gsme_ref.logs),
        )


async def _play(state: Path, life: Life) -> None:
    p = Premises(load_config(None), state, wan="virtual://life", speed=0.0)
    async with p:
        s = Story(p, life)
        t0 = p.clock.now()
        life.start = t0
        commissioned = s.gsme.machine.nvm.get(gas_metering.STATE)  # engine state at T0, if any
        esme, gsme, gpf, hc = s.esme, s.gsme, s.gpf, s.hc
        he = s.head_end

        # Day 0, 00:05: the electricity TOU tariff (ECS01a, signed) and a first gas command
        # (GCS38, held by the GPF until the GSME wakes at 00:30).
        await s.until(at(t0, 0, 0, 5))
        tariff = TariffSettings.simple(SWITCHES, PRICES, standing=STANDING)
        await s.send("ECS01a", he.build("ECS01a", esme.eui, {"tariff": tariff}))
        tx = Tx(p.clock.now(), esme.machine.nvm)
        life.tables["esme"] = (metering.table_words(tx).tobytes(), s.esme_ref.table)
        await s.send("GCS38 queued", he.build("GCS38", gsme.eui))
        # ... and the gas TOU tariff (GCS01a, held with it until the wake).
        gas_tariff = GasTariff.simple(
            GAS_SWITCHES, GAS_PRICES, standing=GAS_STANDING, issued=p.clock.now()
        )
        gcs01a = he.build("GCS01a", gsme.eui, {"tariff": gas_tariff})
        await s.send("GCS01a queued", gcs01a)
        await s.until(at(t0, 0, 0, 31))
        woken = [r for raw in s.out for r in he.accept(raw)]
        life.answers["GCS01a"] = next((r for r in woken if r.command is gcs01a), None)
        raw = commissioned or gsme.machine.nvm.get(gas_metering.STATE)
        first = array("q")
        first.frombytes(raw or lay.new_state(epoch(t0)).tobytes())
        # The reference starts where the GSME's engine started: at commissioning, or at its
        # first command (a separate test asks for registers from commissioning); the tariff
        # changes when the GSME woke at 00:30 and took the GCS01a.
        s.gsme_ref = RefMeter.start(gsme_table(), first[lay.S_T])
        woke = epoch(at(t0, 0, 0, 30))
        s.gsme_ref.change_tariff(woke, gsme_tariff_table(), gas_usage(s.gsme_ref.t, woke))
        life.tables["gsme"] = (gsme.machine.nvm.get(gas_metering.TABLE, b""), s.gsme_ref.table)
        changed = Tx(p.clock.now(), gsme.machine.nvm).get_int(
            gas_tariff_engine.TARIFF_SNAPSHOT_AT, -1
        )
        life.gas_tariff_at = (changed, woke)

        # Day 10, 10:00: the consumer boosts HCALC switch 1 for 30 minutes.
        life.boost_at = at(t0, 10, 10, 0)
        await s.until(life.boost_at)
        p.press(DeviceType.HCALC, "ui", hcalc_frames.encode(hcalc_frames.Boost(1, BOOST_MINUTES)))
        await p.settle()

        # Day 12, 18:00: a gas top-up typed on the PPMID (PCS01 via the GPF to the GSME).
        await s.until(at(t0, 12, 18, 0))
        assert p.pki is not None
        secret = p.pki.keystore.prepayment_secret(bytes(s.supplier), bytes(gsme.eui))
        assert secret is not None
        utrn = encode_utrn(
            prepayment_secret=secret, originator=bytes(s.supplier), target=bytes(gsme.eui),
            counter=1 << 32, value=GAS_TOP_UP_PENCE, value_class=ValueClass.PENNIES,
        )  # fmt: skip
        before = Tx(p.clock.now(), gsme.machine.nvm)
        gas_metering.catch_up(before)
        balance_before = ops.read(_words(before.get(gas_metering.STATE)))
        p.press(DeviceType.PPMID, "keypad", KeypadEntry(Action.TOP_UP, Fuel.GAS, utrn).encode())
        await p.settle()
        await s.until(at(t0, 12, 18, 31))  # the GSME has woken at 18:30 and taken PCS01
        woke = epoch(at(t0, 12, 18, 30))
        assert s.gsme_ref is not None
        s.gsme_ref.top_up(woke, GAS_TOP_UP_PENCE * 1000, gas_usage(s.gsme_ref.t, woke))
        after = Tx(p.clock.now(), gsme.machine.nvm)
        gas_metering.catch_up(after)
        life.gas_top_up = (
            ops.read(_words(after.get(gas_metering.STATE))).meter_balance
            - balance_before.meter_balance,
            GAS_TOP_UP_PENCE * 1000,
        )

        await s.until(at(t0, 20, 6, 0))
        s.checkpoint("day 20")

        # Day 25: a firmware image distributed by the hub to the ESME, which holds it until
        # CS06 activates it, and to the PPMID, which runs it at once and says so (CS09).
        await s.until(at(t0, 25, 2, 0))
        p.chf.message("ota", chf_firmware.envelope(esme.eui, IMAGE))
        await p.advance(timedelta(hours=1))
        life.pending_image["esme"] = esme.machine.nvm.get(fw.PENDING_IMAGE) == IMAGE
        await s.send("CS06 esme", s.activate(esme.eui))
        life.firmware["esme"] = esme.machine.nvm.get(fw.FIRMWARE_VERSION)
        ppmid = s.ppmid
        life.ppmid = ppmid.eui
        s.out.clear()
        p.chf.message("ota", chf_firmware.envelope(ppmid.eui, IMAGE))
        await p.advance(timedelta(hours=1))
        for got in (r for raw in s.out for r in he.accept(raw)):
            inner = None if got.message is None else frame.signing_message(got.message)
            code = None if inner is None else inner.header.other_information.message_code
            if inner is not None and code == ppmid_firmware.CS09:
                life.ppmid_cs09.append((inner.header.originator, got.signature))
        life.firmware["ppmid"] = ppmid.machine.nvm.get(fw.FIRMWARE_VERSION)

        # Day 40: a gas register read, answered by the GPF from the mirror.
        await s.until(at(t0, 40, 9, 40))
        answer = await s.send(
            "GCS13a", s.gbz(gpf.eui, GCS13A, "GCS13a", gbz_read_attributes(METERING, (0,)))
        )
        life.gas_read_litres = _summation(answer, he.keystore)
        last_wake = epoch(at(t0, 40, 9, 30))  # the GSME woke at 09:30 and refreshed
        s.ref_to(last_wake - last_wake % lay.INTERVAL)
        assert s.gsme_ref is not None
        life.gas_read_expected = s.gsme_ref.registers().import_wh
        s.checkpoint("day 40")

        # Day 55: a supply outage 09:00-12:30: the hub, the ESME, the PPMID and the HCALC
        # lose power (the GSME runs on its battery).
        await s.until(at(t0, 54, 23, 0))
        s.checkpoint("before the outage")
        off, on = at(t0, 55, 9, 0), at(t0, 55, 12, 30)
        life.outage = (off, on)
        await s.until(off)
        s.ref_to(epoch(off))
        s.off = (epoch(off), epoch(on))
        mains = (DeviceType.CHF, DeviceType.ESME, DeviceType.PPMID, DeviceType.HCALC)
        for kind in mains:
            p.device(kind).line("power", False)
        await s.until(on)
        for kind in mains:
            p.device(kind).line("power", True)
        assert p.han is not None
        p.han.join_all()
        await p.settle()
        await s.until(at(t0, 55, 13, 0))
        life.hcalc_refresh_requests = s.refresh_requests

        # Day 60: the end; the ESME answers a balance read (brings its engine to now).
        life.end = at(t0, DAYS, 0, 5)
        await s.until(life.end)
        await s.send("ECS82", he.build("ECS82", esme.eui))
        s.checkpoint("day 60")
        assert s.gsme_ref is not None
        gas = Tx(p.clock.now(), gsme.machine.nvm)
        gas_metering.catch_up(gas)
        t_end = ops.read(_words(gas.get(gas_metering.STATE))).t
        life.gsme_gas_from_commissioning = (
            ops.read(_words(gas.get(gas_metering.STATE))).import_wh,
            sum(gas_usage(epoch(t0), t_end)),
        )

        # HCALC: what it recorded against the reference timeline of its calendars, the
        # boost and the supply loss / restore.
        config = hcalc.HcalcMachine.config(Tx(p.clock.now(), hc.machine.nvm))
        for n in range(1, config.switches + 1):
            commands = [
                SwitchCommand(epoch(off), "loss", False),
                SwitchCommand(epoch(on), "restore", False, None, config.delay_minutes[n - 1]),
            ]
            if n == 1:
                boost = SwitchCommand(epoch(life.boost_at), "boost", True, 60 * BOOST_MINUTES)
                commands.append(boost)
            expected = loadcontrol.timeline(
                config.calendars[n - 1], epoch(t0), epoch(life.end), commands,
                switch=n, seed=config.seed,
            )  # fmt: skip
            changes = hcalc.switch_timeline_of(hc.machine.nvm, n)
            recorded = [(epoch(when), closed) for when, closed in changes]
            life.hcalc[n] = (recorded, expected)
        life.hcalc_refresh_pending = hc.machine.nvm.get(hcalc.REFRESH_PENDING) is not None
        life.esme_stats = dict(esme.stats)


def _words(raw: bytes | None) -> array[int]:
    words = array("q")
    words.frombytes(raw or bytes(lay.STATE_BYTES))
    return words


def _summation(answer: Received | None, keystore: KeyStore) -> int | None:
    """CurrentSummationDelivered (litres) from a GCS13a response, if it carries one."""
    if answer is None or answer.message is None:
        return None
    inner = frame.signing_message(answer.message)
    if inner is None:
        return None
    try:
        _, plaintexts = decrypt_payload(frame.locate(answer.data), keystore)
        payload = decode_typed(inner.payload, alert=False, plaintexts=plaintexts)
    except (DecodeError, SecurityError):  # an undecodable answer carries no value
        return None
    for component in payload.components:
        command = component.command
        if isinstance(command, ReadAttributesResponse):
            for record in command.records:
                if record.attribute_id == 0 and record.status == 0 and record.value is not None:
                    value = record.value.value
                    if isinstance(value, int):
                        return value
    return None


def live(state: Path) -> Life:
    """Provision, then play the sixty days; the wall time covers the simulated days only."""
    _provision(state)
    life = Life()
    started = time.perf_counter()
    asyncio.run(_play(state, life))
    life.wall_s = time.perf_counter() - started
    return life
