"""``smemu demo``'s story: a supplier's head-end talks to the default premises.

Layer: hil. :func:`run_story` starts the embedded default premises in-process (virtual
clock, ``virtual://`` WAN), commissioned from its generated test PKI, and plays a supplier
through :class:`~smemu.hil.headend.HeadEnd` and the use case builders of
:mod:`smemu.hil.commands`: (1) what joined and which firmware each device runs, (2) the
import and TOU registers, (3) a time-of-use tariff set and read back, (4) a week later the
registers again and the week's bill from the meter's own TOU registers and prices, (5) a
top-up (balance before and after, and on the PPMID), (6) the HCALC's switching over a day
(:mod:`smemu.hil.demo_hcalc`: calendars, a boost, an ECS47a the ESME passes on, ECS35g),
(7) the supply opened, a replay refused, no energy recorded while off, the supply closed,
(8) gas: a firmware read and a gas time-of-use tariff (GCS01a) queued at the GPF until the
GSME wakes, then the consumption register read through the GPF (GCS13a, answered from its
mirror of the GSME without waking it). Every command prints one line saying what the
answer shows; every step adds one :class:`StoryRow` to the summary; the WAN conversation
is written to a pcap. The fixed keys and messages that codec tests use live in
:mod:`smemu.hil.demo_material` (re-exported here).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from smemu.devices.commissioning import hcalc_config_of
from smemu.devices.config import load_config
from smemu.devices.premises import PORTS, Premises
from smemu.errors import DecodeError, SecurityError
from smemu.firmware import ppmid
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
from smemu.hil import demo_answers as answers
from smemu.hil.capture import PcapWriter
from smemu.hil.commands_gas_tariff import GasTariff
from smemu.hil.commands_han import gbz_read_attributes
from smemu.hil.commands_tariff import TariffSettings, parse_switches, read_back
from smemu.hil.demo_answers import kwh, money
from smemu.hil.demo_hcalc import hcalc_day
from smemu.hil.demo_material import (
    ACB,
    ESME,
    PARTIES,
    SUPPLIER,
    DemoMessage,
    action,
    build_command,
    demo_keystore,
    demo_messages,
    dlms_request,
    get,
    write_keystore,
)
from smemu.hil.headend import HeadEnd, OutgoingCommand, Received
from smemu.protocols.dlms.cosem import ViewMismatchError
from smemu.protocols.dlms.data import Enum
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64

__all__ = [
    "ACB",
    "ESME",
    "PARTIES",
    "SUPPLIER",
    "DemoMessage",
    "Exchange",
    "Story",
    "StoryRow",
    "action",
    "build_command",
    "demo_keystore",
    "demo_messages",
    "dlms_request",
    "get",
    "run_story",
    "write_keystore",
]

#: the tariff the story sets: 15p/kWh at night (rate 1), 30p/kWh by day (rate 2)
TARIFF_SWITCHES: Final = "00:00=1,07:00=2,23:00=1"
TARIFF_PRICES: Final = (15_000, 30_000)  #: 10^-5 currency units per kWh
RATE_NAMES: Final = {1: "night", 2: "day"}
TOP_UP_PENNIES: Final = 1000
#: step 8's gas tariff: 6p per kWh, 9p at the 16:00-19:00 peak, 25p a day
GAS_SWITCHES: Final = "00:00=1,16:00=2,19:00=1"
GAS_PRICES: Final = (6_000, 9_000)  #: 10^-5 currency units per kWh
GAS_STANDING: Final = 25_000  #: 10^-5 currency units per day
#: GCS13a Read GSME Consumption Register (GBZ, answered by the GPF) and its cluster
GCS13A: Final = 0x0074
METERING_CLUSTER: Final = 0x0702
CURRENT_SUMMATION: Final = 0x0000


@dataclass(slots=True)
class StoryRow:
    """One step of the story in the summary table."""

    step: str
    use_case: str  #: the use cases the step sent, in order, without repeats
    device: str  #: the devices it talked to or looked at
    outcome: str  #: what the step showed
    verified: str  #: "yes" every answer verified, "NO" one did not, "-" no answer expected


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command of the story and what its answer showed."""

    step: str
    use_case: str
    device: str
    outcome: str
    verified: str  #: "yes", "NO" or "-" (no answer)


