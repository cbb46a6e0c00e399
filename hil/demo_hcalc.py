"""Step 6 of ``smemu demo``: a day of the HCALC, driven by its calendars, the consumer and
the supplier through the ESME.

Layer: hil. The supplier sends ECS47a (switch 1 on 18:00-20:00) to the ESME, which keeps it
and, when the period starts, commands the HCALC over the HAN (HECS01 SetState); the consumer
boosts switch 1 at 10:00; the calendars switch with their random offsets. The day's switch
changes are printed from the HCALC, then the ESME's Auxiliary Controller Event Log as the
supplier reads it (ECS35g): every command sent, every answer and the boost's start and end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from smemu.firmware import esme_han, hcalc, hcalc_frames
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
from smemu.hil import demo_answers as answers
from smemu.hil.commands import dlms_date_time
from smemu.hil.demo_material import dlms_request
from smemu.hil.headend import OutgoingCommand, Received
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import parse_obis
from smemu.protocols.dlms.data import (
    Array,
    CompactArray,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra

if TYPE_CHECKING:
    from smemu.hil.demo import Story

BOOST_MINUTES: Final = 30
#: the supplier's command: auxiliary controller 1 (the HCALC's switch 1) on in this period
COMMANDED: Final = (timedelta(hours=18), timedelta(hours=20))
ECS35G: Final = 0x00FD  #: Read Auxiliary Controller Event Log
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)
_CLOCK: Final = parse_obis("0-0:1.0.0.255")
_ACTIONS: Final = {
    esme_han.ACTION_CLOSE: "close sent to the HCALC",
    esme_han.ACTION_OPEN: "open sent to the HCALC",
    esme_han.ACTION_CALENDAR: "back to its calendar, sent to the HCALC",
    esme_han.ACTION_RESPONSE: "the HCALC's answer",
    esme_han.ACTION_OVERRIDE_START: "the HCALC reports a boost started",
    esme_han.ACTION_OVERRIDE_END: "the HCALC reports the boost ended",
}
_OUTCOMES: Final = {0: "outcome not yet known", 1: "success", 2: "failure"}


@dataclass(frozen=True, slots=True)
class AuxEntry:
    """One entry of the ESME's Auxiliary Controller Event Log as ECS35g returned it."""

    at: datetime
    controller: int
    action: int
    outcome: int
    han_id: int

    def text(self) -> str:
        action = _ACTIONS.get(self.action, f"action 0x{self.action:02X}")
        outcome = _OUTCOMES.get(self.outcome, f"outcome {self.outcome}")
        return f"{self.at:%H:%M:%S} controller {self.controller}: {action} ({outcome})"


def _secs2000(t: datetime) -> int:
    return int((t - _EPOCH_2000).total_seconds())


def aux_log_command(story: Story, start: datetime, end: datetime) -> OutgoingCommand:
    """ECS35g: the Auxiliary Controller Event Log entries between ``start`` and ``end``."""
    head_end = story.head_end
    supplier = head_end.party(Role.SUPPLIER)
    esme = story.premises.device(DeviceType.ESME).eui
    counter = head_end.counters.next(supplier, esme)
    selection = Structure((
        Structure((LongUnsigned(8), OctetString(_CLOCK), Integer(2), LongUnsigned(0))),
        DoubleLongUnsigned(_secs2000(start)),
        DoubleLongUnsigned(_secs2000(end)),
        Array(()),
    ))  # fmt: skip
    spec = apdu.AccessRequestGetWithSelection(7, esme_han.EVENT_LOG, 2, 1, selection)
    header = GroupingHeader(
        Cra.COMMAND, counter, supplier, esme, None, OtherInformation(ECS35G)
    )
    message = GeneralSigningMessage(header, dlms_request(counter, (spec, NullData())), None)
    return head_end.submit(message, use_case="ECS35g", sign=False)


