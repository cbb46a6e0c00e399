"""The gas meter's supplier messages (Messaging cluster 0x0703) and their relay to the PPMID.

Layer: firmware. Use Case volume GCS07 Send Message to GSME (mapping row 1398,
SupplierMessage: 1-116 characters; "GPF Gas ESI Tap-Off: Yes"); ZigBee SE 1.4 Messaging
cluster (Display Message, Cancel Message, Cancel All Messages, Get Last Message).

Theory of operation
-------------------
*On the meter* (the handlers of :data:`HANDLERS`, served by the GSME and by the GPF):
Display Message stores the supplier's message with its validity -- its start (0: the time
it is received) and duration in minutes (0xFFFF: until changed) -- in NVM :data:`MESSAGE`,
replacing the one held; GCS07's answer is a Default Response. Cancel Message removes it when
the id matches (NOT_FOUND otherwise), Cancel All Messages removes any. A ZSE client's Get
Last Message (the client-to-server command with Display Message's id) is answered with a
Display Message of the message valid now, NOT_FOUND when there is none.
:func:`current` is the message valid at an instant.

*Relay to the PPMID*: the message is mirrored to the GPF with the rest of the GSME's data
(:mod:`smemu.firmware.gas_mirror`; the volume's "tap-off": the GPF holds what the GSME was
told), and the GPF is the gas ESI a PPMID reads. After each mirror refresh the GPF calls
:func:`relay_to_ppmids`: when the message valid now differs from the one it last relayed
(NVM :data:`RELAYED`), it sends each PPMID of its device log, on its ``zse`` port
(``cluster id (2, BE) | ZCL frame``, as the ESME does for its PPMIDs), a Display Message --
or a Cancel Message once the message has expired or been cancelled. The PPMID shows it
(:meth:`smemu.firmware.ppmid.PpmidMachine.show_command`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from smemu.firmware import joins
from smemu.firmware.common.machine import Tx
from smemu.firmware.gas_zcl import CommandHandler, ZclRefusedError, ZclReply, decode_request
from smemu.protocols.asn1.values import DeviceType
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000
from smemu.protocols.zigbee.messaging import (
    CancelAllMessages,
    CancelMessage,
    DisplayMessage,
)
from smemu.protocols.zigbee.registry import ZclFrame
from smemu.protocols.zigbee.zcl import FRAME_DIRECTION, ZclCommand, ZclStatus

MESSAGING: Final = 0x0703
#: NVM (mirrored to the GPF): the supplier's message, JSON
MESSAGE: Final = "gsme/message"
#: NVM of the GPF: the id and start of the message last relayed to the PPMIDs (JSON, or null)
RELAYED: Final = "gpf/message/relayed"
#: NVM of the GPF: the ZCL sequence number of its ZSE frames
SEQUENCE: Final = "gpf/message/sequence"
ZSE_PORT: Final = "zse"
#: Duration In Minutes meaning "until changed"
UNTIL_CHANGED: Final = 0xFFFF
#: longest supplier message (SMETS SupplierMessage, GCS07: 1-116 characters)
MAX_MESSAGE: Final = 116


class Reader(Protocol):
    """What the readers here need of NVM: a :class:`Tx` or a committed NVM mapping."""

    def get(self, key: str, /) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class SupplierMessage:
    """A supplier's message the meter holds (GCS07)."""

    message_id: int
    message_control: int
    #: start, seconds since 2000 (a Display Message's 0 is resolved to its arrival)
    start: int
    #: minutes; :data:`UNTIL_CHANGED` for no end
    duration: int
    text: bytes

    @property
    def starts(self) -> datetime:
        return EPOCH_2000 + timedelta(seconds=self.start)

    @property
    def ends(self) -> datetime | None:
        """The end of its validity (None: until changed)."""
        if self.duration == UNTIL_CHANGED:
            return None
        return self.starts + timedelta(minutes=self.duration)

    def valid_at(self, at: datetime) -> bool:
        end = self.ends
        return self.starts <= at and (end is None or at < end)

    def command(self) -> DisplayMessage:
        """The Display Message that publishes it."""
        return DisplayMessage(
            self.message_id, self.message_control, self.start, self.duration, self.text
        )


def held(nvm: Reader) -> SupplierMessage | None:
    """The message stored, valid or not."""
    raw = nvm.get(MESSAGE)
    if raw is None:
        return None
    found = json.loads(raw)
    return SupplierMessage(
        int(found["id"]),
        int(found["control"]),
        int(found["start"]),
        int(found["duration"]),
        bytes.fromhex(found["text"]),
    )