@dataclass(slots=True)
class Story:
    """A premises, the supplier's head-end, and what happened so far."""

    premises: Premises
    head_end: HeadEnd
    echo: Callable[[str], None]
    received: list[bytes] = field(default_factory=list)
    rows: list[StoryRow] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    #: outcomes the tests read: tariff set / read back, registers, balances, HCALC changes ...
    facts: dict[str, object] = field(default_factory=dict)
    wall_s: float = 0.0
    _step: str = ""
    _step_start: int = 0
    _looked_at: list[str] = field(default_factory=list)

    def _observe(self, direction: str, data: bytes, at: datetime) -> None:
        if direction == "out":
            self.received.append(data)

    async def exchange(self, data: bytes) -> list[Received]:
        """Put ``data`` on the WAN, let the premises settle, return what came back."""
        self.received.clear()
        self.premises.inject_wan(data)
        await self.premises.settle()
        return [r for raw in self.received for r in self.head_end.accept(raw)]

    def begin(self, step: str, heading: str) -> None:
        """Start a step: print its heading; the commands until :meth:`end` belong to it."""
        self._step, self._step_start, self._looked_at = step, len(self.exchanges), []
        self.echo("\n" + heading)

    def look_at(self, device: DeviceType) -> None:
        """Note a device the step inspects without a command (a display, a switch)."""
        self._looked_at.append(device.value)

    def end(self, outcome: str) -> None:
        """Close the step with one line saying what it showed."""
        mine = self.exchanges[self._step_start :]
        use_cases = list(dict.fromkeys(e.use_case for e in mine))
        devices = list(dict.fromkeys([*(e.device for e in mine), *self._looked_at]))
        marks = {e.verified for e in mine}
        verified = "NO" if "NO" in marks else "yes" if "yes" in marks else "-"
        self.rows.append(
            StoryRow(self._step, ", ".join(use_cases) or "-", ", ".join(devices), outcome, verified)
        )

    def record(self, use_case: str, device: str, received: Received | None, text: str) -> None:
        """Print and keep one command's outcome."""
        verified = "-" if received is None else ("yes" if received.verified else "NO")
        mark = {"yes": "[verified]", "NO": "[NOT VERIFIED]", "-": ""}[verified]
        if received is not None and not received.verified and received.problems:
            mark += " " + "; ".join(received.problems)
        self.exchanges.append(Exchange(self._step, use_case, device, text, verified))
        self.echo(f"  {use_case:<7} -> {device:<5}  {text}  {mark}".rstrip())

    async def command(
        self,
        use_case: str,
        device: DeviceType,
        params: dict[str, object] | None = None,
        *,
        command: OutgoingCommand | None = None,
        replay: bytes | None = None,
        silent: str = "no answer",
        say: Callable[[Received], str] | None = None,
    ) -> Received | None:
        """Send one command (built, given, or replayed bytes); print and keep the outcome.

        ``say`` words the answer for this step; the generic description is used otherwise.
        """
        if command is None and replay is None:
            command = self.head_end.build(use_case, self.premises.device(device).eui, params)
        data = replay if replay is not None else command.data if command else b""
        got = await self.exchange(data)
        answer = next((r for r in got if r.command is not None), None) or (got[0] if got else None)
        if answer is None:
            text = silent
        elif say is not None and answer.command is not None:
            text = say(answer)
        else:
            text = answers.describe(answer, self.head_end)
        self.record(use_case, device.value, answer, text)
        return answer


# ----------------------------------------------------------------------- the story


async def run_story(out: Path, echo: Callable[[str], None]) -> Story:
    """Start the default premises, commission it, and walk the demo story."""
    started = time.monotonic()
    state = out / "premises"
    if state.exists():
        shutil.rmtree(state)
    premises = Premises(load_config(None), state, wan="virtual://smemu-demo", speed=0.0)
    pcap_path = out / "demo.pcap"
    async with premises:
        pki = premises.pki
        if pki is None:
            raise SecurityError("premises has no PKI")
        parties: dict[int, Eui64] = {
            Role.SUPPLIER: pki.remote_parties[Role.SUPPLIER],
            Role.ACCESS_CONTROL_BROKER: pki.remote_parties[Role.ACCESS_CONTROL_BROKER],
        }
        story = Story(premises, HeadEnd(pki.keystore, parties), echo)
        with PcapWriter.open(pcap_path, start=premises.clock.now()) as pcap:
            premises.observers.append(story._observe)
            premises.observers.append(lambda d, data, at: pcap.write(data, at))
            story.facts["start"] = premises.clock.now()
            await _walk(story)
            story.facts["premises_stats"] = dict(premises.stats)
    story.facts["pcap"] = pcap_path
    story.wall_s = time.monotonic() - started
    echo(f"\nPacket capture of the WAN conversation: {pcap_path}")
    return story


