"""What the CHF forwards and waits for: commands to the ESME, firmware images to HAN devices.

Layer: firmware. Use Case volume "Failure to Deliver Remote Party Message to ESME Alert"
(message code 0x00D5, alert code 0x8F84; payload per gbcs-reference.md 7.9: the undelivered
message's business originator, business target, CRA flag and originator counter), service 21
"Notification of Failure to Obtain Reading"; CS05a-c Distribute Firmware and CCS08 Firmware
Transfer Alert (0x0128; gbcs-reference.md 7.8).

Theory of operation
-------------------
Every item the CHF hands to a HAN device and expects an answer for is *pending* (NVM
``chf/delivery/pending``, a JSON list) with a deadline, and one timer (:data:`TIMER`) is
armed at the earliest deadline:

* a Remote Party **command** forwarded from the WAN to an ESME waits for the ESME's
  response -- a RESPONSE whose business originator is the ESME and whose transaction
  counter is the command's originator counter. None within :data:`COMMAND_WINDOW` (the
  on-demand response the service levels allow, HAN transfer and meter processing
  included) and the CHF alerts 0x8F84 to the Access Control Broker;
* a firmware **image** distributed to a HAN device (block by block, :mod:`chf_ota`) waits
  for the device's Firmware Distribution Receipt Alert (0x00CE / 0x00CF; a PPMID's CS09):
  the device received the whole image. The same timer nudges silent downloads. CCS08
  reports the transfer: success when the receipt passes through the CHF, file transfer
  failure when the device's transfer window (:func:`transfer_window`) passes first, image
  discarded when the CHF could not distribute it (not an image, or a target outside the
  CHF device log).

The transfer window depends on the target's device type (the CHF device log says it):
a mains-powered device (ESME, PPMID, HCALC ...) listens all the time and takes its image
in minutes, so :data:`TRANSFER_WINDOW` (1 hour) is generous; the battery-powered GSME
keeps its radio off between wakes (every 30 minutes by default) and asks for a few blocks
a wake, so its download spreads over hours or days: :data:`GSME_TRANSFER_WINDOW`. The
GBCS figure for the GSME (GBCS 11.3-11.4, which the Use Case volume refers CS05b to) is not
in the reference material here; 7 days is this hub's manufacturer default -- at the
GSME's defaults (32 blocks of 64 octets a wake, 48 wakes a day) an image of about
680 KB.

The windows are the hub's defaults; NVM ``chf/delivery/command_s`` overrides the command
window, ``chf/delivery/transfer_s/<type>`` (``gsme`` ...) a device type's transfer window
and ``chf/delivery/transfer_s`` that of the types with no default of their own (seconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware import chf_log, chf_ota
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra, Eui64

TIMER: Final = "chf/delivery"
PENDING: Final = "chf/delivery/pending"
COMMAND_WINDOW_KEY: Final = "chf/delivery/command_s"
TRANSFER_WINDOW_KEY: Final = "chf/delivery/transfer_s"
#: how long the CHF waits for an ESME's response to a forwarded command
COMMAND_WINDOW: Final = timedelta(seconds=30)
#: how long a distributed image may take to reach a mains-powered device (blocks over the HAN)
TRANSFER_WINDOW: Final = timedelta(hours=1)
#: how long it may take to reach the sleeping GSME (a few blocks a wake; see the docstring)
GSME_TRANSFER_WINDOW: Final = timedelta(days=7)
#: device type (CHF device log name) -> its transfer window, when not :data:`TRANSFER_WINDOW`
TRANSFER_WINDOWS: Final[Mapping[str, timedelta]] = {"gsme": GSME_TRANSFER_WINDOW}

#: Failure to Deliver Remote Party Message to ESME Alert
NOT_DELIVERED_MESSAGE_CODE: Final = 0x00D5
ALERT_NOT_DELIVERED: Final = 0x8F84
#: CCS08 Firmware Transfer Alert
CCS08: Final = 0x0128
ALERT_FIRMWARE_TRANSFER: Final = 0x8F8A
#: Firmware Distribution Receipt Alerts (DLMS from an ESME, GBZ from a GSME) and the
#: PPMID Firmware Activation Alert (CS09), the only sign a PPMID gives that an image arrived
RECEIPT_ALERTS: Final = frozenset({0x00CE, 0x00CF, 0x012B})

COMMAND: Final = "command"
IMAGE: Final = "image"


@dataclass(frozen=True, slots=True)
class Pending:
    """One item the CHF waits on (stored as JSON)."""

    kind: str  #: :data:`COMMAND` or :data:`IMAGE`
    target: str  #: the HAN device, EUI hex
    due: str  #: ISO instant the wait ends
    originator: str = ""  #: command: its business originator, EUI hex
    counter: int = 0  #: command: its originator counter
    cra: int = int(Cra.COMMAND)  #: command: its CRA flag
    version: str = ""  #: image: its firmware version, hex

    @property
    def target_eui(self) -> Eui64:
        return Eui64(bytes.fromhex(self.target))


@dataclass(frozen=True, slots=True)
class Transaction:
    """The outer-header facts of a GBCS message the CHF routes."""

    cra: Cra
    originator: Eui64
    recipient: Eui64
    counter: int
    message_code: int


def transaction(data: bytes) -> Transaction | None:
    """CRA, originator, recipient, counter and message code of a message (None: not GBCS)."""
    try:
        message = frame.locate(data).message
    except DecodeError:
        return None
    if isinstance(message, frame.GbtBlockMessage):
        return Transaction(
            message.cra,
            message.originator,
            message.recipient,
            message.originator_counter,
            message.message_code,
        )
    header = message.header
    return Transaction(
        header.cra,
        header.originator,
        header.recipient,
        header.originator_counter,
        header.other_information.message_code,
    )


# ------------------------------------------------------------------------------ store


def pending(tx: Tx) -> list[Pending]:
    """Everything the CHF waits on, oldest first."""
    raw = tx.get_json(PENDING, [])
    items = raw if isinstance(raw, list) else []
    return [Pending(**item) for item in items if isinstance(item, dict)]


def pending_of(nvm: Mapping[str, bytes]) -> list[Pending]:
    """The same list read from a CHF's NVM (inspection, tests)."""
    raw = nvm.get(PENDING)
    items = [] if raw is None else json.loads(raw)
    return [Pending(**item) for item in items if isinstance(item, dict)]


