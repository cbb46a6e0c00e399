"""Future-dated instructions: the persistent queue, its timer, and the outcome alerts.

Layer: firmware. gbcs-reference.md 9.3 and the Use Case volume ("Future Dated Execution Of
Instruction Alert", message codes 0x00CC DLMS / 0x00CD GBZ: sent when a device has
authenticated and stored an instruction of a future-dated command and has, at that
date-time, attempted to execute it).

Theory of operation
-------------------
A future-dated command (ECS01a-d, ECS02/03, ECS08a, ECS28a, ECS46d, GCS01a/b, GCS02/03/05)
carries its activation date-time *in the payload* -- a DLMS activation-time attribute, a
ZCL start time, an ASN.1 executionDateTime -- not in the grouping header (no RTDS command
has a header date-time). The use-case handler therefore decides, per instruction: now
(execute), a UTC instant (schedule), or the cancel value (``FF..FF 8000 FF`` / 0xFFFFFFFE):
cancel the pending instruction with the same identity. The immediate response is the
handler's normal response (sent at receipt).

A scheduled instruction is a :class:`FutureItem` stored in NVM under
``future/<identity>`` -- one pending instruction per identity (the object and attribute it
activates), so a newer future-dated write replaces the older one. One machine timer,
:data:`TIMER`, is kept at the earliest pending instant; the device layer fires it. At
expiry every due item is executed through the machine method it names, alone (a failure
rolls back only that item), removed from the queue, and reported with alert 0x8F66
(executed) or 0x8F67 (not executed) to the command's originator. Because the queue is NVM
and :meth:`CommandMachine.booted` re-arms the timer, pending instructions survive a power
cut; an instant that passed while the device was off fires at the next opportunity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from smemu.errors import SecurityError
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.types import Eui64

PREFIX: Final = "future/"
#: Name of the machine timer that runs due instructions.
TIMER: Final = "future"
#: Alert codes: future-dated command executed / not executed (GBCS Alert Code table).
ALERT_EXECUTED: Final = 0x8F66
ALERT_NOT_EXECUTED: Final = 0x8F67
#: Message codes of the outcome alerts (registry FDEIA-DLMS / FDEIA-ZigBee).
DLMS_OUTCOME_ALERT: Final = 0x00CC
GBZ_OUTCOME_ALERT: Final = 0x00CD


def dlms_reference(
    message_code: int, counter: int, class_id: int, obis: bytes, attribute: int
) -> bytes:
    """The 19 octets a DLMS outcome alert identifies the instruction by (reference 7.9).

    message code(2) || originator counter of the command(8) || class-id(2) || OBIS(6) ||
    attribute or method id(1).
    """
    if len(obis) != 6:
        raise ValueError(f"OBIS code must be 6 octets, got {len(obis)}")
    return b"".join(
        (
            message_code.to_bytes(2, "big"),
            counter.to_bytes(8, "big"),
            class_id.to_bytes(2, "big"),
            obis,
            attribute.to_bytes(1, "big"),
        )
    )


def gbz_reference(
    message_code: int, counter: int, cluster: int, frame_control: int, command_id: int
) -> bytes:
    """The 14 octets a GBZ outcome alert identifies the instruction by (reference 7.9)."""
    return b"".join(
        (
            message_code.to_bytes(2, "big"),
            counter.to_bytes(8, "big"),
            cluster.to_bytes(2, "big"),
            bytes((frame_control, command_id)),
        )
    )


@dataclass(frozen=True, slots=True)
class FutureItem:
    """One stored instruction of a future-dated command."""

    identity: str  #: what it activates, e.g. ``dlms/20/00000D0000FF/10``; one pending each
    at: datetime  #: activation instant (aware, UTC)
    message_code: int  #: the command's message code
    originator: Eui64  #: the command's originator (recipient of the outcome alert)
    counter: int  #: the command's originator counter
    reference: bytes  #: alert identification (:func:`dlms_reference` / :func:`gbz_reference`)
    action: str  #: name of the machine method that executes it: ``(tx, item) -> bool``
    data: bytes = b""  #: whatever the action needs (e.g. the encoded value to apply)
    gbz: bool = False  #: outcome alert in GBZ form (0x00CD) rather than DLMS (0x00CC)

    @property
    def alert_message_code(self) -> int:
        return GBZ_OUTCOME_ALERT if self.gbz else DLMS_OUTCOME_ALERT

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "identity": self.identity,
                "at": self.at.isoformat(),
                "message_code": self.message_code,
                "originator": self.originator.hex(),
                "counter": self.counter,
                "reference": self.reference.hex(),
                "action": self.action,
                "data": self.data.hex(),
                "gbz": self.gbz,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> FutureItem:
        try:
            obj = json.loads(raw)
            return cls(
                obj["identity"],
                datetime.fromisoformat(obj["at"]),
                int(obj["message_code"]),
                Eui64(bytes.fromhex(obj["originator"])),
                int(obj["counter"]),
                bytes.fromhex(obj["reference"]),
                obj["action"],
                bytes.fromhex(obj["data"]),
                bool(obj["gbz"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SecurityError(f"corrupt future-dated instruction: {exc}") from exc


def key_of(identity: str) -> str:
    return PREFIX + identity


def pending(tx: Tx) -> list[FutureItem]:
    """Pending instructions, earliest first (ties by identity)."""
    items = []
    for key in tx.keys(PREFIX):
        raw = tx.get(key)
        if raw is not None:
            items.append(FutureItem.from_json(raw))
    return sorted(items, key=lambda i: (i.at, i.identity))


def rearm(tx: Tx) -> None:
    """Keep :data:`TIMER` at the earliest pending instant (cancelled when none)."""
    items = pending(tx)
    tx.timer(TIMER, items[0].at if items else None)


def schedule(tx: Tx, item: FutureItem) -> FutureItem | None:
    """Store ``item`` (replacing a pending one of the same identity, returned) and re-arm."""
    old_raw = tx.get(key_of(item.identity))
    tx.put(key_of(item.identity), item.to_json())
    rearm(tx)
    return None if old_raw is None else FutureItem.from_json(old_raw)


def cancel(tx: Tx, identity: str) -> FutureItem | None:
    """Remove the pending instruction ``identity`` (returned; ``None`` if there was none)."""
    raw = tx.get(key_of(identity))
    if raw is None:
        return None
    tx.delete(key_of(identity))
    rearm(tx)
    return FutureItem.from_json(raw)


def take_due(tx: Tx) -> list[FutureItem]:
    """Remove and return every instruction due at ``tx.now``, earliest first."""
    due = [i for i in pending(tx) if i.at <= tx.now]
    for item in due:
        tx.delete(key_of(item.identity))
    return due