def aux_entries(received: Received | None) -> list[AuxEntry]:
    """The log entries an ECS35g answer carries (none if it carries no log)."""
    found = answers.values(received)
    if not found or not isinstance(found[0], CompactArray):
        return []
    out = []
    for row in found[0].values:
        if not isinstance(row, Structure) or len(row.items) != 4:
            continue
        fields = [getattr(item, "value", None) for item in row.items]
        if not all(isinstance(v, int) for v in fields):
            continue
        t, switch_action, outcome, han_id = (int(str(v)) for v in fields)
        at = _EPOCH_2000 + timedelta(seconds=t)
        out.append(AuxEntry(at, switch_action >> 8, switch_action & 0xFF, outcome, han_id))
    return out


async def hcalc_day(story: Story) -> None:
    """Play step 6 (see the module docstring); facts: ``hcalc_changes``, ``aux_log``,
    ``hcalc_notices`` (the boost entries), ``hcalc_commanded``."""
    p = story.premises
    hc = p.device(DeviceType.HCALC)
    story.begin(
        "6 HCALC day",
        "6. The HCALC over a day: its switch calendars (with random offsets), a consumer "
        f"boost of {BOOST_MINUTES} minutes at 10:00, and an ECS47a that the ESME passes on "
        "to the HCALC; then the ESME's auxiliary controller log (ECS35g)",
    )
    now = p.clock.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    start, end = (midnight + t for t in COMMANDED)
    await story.command(
        "ECS47a",
        DeviceType.ESME,
        {"controller": 1, "state": 100, "start": dlms_date_time(start),
         "end": dlms_date_time(end)},
        say=lambda r: f"switch 1 on {start:%H:%M}-{end:%H:%M}: " + (
            "refused" if answers.failures(r) else "kept by the ESME until the period starts"),
    )  # fmt: skip
    await p.advance(midnight + timedelta(hours=10) - now)
    p.press(DeviceType.HCALC, "ui", hcalc_frames.encode(hcalc_frames.Boost(1, BOOST_MINUTES)))
    await p.settle()
    await p.advance(midnight + timedelta(days=1) - p.clock.now())
    story.look_at(DeviceType.HCALC)
    changes: list[tuple[int, datetime, bool]] = []
    story.echo(f"   switch changes on {midnight:%Y-%m-%d} (on = load switch closed):")
    for switch in (1, 2):
        line = [
            (at, closed)
            for at, closed in hcalc.switch_timeline_of(hc.machine.nvm, switch)
            if midnight <= at < midnight + timedelta(days=1)
        ]
        changes += [(switch, at, closed) for at, closed in line]
        text = ", ".join(f"{at:%H:%M:%S} {'on' if c else 'off'}" for at, c in line)
        story.echo(f"     switch {switch}: {text or 'no change'}")
    commanded = (1, start, True) in changes and (1, end, False) in changes
    story.echo(
        f"   the HCALC followed the ECS47a period {start:%H:%M}-{end:%H:%M}: "
        + ("yes" if commanded else "NO")
    )
    got = await story.command(
        "ECS35g",
        DeviceType.ESME,
        command=aux_log_command(story, midnight, midnight + timedelta(days=1)),
        say=lambda r: f"{len(aux_entries(r))} auxiliary controller log entries",
    )
    entries = [e for e in aux_entries(got) if midnight <= e.at < midnight + timedelta(days=1)]
    for entry in entries:
        story.echo(f"     {entry.text()}")
    boosts = (esme_han.ACTION_OVERRIDE_START, esme_han.ACTION_OVERRIDE_END)
    notices = [e for e in entries if e.action in boosts]
    story.facts["hcalc_changes"] = changes
    story.facts["hcalc_commanded"] = commanded
    story.facts["aux_log"] = entries
    story.facts["hcalc_notices"] = notices
    story.end(
        f"{len(changes)} switch changes, boost 10:00-10:{BOOST_MINUTES:02d}, ECS47a period "
        f"{'followed' if commanded else 'NOT followed'}, {len(entries)} ESME log entries"
    )