async def _walk(story: Story) -> None:
    story.echo(
        "Each command line reads: use case -> device, what the answer shows; [verified]: the "
        "answer matched the command and its MAC (and signature, when signed) checked out "
        "against the device's certified keys."
    )
    await _commissioning(story)
    await _first_read(story)
    await _tariff(story)
    await _week(story)
    await _top_up(story)
    await hcalc_day(story)
    await _supply(story)
    await _gas(story)
    esme = story.premises.device(DeviceType.ESME)
    story.echo(
        f"\nESME logs: security log {len(esme.logs('security'))} entries (the refused replay "
        f"among them), event log {len(esme.logs('event'))} entries"
    )


def _version_text(received: Received) -> str:
    version, why = answers.firmware_version(received)
    return f"firmware version {version.hex().upper()}" if version is not None else why


async def _commissioning(story: Story) -> None:
    p, echo = story.premises, story.echo
    story.begin(
        "1 commissioning",
        "1. Commissioning: the comms hub, ESME, GSME, PPMID and HCALC are on the HAN",
    )
    echo(f"   simulated clock {p.clock.now():%Y-%m-%d %H:%M} UTC; WAN port {p.wan_url}")
    for device in p.devices.values():
        ports = ", ".join(PORTS.get(device.spec.type, {}))
        if device.spec.type is DeviceType.CHF:
            ports = "wan, " + ports
        echo(f"   {device.spec.name:<6} {device.eui}  ports: {ports}")
    folder = p.pki.folder if p.pki else "-"
    echo(f"   keys, certificates and trust anchors: generated test PKI in {folder}")
    pairing = p.device(DeviceType.PPMID).machine.nvm.get(ppmid.ESME_KEY)
    echo(f"   the PPMID shows the credit of ESME {Eui64(pairing) if pairing else '-'}")
    hc = p.device(DeviceType.HCALC)
    config = hcalc_config_of(p.config, hc.spec)
    for n, calendar in enumerate(config.calendars, start=1):
        day = ", ".join(f"{m // 60:02d}:{m % 60:02d} {'on' if c else 'off'}"
                        for m, c in calendar.days[0])  # fmt: skip
        echo(f"   HCALC switch {n} calendar (Monday): {day}; random offset up to "
             f"{calendar.random_offset_limit} s")  # fmt: skip
    echo("   firmware versions: ECS52 for the hub and the meter, CS08 for the HAN devices")
    versions = []
    for use_case, kind in (
        ("ECS52", DeviceType.CHF),
        ("ECS52", DeviceType.ESME),
        ("CS08", DeviceType.PPMID),
        ("CS08", DeviceType.HCALC),
    ):
        answer = await story.command(use_case, kind, say=_version_text)
        version, _ = answers.firmware_version(answer)
        versions.append(f"{kind.value} {version.hex().upper() if version else '?'}")
        story.facts[f"firmware_{kind.value}"] = version
    story.end(", ".join(versions))


async def _read_registers(story: Story) -> tuple[int | None, tuple[int, ...]]:
    """ECS17b then ECS17d: the active import register and the 48 TOU registers (Wh)."""

    def import_text(received: Received) -> str:
        found = answers.numbers(answers.decrypted(received, story.head_end))
        if not found:
            return "no import register in the answer"
        return f"active import {found[0]:,} Wh, decrypted with the supplier's key"

    def tou_text(received: Received) -> str:
        tou = answers.tou_registers(answers.decrypted(received, story.head_end))
        used = [f"rate {n} {wh:,} Wh" for n, wh in enumerate(tou, start=1) if wh]
        return "TOU registers: " + (", ".join(used) or f"all {len(tou)} at 0 Wh")

    first = await story.command("ECS17b", DeviceType.ESME, say=import_text)
    second = await story.command("ECS17d", DeviceType.ESME, say=tou_text)
    found = answers.numbers(answers.decrypted(first, story.head_end))
    tou = answers.tou_registers(answers.decrypted(second, story.head_end))
    return (found[0] if found else None), tou


