"""Preconditions a head-end realises by commands: a join before an unjoin, a key pair first.

Layer: hil. Some reference scenarios test a device in a state earlier use cases leave it in
(:mod:`smemu.hil.preconditions`): the device log already holds the other device (JOINED),
or the device made a new key pair whose certificate the command brings (PENDING_KEY). A lab
reaches that state the way an operator would, with those earlier commands, and so does the
runner -- on an emulated device and a real rig alike:

* JOINED -- a join of the other device: before an unjoin, by the method the device type
  performs (:data:`UNJOIN_METHODS`: CS03A1 on a meter, CS03A2 on a PPMID or HCALCS, CS03B
  between a GSME and a GPF); before a join refused as incompatible, by the same method as
  another device type (:data:`METHOD_PARTNERS`);
* PENDING_KEY -- CS02c Issue Security Credentials for the key usage; the public key of the
  certification request answered is kept (:class:`Prepared`), so the replay can have the
  certificate it sends issued over it;
* a HAN-only command (PCS01, PCS02: a PPMID to a GSME) is accepted only from a device the
  recipient's device log holds with its key agreement certificate (the MAC key is agreed
  with it, GBCS 4.3.3): :func:`join_han_party` joins the stand-in PPMID first by CS03C
  (Method C, the PPMID's KA certificate), as the supplier does at commissioning.

Each command is built, signed as the supplier (both use cases are critical, SME.C.C) and
MAC'd by the head-end, sent, and must be answered with success, else the scenario cannot run.

History a log read needs (:mod:`smemu.hil.preconditions_history`) is made the same way:

* SECURITY_LOGGED -- a command the device must reject by its own checks: a Read Security Log
  (CS10b) whose MAC does not verify (its last octet, the end of the GCM tag, inverted: GBCS
  5 -- a command failing its integrity check is discarded), so the device discards it,
  unanswered, and logs it at its clock;
* TOPPED_UP -- a top-up, CS01b Apply Prepayment Top Up (a GBZ Consumer Top Up, Originating
  Device 0x00 Energy Service Interface as the Use Case volume fixes it), whose UTRN the
  supplier makes with its prepayment key for the device (:data:`TOP_UP_PENCE`); the runner
  replays the set's debt configuration (GCS04) before it, so the device collects
  payment-based debt from it and logs the repayment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError, HalTimeout, SmemuError
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType as MachineType
from smemu.hil.dut import DeviceUnderTest
from smemu.hil.headend import HeadEnd, OutgoingCommand, Received
from smemu.hil.preconditions import Condition, Precondition, Prepared
from smemu.protocols.asn1 import (
    IssueSecurityCredentialsCommand,
    JoinDeviceCommand,
    decode_typed,
)
from smemu.protocols.asn1.base import Asn1Payload
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import Certificate, DeviceType, KeyUsage
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.utrn import encode_utrn
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.events import GetEventLog, LogId
from smemu.protocols.zigbee.prepayment import ConsumerTopUp, ConsumerTopUpResponse

#: Message codes of the commands sent.
CS02C: Final = 0x000A
CS04AC: Final = 0x000F
CS04B: Final = 0x0010
CS03C: Final = 0x00AF
CS10B: Final = 0x00A1
CS01B: Final = 0x0097
#: The value of the top-up the runner applies (pennies; a UTRN carries 0..8191): a
#: consumer's ordinary 50-pound top-up, enough for a debt recovery rate to collect from.
TOP_UP_PENCE: Final = 5000
_EVENTS: Final = 0x0709
_PREPAYMENT: Final = 0x0705
#: Consumer Top Up's Originating Device for a top-up from the head-end (CS01b)
_ENERGY_SERVICE_INTERFACE: Final = 0x00
_M = JoinMethodAndRole
#: join method -> its message code (CS03A1, CS03A2, CS03B, CS03C)
JOIN_CODES: Final[Mapping[JoinMethodAndRole, int]] = {
    _M.METHOD_A_INITIATOR: 0x000D,
    _M.METHOD_A_RESPONDER: 0x00AB,
    _M.METHOD_B: 0x000E,
    _M.METHOD_C: 0x00AF,
}
#: join method -> the device types joined by it, in the order tried (gbcs-reference.md 7.8:
#: a meter initiates Method A with a PPMID, HCALCS or Type 2 device and a PPMID or HCALCS
#: responds to a meter; Method B pairs a GSME and a GPF)
METHOD_PARTNERS: Final[Mapping[JoinMethodAndRole, tuple[DeviceType, ...]]] = {
    _M.METHOD_A_INITIATOR: (DeviceType.PPMID, DeviceType.HCALCS, DeviceType.TYPE2),
    _M.METHOD_A_RESPONDER: (DeviceType.ESME, DeviceType.GSME),
    _M.METHOD_B: (DeviceType.GPF, DeviceType.GSME),
    _M.METHOD_C: (DeviceType.PPMID, DeviceType.TYPE2),
}


@dataclass(frozen=True, slots=True)
class JoinMethod:
    """How a device of one type joins the device an unjoin removes."""

    method: JoinMethodAndRole
    partner: DeviceType  #: the type the other device is joined as


#: (unjoin message code, device type) -> the join that puts the other device in the log:
#: Method A (CS04AC) by the side the device type plays, Method B (CS04B) by the GSME / GPF
#: pairing. Method C needs the other device's certificate and is not used.
UNJOIN_METHODS: Final[Mapping[tuple[int, MachineType], JoinMethod]] = {
    (CS04AC, MachineType.ESME): JoinMethod(_M.METHOD_A_INITIATOR, DeviceType.PPMID),
    (CS04AC, MachineType.GPF): JoinMethod(_M.METHOD_A_INITIATOR, DeviceType.PPMID),
    (CS04AC, MachineType.PPMID): JoinMethod(_M.METHOD_A_RESPONDER, DeviceType.ESME),
    (CS04AC, MachineType.HCALC): JoinMethod(_M.METHOD_A_RESPONDER, DeviceType.ESME),
    (CS04B, MachineType.GSME): JoinMethod(_M.METHOD_B, DeviceType.GPF),
    (CS04B, MachineType.GPF): JoinMethod(_M.METHOD_B, DeviceType.GSME),
}
_METHOD_OF_CODE: Final = {code: method for method, code in JOIN_CODES.items()}


class SetupError(SmemuError):
    """A precondition command failed: raised by :func:`realise`.

    Scenarios: the device type performs no join the runner knows, the device refused the
    join or the key pair request, no verified response came back.
    """


def join_command(precondition: Precondition, device_type: MachineType) -> tuple[int, Asn1Payload]:
    """The join realising a JOINED ``precondition`` on a device of ``device_type``.

    Before an unjoin: the join :data:`UNJOIN_METHODS` names. Before a join refused as
    incompatible: a join by the same method of the other device as the first partner type
    of the method (:data:`METHOD_PARTNERS`) other than the one the command asks for.

    :raises SetupError: no join is known for the device type, or no partner type is left.
    """
    other = precondition.other_device
    method = _METHOD_OF_CODE.get(precondition.message_code)
    if other is None:
        raise SetupError(f"no device to join ({precondition})")
    if method is None:
        known = UNJOIN_METHODS.get((precondition.message_code, device_type))
        if known is None:
            raise SetupError(f"no join known for a {device_type.value} ({precondition})")
        return JOIN_CODES[known.method], JoinDeviceCommand(known.method, other, known.partner)
    kinds = [k for k in METHOD_PARTNERS[method] if k != precondition.other_than_type]
    if not kinds:
        raise SetupError(f"no device type to join {other} as ({precondition})")
    return JOIN_CODES[method], JoinDeviceCommand(method, other, kinds[0])


def _command(
    head_end: HeadEnd, device: DeviceUnderTest, message_code: int, payload: Asn1Payload
) -> OutgoingCommand:
    originator = head_end.party(Role.SUPPLIER)
    counter = head_end.counters.next(originator, device.eui)
    header = GroupingHeader(
        Cra.COMMAND, counter, originator, device.eui, None, OtherInformation(message_code)
    )
    unsigned = GeneralSigningMessage(header, payload.encode(), None)
    return head_end.submit(unsigned, use_case=f"0x{message_code:04X}", sign=True)


async def send(
    device: DeviceUnderTest, head_end: HeadEnd, command: OutgoingCommand, *, timeout: float
) -> Received | None:
    """Send ``command``; its verified response, or None (no response, or not verified)."""
    answers = await device.exchange(command.data, timeout=timeout)
    for raw in answers:
        for received in head_end.accept(raw):
            if received.command is command:
                return received if received.verified else None
    return None


def _response_payload(received: Received, message_code: int) -> object:
    inner = None if received.message is None else frame.signing_message(received.message)
    if inner is None:
        raise SetupError(f"0x{message_code:04X}: the response is not a general-signing message")
    try:
        return decode_typed(inner.payload, message_code=message_code, cra=2)
    except DecodeError as exc:
        raise SetupError(f"0x{message_code:04X}: the response does not decode: {exc}") from exc


async def realise(
    device: DeviceUnderTest,
    head_end: HeadEnd,
    preconditions: Sequence[Precondition],
    *,
    timeout: float,
) -> Prepared:
    """Realise the :data:`~smemu.hil.preconditions.BY_COMMAND` conditions among
    ``preconditions`` (the others are the device's).

    :raises SetupError: a command was refused or not answered (see the class).
    """
    pending: dict[int, bytes] = {}
    steps: list[str] = []
    for precondition in preconditions:
        if precondition.condition is Condition.JOINED:
            code, payload = join_command(precondition, device.device_type)
            command = _command(head_end, device, code, payload)
            received = await send(device, head_end, command, timeout=timeout)
            if received is None:
                raise SetupError(f"{precondition}: the join was not answered verifiably")
            outcome = getattr(_response_payload(received, code), "response_code", None)
            if outcome != 0:
                raise SetupError(f"{precondition}: the join was refused ({outcome})")
            assert isinstance(payload, JoinDeviceCommand)
            steps.append(
                f"joined {payload.other_device_entity_identifier} as "
                f"{payload.other_device_type.name}"
            )
        elif precondition.condition is Condition.PENDING_KEY and precondition.key_usage:
            usage = KeyUsage(precondition.key_usage)
            command = _command(head_end, device, CS02C, IssueSecurityCredentialsCommand(usage))
            received = await send(device, head_end, command, timeout=timeout)
            if received is None:
                raise SetupError(f"{precondition}: CS02c was not answered verifiably")
            answer = _response_payload(received, CS02C)
            request = getattr(answer, "certification_request", None)
            if request is None:
                raise SetupError(f"{precondition}: CS02c was refused")
            pending[usage.value] = _request_public_key(bytes(request))
            steps.append(f"new key pair for key usage 0x{usage.value:02X} (CS02c)")
        elif precondition.condition is Condition.SECURITY_LOGGED:
            steps.append(await send_rejected(device, head_end, timeout=timeout))
        elif precondition.condition is Condition.TOPPED_UP:
            steps.append(await top_up(device, head_end, TOP_UP_PENCE, timeout=timeout))
    return Prepared(pending_keys=pending, steps=tuple(steps))


def _gbz_command(
    head_end: HeadEnd,
    device: DeviceUnderTest,
    message_code: int,
    component: gbz.GbzComponent,
    counter: int,
) -> OutgoingCommand:
    """A non-critical GBZ command from the supplier, MAC'd, with ``counter``."""
    originator = head_end.party(Role.SUPPLIER)
    header = GroupingHeader(
        Cra.COMMAND, counter, originator, device.eui, None, OtherInformation(message_code)
    )
    payload = gbz.encode(gbz.GbzMessage((component,)))
    unsigned = GeneralSigningMessage(header, payload, None)
    return head_end.submit(unsigned, use_case=f"0x{message_code:04X}", sign=False)


async def send_rejected(device: DeviceUnderTest, head_end: HeadEnd, *, timeout: float) -> str:
    """Send a Read Security Log whose MAC does not verify, which the device must discard
    (and log) by its integrity check; the step for reports.

    :raises SetupError: the device answered it (it accepted a bad MAC).
    """
    request = GetEventLog(int(LogId.SECURITY_EVENT_LOG), 0, 0, 0xFFFF_FFFE, 0, 0)
    component = gbz.GbzComponent(
        gbz.CONTROL_LAST, _EVENTS, 0x01, 0, GetEventLog.COMMAND_ID, request.encode()
    )
    counter = head_end.counters.next(head_end.party(Role.SUPPLIER), device.eui)
    command = _gbz_command(head_end, device, CS10B, component, counter)
    tampered = command.data[:-1] + bytes((command.data[-1] ^ 0xFF,))
    try:
        answers = await device.exchange(tampered, timeout=timeout)
    except HalTimeout:  # a real device says nothing to a discarded command
        answers = []
    if any(r.command is command for raw in answers for r in head_end.accept(raw)):
        raise SetupError("a command whose MAC does not verify was answered")
    return "sent CS10b with a MAC that does not verify: rejected, security-logged"


async def top_up(
    device: DeviceUnderTest, head_end: HeadEnd, pence: int, *, timeout: float
) -> str:
    """Apply a top-up of ``pence`` by CS01b, its UTRN made by the supplier for the device;
    the step for reports.

    :raises SetupError: no prepayment key pair, no verified answer, or a refused top-up.
    """
    supplier = head_end.party(Role.SUPPLIER)
    counter = head_end.counters.next(supplier, device.eui, utrn=True)
    secret = head_end.keystore.prepayment_secret(bytes(supplier), bytes(device.eui))
    if secret is None:
        raise SetupError(f"no prepayment key pair for the supplier {supplier} and {device.eui}")
    code = encode_utrn(
        prepayment_secret=secret,
        originator=bytes(supplier),
        target=bytes(device.eui),
        counter=counter,
        value=pence,
    )
    request = ConsumerTopUp(_ENERGY_SERVICE_INTERFACE, code.encode("ascii"))
    component = gbz.GbzComponent(
        gbz.CONTROL_LAST, _PREPAYMENT, 0x01, 0, ConsumerTopUp.COMMAND_ID, request.encode()
    )
    command = _gbz_command(head_end, device, CS01B, component, counter)
    received = await send(device, head_end, command, timeout=timeout)
    if received is None or received.message is None:
        raise SetupError("the CS01b top-up was not answered verifiably")
    result = _top_up_result(received)
    if result != 0:
        raise SetupError(f"the CS01b top-up was refused (result {result})")
    return f"topped up {pence} pence (CS01b)"


def _top_up_result(received: Received) -> int | None:
    """The Result Type of a CS01b response's Consumer Top Up Response (None: none)."""
    inner = None if received.message is None else frame.signing_message(received.message)
    try:
        message = None if inner is None else gbz.decode_exact(inner.payload)
    except DecodeError:
        return None
    for c in () if message is None else message.components:
        if (c.cluster_id, c.command_id) == (_PREPAYMENT, ConsumerTopUpResponse.COMMAND_ID):
            try:
                return int(ConsumerTopUpResponse.decode_exact(c.payload).result_type)
            except DecodeError:
                return None
    return None


async def join_han_party(
    device: DeviceUnderTest,
    head_end: HeadEnd,
    party: Eui64,
    certificate: bytes,
    *,
    timeout: float,
) -> str:
    """Join the PPMID ``party`` (its key agreement ``certificate``, DER) to ``device`` by
    CS03C, so that the HAN-only command it sends next is accepted; the step for reports.

    :raises SetupError: the join was not answered verifiably, or was refused.
    """
    payload = JoinDeviceCommand(
        JoinMethodAndRole.METHOD_C, party, DeviceType.PPMID, Certificate(certificate)
    )
    command = _command(head_end, device, CS03C, payload)
    received = await send(device, head_end, command, timeout=timeout)
    if received is None:
        raise SetupError(f"CS03C of the HAN party {party} was not answered verifiably")
    outcome = getattr(_response_payload(received, CS03C), "response_code", None)
    if outcome != 0:
        raise SetupError(f"CS03C of the HAN party {party} was refused ({outcome})")
    return f"joined {party} as PPMID (CS03C, for the HAN-only command)"


def _request_public_key(der: bytes) -> bytes:
    """The SubjectPublicKeyInfo DER of a PKCS #10 certification request."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        request = x509.load_der_x509_csr(der)
    except ValueError as exc:
        raise SetupError(f"CS02c answered no certification request: {exc}") from exc
    return request.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
