"""The gas meter's ZCL server: one GBZ command payload in, one GBZ response payload out.

Layer: firmware. GBCS reference 7.7 (GBZ layout) and 10.2 (ZCL use in GBCS); Use Case volume,
services 22-32 (the GCS use cases).

Theory of operation
-------------------
A GBZ command is a list of ZCL frames, each addressed to a cluster of the GSME (Basic 0x0000,
Price 0x0700, Calendar 0x0707, Messaging 0x0703, Prepayment 0x0705, Device Management 0x0708,
Events 0x0709, Metering 0x0702). The response has one component per command component, in
the same order, echoing the ZCL sequence number with the direction reversed:

* Read Attributes (general 0x00) -> Read Attributes Response: the value of each attribute the
  meter holds (:class:`AttributeStore`), ``UNSUPPORTED_ATTRIBUTE`` for the others;
* Write Attributes (general 0x02) -> Write Attributes Response (one SUCCESS status): the
  values are stored;
* a cluster-specific command -> the response a :data:`CommandHandler` registered for
  (cluster, command) builds (one or more components: :attr:`ZclReply.more`), else a
  Default Response carrying the command id and SUCCESS (GBCS answers each Publish / Set
  command of a GBZ payload so) after the command's effect, if any, is applied by the handler.

Once a component of an *instruction* (a use case whose "Read or Update" is Update: the
caller passes ``abandon_after_failure``) fails -- its answer is a Default Response with a
status other than SUCCESS -- the meter executes none of the components after it and answers
each with a Default Response for command identifier 0xFF (:data:`NOT_PROCESSED`) and status
FAILURE (the GBZ processing rule of GBCS 7.2 for subsequent commands of a payload; the main
body is not in /work/shared, the reference ERROR responses show it). A read goes on after a
NOT_FOUND: every read is answered (GCS21f). A device fault (HARDWARE_FAILURE or
SOFTWARE_FAILURE, in a Default Response or in an attribute status of a Read Attributes
Response) stops any payload, read or instruction, the same way: the part behind it has failed
and the meter answers the later components "not processed" (the reference GCS14, GCS21m and
GCS60a ERROR responses: a read's hardware failure, then 0xFF / FAILURE). A few ZSE responses
report failure in their own fields and carry no status (:data:`FAILED_REPLIES`: a Clear Event
Log Response naming no log cleared, a Start Sampling Response with sample id 0xFFFF); a fault
of the part behind such a command is answered with that response, not a Default Response.

Everything here is a pure function of NVM (through :class:`~smemu.firmware.common.machine.Tx`)
and the command; no clock is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar

from smemu.errors import DecodeError
from smemu.firmware.common import faults
from smemu.firmware.common.machine import Tx
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import ZclRecord
from smemu.protocols.zigbee.events import ClearEventLogRequest, ClearEventLogResponse
from smemu.protocols.zigbee.metering import StartSampling, StartSamplingResponse
from smemu.protocols.zigbee.zcl import (
    FRAME_CLUSTER_SPECIFIC,
    FRAME_DIRECTION,
    FRAME_DISABLE_DEFAULT_RESPONSE,
    FRAME_GENERAL,
    ZclStatus,
)

#: General command ids (ZCL).
READ_ATTRIBUTES: Final = 0x00
READ_ATTRIBUTES_RESPONSE: Final = 0x01
WRITE_ATTRIBUTES: Final = 0x02
WRITE_ATTRIBUTES_RESPONSE: Final = 0x04
DEFAULT_RESPONSE: Final = 0x0B
#: the command identifier a Default Response names for a component left unprocessed
NOT_PROCESSED: Final = 0xFF
_REPLY_CLEARED: Final = gbz.CONTROL_ENCRYPTED | gbz.CONTROL_LAST | gbz.CONTROL_FROM_DATE_TIME
#: NVM prefix of attribute values: ``gsme/attr/<cluster hex>/<attribute hex>`` -> type || value
ATTR_PREFIX: Final = "gsme/attr/"


@dataclass(frozen=True, slots=True)
class ZclReply:
    """A cluster-specific response a handler built (``None`` from a handler: Default Response)."""

    command_id: int
    payload: bytes
    #: the response's frame control has the disable-default-response bit
    disable_default_response: bool = True
    #: further replies to the same command, sent after this one with the same sequence
    #: number (a Get Day Profiles answers one Publish Day Profile per day profile)
    more: tuple[ZclReply, ...] = ()


#: (tx, cluster id, command component) -> a specific reply, or None for a Default Response.
#: A handler may raise :class:`ZclRefusedError` to answer a Default Response with that status.
CommandHandler = Callable[[Tx, gbz.GbzComponent], ZclReply | None]


class ZclRefusedError(Exception):
    """A command the meter refuses: answered by a Default Response carrying ``status``."""

    def __init__(self, status: ZclStatus, reason: str = "") -> None:
        super().__init__(reason or status.name)
        self.status = status


R = TypeVar("R", bound=ZclRecord)


def decode_request(kind: type[R], comp: gbz.GbzComponent) -> R:
    """A component's command payload as ``kind``; one that does not decode is refused with
    MALFORMED_COMMAND (the meter cannot act on it)."""
    try:
        return kind.decode_exact(comp.payload)
    except DecodeError as exc:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, str(exc)) from exc


def attr_key(cluster_id: int, attribute_id: int) -> str:
    return f"{ATTR_PREFIX}{cluster_id:04x}/{attribute_id:04x}"


#: An attribute the meter computes from other state: ``type || value``, or None.
ComputedAttribute = Callable[[Tx], bytes | None]


@dataclass(frozen=True, slots=True)
class AttributeStore:
    """Attribute values: NVM first, then the computed ones, then the defaults (type code,
    little-endian value)."""

    defaults: Mapping[tuple[int, int], tuple[int, bytes]]
    #: attributes whose value is another part's (the running firmware version ...)
    computed: Mapping[tuple[int, int], ComputedAttribute] = field(default_factory=dict)

    def read(self, tx: Tx, cluster_id: int, attribute_id: int) -> bytes | None:
        """``type || value`` of an attribute, or ``None`` when the meter does not hold it."""
        raw = tx.get(attr_key(cluster_id, attribute_id))
        if raw is not None:
            return raw
        compute = self.computed.get((cluster_id, attribute_id))
        if compute is not None:
            value = compute(tx)
            if value is not None:
                return value
        default = self.defaults.get((cluster_id, attribute_id))
        if default is None:
            return None
        return bytes((default[0],)) + default[1]

    def write(self, tx: Tx, cluster_id: int, attribute_id: int, typed: bytes) -> None:
        tx.put(attr_key(cluster_id, attribute_id), typed)


def _reply_control(command_control: int, frame_type: int, disable: bool) -> int:
    direction = (command_control & FRAME_DIRECTION) ^ FRAME_DIRECTION
    control = frame_type | direction
    if disable:
        control |= FRAME_DISABLE_DEFAULT_RESPONSE
    return control


#: statuses that stop the rest of a payload whatever the use case (see the module docstring)
HALTING: Final = frozenset({ZclStatus.HARDWARE_FAILURE, ZclStatus.SOFTWARE_FAILURE})
_EVENTS: Final = 0x0709
_METERING: Final = 0x0702
#: no sampling started (ZSE Start Sampling Response: the SampleID 0xFFFF)
NO_SAMPLE_ID: Final = 0xFFFF


def _failed(reply: ClearEventLogResponse | StartSamplingResponse) -> ZclReply:
    return ZclReply(reply.COMMAND_ID, reply.encode())


#: (cluster, command) -> the reply of a command whose ZSE response has no status field but
#: says in its own fields that the command failed; a fault of the part behind the command
#: (:func:`~smemu.firmware.common.faults.active_zcl`) is answered with it: CS11 Clear Event
#: Log -- a log store that cannot be written clears no log (ClearedEventsLogs 0); GCS31
#: Start Sampling -- a sampler that cannot run starts none (SampleID 0xFFFF).
FAILED_REPLIES: Final[Mapping[tuple[int, int], ZclReply]] = {
    (_EVENTS, ClearEventLogRequest.COMMAND_ID): _failed(ClearEventLogResponse(0)),
    (_METERING, StartSampling.COMMAND_ID): _failed(StartSamplingResponse(NO_SAMPLE_ID)),
}


def _read(tx: Tx, store: AttributeStore, cluster_id: int, payload: bytes) -> tuple[bytes, bool]:
    """The Read Attributes Response records, and whether a device fault (:data:`HALTING`)
    answered one of them."""
    if len(payload) % 2:
        raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, "odd attribute list")
    out: list[bytes] = []
    halted = False
    for i in range(0, len(payload), 2):
        ident = payload[i : i + 2]
        attribute_id = int.from_bytes(ident, "little")
        # a lab-induced fault of the part behind the attribute (firmware.common.faults)
        fault = faults.active_zcl(tx, faults.ZclAccess.ATTRIBUTE, cluster_id, attribute_id)
        if fault is not None:
            out.append(ident + bytes((fault,)))
            halted = halted or fault in HALTING
            continue
        typed = store.read(tx, cluster_id, attribute_id)
        if typed is None:
            out.append(ident + bytes((ZclStatus.UNSUPPORTED_ATTRIBUTE,)))
        else:
            out.append(ident + b"\x00" + typed)
    return b"".join(out), halted


def _typed_length(data: bytes, pos: int) -> int:
    """Length of the ZCL value of type ``data[pos]`` starting at ``pos + 1``."""
    from smemu.protocols.zigbee.datatypes import DATA_TYPES

    code = data[pos]
    spec = DATA_TYPES.get(code)
    if spec is None:
        raise ZclRefusedError(ZclStatus.INVALID_DATA_TYPE, f"data type 0x{code:02X}")
    name = spec[0]
    if name in ("octet_string", "character_string"):
        return 1 + data[pos + 1]
    if name in ("long_octet_string", "long_character_string"):
        return 2 + int.from_bytes(data[pos + 1 : pos + 3], "little")
    return spec[2]


def _write(tx: Tx, store: AttributeStore, cluster_id: int, payload: bytes) -> bytes:
    pos = 0
    while pos < len(payload):
        if pos + 3 > len(payload):
            raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, "short write record")
        attribute_id = int.from_bytes(payload[pos : pos + 2], "little")
        size = _typed_length(payload, pos + 2)
        end = pos + 3 + size
        if end > len(payload):
            raise ZclRefusedError(ZclStatus.MALFORMED_COMMAND, "short attribute value")
        store.write(tx, cluster_id, attribute_id, payload[pos + 2 : end])
        pos = end
    return bytes((ZclStatus.SUCCESS,))


def serve(
    tx: Tx,
    message: gbz.GbzMessage,
    store: AttributeStore,
    handlers: Mapping[tuple[int, int], CommandHandler],
    *,
    encrypt: Callable[[bytes], bytes] | None = None,
    sensitive: frozenset[int] = frozenset(),
    quiet: frozenset[tuple[int, int]] | None = None,
    abandon_after_failure: bool = False,
) -> gbz.GbzMessage:
    """Execute every component of ``message`` in order; the GBZ response (see the module).

    :param encrypt: turns a ZCL payload into a GBCS ciphered block (reference 4.5); when
        given, every data-carrying reply (not a Default / Write Attributes Response) of a
        cluster in ``sensitive`` travels encrypted, frame counters 0, 1, 2 ... in order.
    :param quiet: when given, the (cluster, response command id) pairs whose frame control
        disables the default response (the use case's GBZ message template); the others,
        and every Default Response, allow it. ``None``: each reply's own flag.
    :param abandon_after_failure: after a failed component, answer the rest "not
        processed" without executing them (an instruction; see the module). A device
        fault (:data:`HALTING`) does so in every payload.
    """
    replies: list[gbz.GbzComponent] = []
    encrypted_count = 0
    seen: dict[tuple[int, int], int] = {}  # (cluster, command) -> its frames so far
    failed = False
    for comp in message.components:
        nth = seen.get((comp.cluster_id, comp.command_id), 0)
        seen[comp.cluster_id, comp.command_id] = nth + 1
        general = comp.frame_control & 0x03 == FRAME_GENERAL
        try:
            if failed:
                reply = ZclReply(
                    DEFAULT_RESPONSE, bytes((NOT_PROCESSED, ZclStatus.FAILURE)), False
                )
                frame_type = FRAME_GENERAL
            elif general and comp.command_id == READ_ATTRIBUTES:
                body, halted = _read(tx, store, comp.cluster_id, comp.payload)
                reply = ZclReply(READ_ATTRIBUTES_RESPONSE, body, False)
                frame_type = FRAME_GENERAL
                failed = halted
            elif general and comp.command_id == WRITE_ATTRIBUTES:
                body = _write(tx, store, comp.cluster_id, comp.payload)
                reply = ZclReply(WRITE_ATTRIBUTES_RESPONSE, body, False)
                frame_type = FRAME_GENERAL
            else:
                # a lab-induced fault of the part behind the command (firmware.common.faults)
                fault = faults.active_zcl(
                    tx, faults.ZclAccess.COMMAND, comp.cluster_id, comp.command_id, nth
                )
                failed_reply = FAILED_REPLIES.get((comp.cluster_id, comp.command_id))
                if fault is not None and failed_reply is None:
                    raise ZclRefusedError(ZclStatus(fault), "fault")
                handler = handlers.get((comp.cluster_id, comp.command_id))
                if fault is not None:
                    specific = failed_reply
                    failed = True
                else:
                    specific = None if handler is None else handler(tx, comp)
                if specific is None:
                    reply = ZclReply(
                        DEFAULT_RESPONSE, bytes((comp.command_id, ZclStatus.SUCCESS)), False
                    )
                    frame_type = FRAME_GENERAL
                else:
                    reply = specific
                    frame_type = FRAME_CLUSTER_SPECIFIC
        except ZclRefusedError as failure:
            reply = ZclReply(DEFAULT_RESPONSE, bytes((comp.command_id, failure.status)), False)
            frame_type = FRAME_GENERAL
            failed = abandon_after_failure or failure.status in HALTING
        for one in (reply, *reply.more):
            encrypted_count = _emit(
                replies, comp, one, frame_type, quiet, encrypt, sensitive, encrypted_count
            )
    if replies:
        replies[-1] = replace(replies[-1], control=replies[-1].control | gbz.CONTROL_LAST)
    return gbz.GbzMessage(tuple(replies))


def _emit(  # noqa: PLR0917 - one reply component's inputs
    replies: list[gbz.GbzComponent],
    comp: gbz.GbzComponent,
    one: ZclReply,
    frame_type: int,
    quiet: frozenset[tuple[int, int]] | None,
    encrypt: Callable[[bytes], bytes] | None,
    sensitive: frozenset[int],
    encrypted_count: int,
) -> int:
    """Append the response component of ``one`` (a reply to ``comp``); the next counter."""
    disable = one.disable_default_response
    if quiet is not None:
        disable = one.command_id != DEFAULT_RESPONSE or frame_type != FRAME_GENERAL
        disable = disable and (comp.cluster_id, one.command_id) in quiet
    control = _reply_control(comp.frame_control, frame_type, disable)
    plain = comp.control & ~(_REPLY_CLEARED)
    secret = (
        encrypt is not None
        and comp.cluster_id in sensitive
        and one.command_id not in (DEFAULT_RESPONSE, WRITE_ATTRIBUTES_RESPONSE)
    )
    if secret and encrypt is not None:
        block = gbz.GbzEncryption(0, encrypted_count, encrypt(one.payload))
        encrypted_count += 1
        replies.append(
            gbz.GbzComponent(
                plain | gbz.CONTROL_ENCRYPTED,
                comp.cluster_id,
                control,
                comp.sequence,
                one.command_id,
                encryption=block,
            )
        )
    else:
        replies.append(
            gbz.GbzComponent(
                plain, comp.cluster_id, control, comp.sequence, one.command_id, one.payload
            )
        )
    return encrypted_count