async def _first_read(story: Story) -> None:
    story.begin(
        "2 first read",
        "2. Read the import register (ECS17b) and the TOU registers (ECS17d); the ESME "
        "encrypts both answers for the supplier",
    )
    total, tou = await _read_registers(story)
    story.facts["import_before"], story.facts["tou_before"] = total, tou
    used = sum(1 for v in tou if v)
    story.end(f"import {kwh(total or 0)}; " + (f"{used} TOU rates in use" if used else "TOU all 0"))


async def _tariff(story: Story) -> None:
    story.begin(
        "3 tariff",
        "3. Set a time-of-use tariff (ECS01a: critical, signed by the supplier) and read the "
        "active tariff back (ECS24)",
    )
    tariff = TariffSettings.simple(parse_switches(TARIFF_SWITCHES), TARIFF_PRICES)
    story.facts["tariff_set"] = tariff
    story.facts["tariff_at"] = story.premises.clock.now()
    await story.command("ECS01a", DeviceType.ESME, {"tariff": tariff}, say=_written)
    answer = await story.command("ECS24", DeviceType.ESME, say=_tariff_read)
    try:
        back = read_back(answers.values(answer))
    except (ViewMismatchError, DecodeError) as exc:
        story.echo(f"   the active tariff does not parse: {exc}")
        story.end("tariff read back does not parse")
        return
    story.facts["tariff_read"] = back
    same = back.days == tariff.days and back.tou_prices() == tariff.tou_prices()
    story.facts["tariff_same"] = same
    prices = ", ".join(
        f"rate {r} ({RATE_NAMES.get(r, '?')}) {p / 1000:g}p/kWh"
        for r, p in back.tou_prices().items()
    )
    story.echo(f"   active tariff: switching {TARIFF_SWITCHES} every day; {prices}")
    story.echo(f"   the active tariff equals the one sent: {'yes' if same else 'NO'}")
    short = "/".join(f"{p / 1000:g}p" for p in back.tou_prices().values())
    story.end(f"{short} per kWh; read back equals what was set: {'yes' if same else 'NO'}")


def _written(received: Received) -> str:
    body = answers.access_response(received)
    failed = answers.failures(received)
    count = 0 if body is None else len(body.specifications)
    return f"{count} tariff objects written, " + (
        f"{len(failed)} refused (results {failed})" if failed else "all accepted"
    )


def _tariff_read(received: Received) -> str:
    failed = answers.failures(received)
    found = answers.values(received)
    return f"{len(found)} tariff objects read" + (f", {len(failed)} failed" if failed else "")