def _save(tx: Tx, items: list[Pending]) -> None:
    tx.put(PENDING, json.dumps([asdict(i) for i in items], sort_keys=True).encode())
    arm(tx, items)


def arm(tx: Tx, items: list[Pending] | None = None) -> None:
    """(Re)arm :data:`TIMER` at the earliest deadline (a wait's end or an OTA nudge,
    :mod:`chf_ota`), or cancel it when nothing waits."""
    items = pending(tx) if items is None else items
    dues = [datetime.fromisoformat(i.due) for i in items]
    nudge = chf_ota.next_nudge(tx)
    if nudge is not None:
        dues.append(nudge)
    tx.timer(TIMER, min(dues) if dues else None)


def _window(tx: Tx, key: str, default: timedelta) -> timedelta:
    raw = tx.get(key)
    return default if raw is None else timedelta(seconds=int.from_bytes(raw, "big"))


def track_command(tx: Tx, target: Eui64, data: bytes) -> bool:
    """A command forwarded to ESME ``target``: wait for its response (True: now pending)."""
    facts = transaction(data)
    if facts is None or facts.cra is not Cra.COMMAND:
        return False
    due = tx.now + _window(tx, COMMAND_WINDOW_KEY, COMMAND_WINDOW)
    item = Pending(
        COMMAND,
        target.hex(),
        due.isoformat(),
        originator=facts.originator.hex(),
        counter=facts.counter,
        cra=int(facts.cra),
    )
    _save(tx, [*pending(tx), item])
    return True


def device_kind(tx: Tx, target: Eui64) -> str:
    """The device type of ``target`` as the CHF device log names it ("" when not there);
    the GSME paired with the hub's GPF counts as a GSME even without its entry."""
    kind = chf_log.device_log(tx).get(target.hex(), "")
    if not kind and tx.get(chf_ota.GSME_EUI) == bytes(target):
        return "gsme"
    return kind


def transfer_window(tx: Tx, target: Eui64) -> timedelta:
    """How long an image distributed to ``target`` may take to arrive (see the docstring)."""
    kind = device_kind(tx, target)
    if kind:
        own = tx.get(f"{TRANSFER_WINDOW_KEY}/{kind}")
        if own is not None:
            return timedelta(seconds=int.from_bytes(own, "big"))
        if kind in TRANSFER_WINDOWS:
            return TRANSFER_WINDOWS[kind]
    return _window(tx, TRANSFER_WINDOW_KEY, TRANSFER_WINDOW)


def track_image(tx: Tx, target: Eui64, version: bytes) -> None:
    """An image distributed to ``target``: wait for its distribution receipt."""
    due = tx.now + transfer_window(tx, target)
    item = Pending(IMAGE, target.hex(), due.isoformat(), version=version.hex())
    _save(tx, [*pending(tx), item])


def withdraw_image(tx: Tx, target: Eui64) -> None:
    """Stop waiting for ``target``'s distribution receipt (its offer was withdrawn)."""
    items = pending(tx)
    kept = [i for i in items if not (i.kind == IMAGE and i.target == target.hex())]
    if len(kept) != len(items):
        _save(tx, kept)


def answered(tx: Tx, source: Eui64, data: bytes) -> list[Pending]:
    """A message from HAN device ``source``: the pending items it settles (removed)."""
    facts = transaction(data)
    if facts is None or facts.originator != source:
        return []
    items = pending(tx)

    def settles(item: Pending) -> bool:
        if item.target != source.hex():
            return False
        if item.kind == COMMAND:
            return facts.cra is Cra.RESPONSE and facts.counter == item.counter
        return facts.cra is Cra.ALERT and facts.message_code in RECEIPT_ALERTS

    done = [i for i in items if settles(i)]
    if done:
        _save(tx, [i for i in items if i not in done])
    return done


def take_due(tx: Tx) -> list[Pending]:
    """The items whose wait has ended (removed, an image's offer withdrawn); silent OTA
    downloads nudged; the timer re-armed for the rest."""
    items = pending(tx)
    due = [i for i in items if datetime.fromisoformat(i.due) <= tx.now]
    for item in due:
        if item.kind == IMAGE:
            chf_ota.forget(tx, item.target_eui)
    chf_ota.nudge_due(tx)
    _save(tx, [i for i in items if i not in due])
    return due


def not_delivered_detail(item: Pending) -> bytes:
    """The 0x8F84 detail: business originator(8) || business target(8) || CRA(1) ||
    originator counter(8) of the undelivered command."""
    return b"".join(
        (
            bytes.fromhex(item.originator),
            bytes.fromhex(item.target),
            bytes((item.cra,)),
            item.counter.to_bytes(8, "big"),
        )
    )