def current(nvm: Reader, at: datetime) -> SupplierMessage | None:
    """The message valid at ``at``."""
    found = held(nvm)
    return found if found is not None and found.valid_at(at) else None


def _store(tx: Tx, message: SupplierMessage) -> None:
    record = {
        "id": message.message_id,
        "control": message.message_control,
        "start": message.start,
        "duration": message.duration,
        "text": message.text.hex(),
    }
    tx.put(MESSAGE, json.dumps(record, sort_keys=True).encode())


def display_message(tx: Tx, comp: gbz.GbzComponent) -> ZclReply | None:
    """GCS07 (0x00 Display Message): keep the message; the same id from a client is Get
    Last Message, answered with the message valid now."""
    if not comp.frame_control & FRAME_DIRECTION:
        found = current(tx, tx.now)
        if found is None:
            raise ZclRefusedError(ZclStatus.NOT_FOUND, "no message")
        return ZclReply(DisplayMessage.COMMAND_ID, found.command().encode())
    request = decode_request(DisplayMessage, comp)
    if not 1 <= len(request.message) <= MAX_MESSAGE:
        raise ZclRefusedError(ZclStatus.INVALID_VALUE, f"{len(request.message)} characters")
    start = request.start_time or int((tx.now - EPOCH_2000).total_seconds())
    _store(
        tx,
        SupplierMessage(
            request.message_id,
            request.message_control,
            start,
            request.duration_in_minutes,
            request.message,
        ),
    )
    return None


def cancel_message(tx: Tx, comp: gbz.GbzComponent) -> None:
    """Messaging 0x01 Cancel Message: remove the message of that id."""
    if not comp.frame_control & FRAME_DIRECTION:
        raise ZclRefusedError(ZclStatus.UNSUP_CLUSTER_COMMAND, "message confirmation")
    request = decode_request(CancelMessage, comp)
    found = held(tx)
    if found is None or found.message_id != request.message_id:
        raise ZclRefusedError(ZclStatus.NOT_FOUND, f"message {request.message_id}")
    tx.delete(MESSAGE)


def cancel_all_messages(tx: Tx, comp: gbz.GbzComponent) -> None:
    """Messaging 0x03 Cancel All Messages: remove any message held."""
    if not comp.frame_control & FRAME_DIRECTION:
        raise ZclRefusedError(ZclStatus.UNSUP_CLUSTER_COMMAND, "not a client command")
    decode_request(CancelAllMessages, comp)
    tx.delete(MESSAGE)


def zse_frame(command: ZclCommand, sequence: int) -> bytes:
    """A ``zse`` port frame: the command's cluster id (2, big-endian), then its ZCL frame."""
    built = ZclFrame.build(command, sequence & 0xFF, disable_default_response=True)
    return built.cluster_id.to_bytes(2, "big") + built.encode()


def relay(tx: Tx) -> bytes | None:
    """The frame that brings the PPMIDs up to the message valid now, or None when what they
    were last sent is still right (records what is sent)."""
    found = current(tx, tx.now)
    now_key = None if found is None else [found.message_id, found.start]
    last = tx.get_json(RELAYED)
    if last == now_key:
        return None
    tx.put_json(RELAYED, now_key)
    sequence = (tx.get_int(SEQUENCE) + 1) & 0xFF
    tx.put_int(SEQUENCE, sequence)
    if found is not None:
        return zse_frame(found.command(), sequence)
    withdrawn = last[0] if isinstance(last, list) and last else 0
    return zse_frame(CancelMessage(int(withdrawn), 0), sequence)


def relay_to_ppmids(tx: Tx) -> int:
    """Send :func:`relay`'s frame to every PPMID of the device log; the number sent."""
    ppmids = joins.joined(tx, DeviceType.PPMID)
    if not ppmids:
        return 0
    data = relay(tx)
    if data is None:
        return 0
    for eui in ppmids:
        tx.send(ZSE_PORT, data, eui)
    return len(ppmids)


#: (cluster, command) -> handler, for :data:`smemu.firmware.gas_handlers.HANDLERS`
HANDLERS: Final[dict[tuple[int, int], CommandHandler]] = {
    (MESSAGING, 0x00): display_message,
    (MESSAGING, 0x01): cancel_message,
    (MESSAGING, 0x03): cancel_all_messages,
}