async def _week(story: Story) -> None:
    p, facts = story.premises, story.facts
    story.begin(
        "4 a week later",
        "4. A week passes (simulated time; the ESME's registers advance every half-hour, the "
        "GSME wakes every 30 minutes); read the registers again and bill the week",
    )
    fired = await p.advance(timedelta(days=7))
    story.echo(f"   simulated clock now {p.clock.now():%Y-%m-%d %H:%M} UTC ({fired} device "
               "timers ran)")  # fmt: skip
    facts["week_read_at"] = p.clock.now()
    total, tou = await _read_registers(story)
    facts["import_after"], facts["tou_after"] = total, tou
    before_total, before_tou = facts.get("import_before"), facts.get("tou_before")
    tariff = facts.get("tariff_read")
    if total is None or not tou or not isinstance(before_tou, tuple) or not before_tou:
        story.end("the registers could not be read")
        return
    if not isinstance(tariff, TariffSettings):
        story.end("no tariff was read back to price the week")
        return
    used = total - (before_total if isinstance(before_total, int) else 0)
    by_rate = {n: tou[n - 1] - before_tou[n - 1] for n in range(1, len(tou) + 1)}
    by_rate = {n: wh for n, wh in by_rate.items() if wh}
    prices = tariff.tou_prices()
    # cost in 10^-5 currency units: Wh x (10^-5 per kWh) / 1000, as the meter accumulates it
    costs = {n: wh * prices.get(n, 0) // 1000 for n, wh in by_rate.items()}
    cost = sum(wh * prices.get(n, 0) for n, wh in by_rate.items()) // 1000
    facts["import_week"], facts["tou_week"] = used, by_rate
    facts["cost_by_rate"], facts["cost_week"] = costs, cost
    story.echo("   the week's bill from the meter's TOU registers and its active prices (ECS24):")
    for n, wh in by_rate.items():
        story.echo(f"     rate {n} ({RATE_NAMES.get(n, '?')}): {kwh(wh)} x "
                   f"{prices.get(n, 0) / 1000:g}p/kWh = {money(costs[n])}")  # fmt: skip
    agree = sum(by_rate.values()) == used
    facts["tou_adds_up"] = agree
    story.echo(f"     total: {kwh(used)}, {money(cost)}; the TOU registers add up to the "
               f"import register: {'yes' if agree else 'NO'}")  # fmt: skip
    rates = ", ".join(f"rate {n} {kwh(wh)}" for n, wh in by_rate.items())
    story.end(f"{kwh(used)} ({rates}), cost {money(cost)}")


async def _top_up(story: Story) -> None:
    p = story.premises
    story.begin(
        "5 top up",
        f"5. Top up {money(TOP_UP_PENNIES * 1000)} (CS01a: a UTRN made with the supplier's "
        "prepayment key), meter balance before and after (ECS82), and the PPMID's display",
    )

    def balance_text(received: Received) -> str:
        value = answers.balance(received)
        return "no balance in the answer" if value is None else f"meter balance {money(value)}"

    def top_up_text(received: Received) -> str:
        failed = answers.failures(received)
        return f"UTRN refused (result {failed[0]})" if failed else "UTRN accepted"

    before = answers.balance(await story.command("ECS82", DeviceType.ESME, say=balance_text))
    await story.command("CS01a", DeviceType.ESME, {"value": TOP_UP_PENNIES}, say=top_up_text)
    after = answers.balance(await story.command("ECS82", DeviceType.ESME, say=balance_text))
    story.facts["balance_before"], story.facts["balance_after"] = before, after
    await p.settle()
    shown = ppmid.display(p.device(DeviceType.PPMID).machine.nvm)
    story.look_at(DeviceType.PPMID)
    story.facts["ppmid_credit"] = shown.credit
    story.echo("   the PPMID's display: " + " | ".join(shown.lines))
    if before is None or after is None:
        story.end("the meter balance could not be read")
        return
    on_ppmid = "-" if shown.credit is None else money(shown.credit * 1000)
    story.end(f"balance {money(before)} -> {money(after)}; PPMID shows {on_ppmid}")


async def _supply(story: Story) -> None:
    p = story.premises
    story.begin(
        "7 supply",
        "7. Open the ESME's load switch (ECS43: critical, signed), check it (ECS45), replay "
        "the same command, then a day without supply, and close the switch again (ECS42)",
    )

    def state_text(received: Received) -> str:
        found = answers.values(received)
        if not found or not isinstance(found[0], Enum):
            return "no control state in the answer"
        state = found[0].value
        return f"load switch {answers.CONTROL_STATES.get(state, f'state {state}')}"

    def switched(what: str) -> Callable[[Received], str]:
        return lambda r: f"refused (result {answers.failures(r)})" if answers.failures(r) else what

    def import_text(received: Received) -> str:
        found = answers.numbers(answers.decrypted(received, story.head_end))
        return f"active import {found[0]:,} Wh" if found else "no import register"

    command = story.head_end.build("ECS43", p.device(DeviceType.ESME).eui)
    await story.command("ECS43", DeviceType.ESME, command=command,
                        say=switched("supply off: load switch opened"))  # fmt: skip
    await story.command("ECS45", DeviceType.ESME, say=state_text)
    await story.command(
        "ECS43",
        DeviceType.ESME,
        replay=command.data,
        silent="the same bytes again: refused, replayed counter (security log entry)",
    )
    first = await story.command("ECS17b", DeviceType.ESME, say=import_text)
    await p.advance(timedelta(days=1))
    story.echo(f"   a day without supply; simulated clock now {p.clock.now():%Y-%m-%d %H:%M} UTC")
    second = await story.command("ECS17b", DeviceType.ESME, say=import_text)
    a = answers.numbers(answers.decrypted(first, story.head_end))
    b = answers.numbers(answers.decrypted(second, story.head_end))
    idle = bool(a and b and a[0] == b[0])
    story.facts["no_energy_while_off"] = idle
    story.echo(f"   no energy recorded while the supply was off: {'yes' if idle else 'NO'}")
    await story.command("ECS42", DeviceType.ESME, say=switched("supply on: load switch closed"))
    await story.command("ECS45", DeviceType.ESME, say=state_text)
    story.end(f"off, replay refused, no energy for a day: {'yes' if idle else 'NO'}, on")


async def _gas(story: Story) -> None:
    p, head_end = story.premises, story.head_end
    story.begin(
        "8 gas",
        "8. Gas: read the GSME's firmware version (GCS38) and set a time-of-use gas tariff "
        "(GCS01a); the GPF holds both until the battery-powered GSME wakes, then answers a "
        "register read (GCS13a) from its mirror",
    )
    await story.command("GCS38", DeviceType.GSME,
                        silent="no answer yet: held at the GPF for the GSME")  # fmt: skip
    gas_tariff = GasTariff.simple(
        parse_switches(GAS_SWITCHES), GAS_PRICES, standing=GAS_STANDING, issued=p.clock.now()
    )
    await story.command("GCS01a", DeviceType.GSME, {"tariff": gas_tariff},
                        silent="no answer yet: held at the GPF for the GSME")  # fmt: skip
    story.received.clear()
    await p.advance(timedelta(minutes=31))
    story.echo(f"   the GSME woke; simulated clock now {p.clock.now():%H:%M} UTC")
    texts = []
    for raw in list(story.received):
        for received in head_end.accept(raw):
            use_case = received.command.use_case if received.command is not None else "alert"
            if use_case == "GCS38":
                text = _version_text(received)
            elif use_case == "GCS01a":
                statuses = answers.gbz_statuses(received)
                story.facts["gas_tariff_statuses"] = statuses
                text = (
                    "tariff set: 2 TOU rates, standing charge " + money(GAS_STANDING)
                    if statuses is not None and not any(statuses)
                    else f"tariff refused (ZCL statuses {statuses})"
                )
            else:
                text = answers.describe(received, head_end)
            story.record(use_case, "gsme", received, text)
            texts.append(f"{use_case}: {text}")
    read = await story.command(
        "GCS13a",
        DeviceType.GPF,
        command=_gcs13a(story),
        say=lambda r: _litres_text(answers.gbz_read_value(r, head_end, CURRENT_SUMMATION)),
    )
    litres = answers.gbz_read_value(read, head_end, CURRENT_SUMMATION)
    story.facts["gas_read_at"] = p.clock.now()
    story.facts["gas_answers"] = texts
    story.facts["gas_litres"] = litres
    woke = "; ".join(texts) or "nothing"
    mirror = "no register" if litres is None else f"{litres / 1000:.3f} m3"
    story.end(f"at the wake-up: {woke}; GPF mirror read: {mirror}")


def _gcs13a(story: Story) -> OutgoingCommand:
    """GCS13a Read GSME Consumption Register, answered by the GPF from its mirror: a GBZ
    Read Attributes of CurrentSummationDelivered (Metering cluster)."""
    head_end = story.head_end
    supplier = head_end.party(Role.SUPPLIER)
    gpf = story.premises.device(DeviceType.GPF).eui
    counter = head_end.counters.next(supplier, gpf)
    header = GroupingHeader(Cra.COMMAND, counter, supplier, gpf, None, OtherInformation(GCS13A))
    payload = gbz_read_attributes(METERING_CLUSTER, (CURRENT_SUMMATION,))
    return head_end.submit(
        GeneralSigningMessage(header, payload, None), use_case="GCS13a", sign=False
    )


def _litres_text(litres: int | None) -> str:
    if litres is None:
        return "no consumption register in the answer"
    return f"gas consumed since commissioning: {litres / 1000:.3f} m3 (from the GPF's mirror)"
