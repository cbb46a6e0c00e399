"""Preconditions of error scenarios: the device condition a reference ERROR response tests.

Layer: hil. The reference ERROR scenarios send the same command bytes as their SUCCESS twins;
only the answer differs (``hardware-fault`` where the SUCCESS answer says ``success``). A
meter built from the specification answers a good command successfully unless something is
wrong with it -- so the lab, before sending, puts the meter into the condition under test
(it breaks the load switch, fills the certificate store). This module derives that
condition, in generic terms, from the reference scenario:

* :data:`FAILURES` -- the one reviewed table from a response failure code to the
  :class:`Condition` it evidences (or to none: a code the device must produce from its own
  logic, which no precondition may force), with a reason per row;
* :func:`derive` -- reads the reference command and response and names the condition and
  what it concerns (the DLMS attribute or method of the first failed instruction; the ZCL
  command or attribute of each failed GBZ component; for an ASN.1 use case, the use case's
  function as a whole (a :class:`~smemu.firmware.common.faults.UseCasePoint`), or the other
  device / key pair / image the use case acts on).

Not every condition is a fault: some are state a device reaches by earlier use cases (a
join before an unjoin, a new key pair before its certificate, an image delivered before its
activation). Those the runner realises itself, by commands (:mod:`smemu.hil.setup`), or asks
the device to enter (an image delivery is not a head-end command).

A :class:`~smemu.hil.dut.DeviceUnderTest` is then asked to enter each
:class:`Precondition` (``prepare``); a device that cannot (a real rig) says so, and the
runner skips the scenario with that reason. The firmware's answer under the condition is its
own (:mod:`smemu.firmware.common.faults`): nothing here tells a device what to answer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.faults import (
    Access,
    AccessPoint,
    UseCasePoint,
    ZclAccess,
    ZclPoint,
)
from smemu.firmware.gas_zcl import FAILED_REPLIES
from smemu.protocols.asn1 import decode_typed
from smemu.protocols.dlms import apdu
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import KeyStore
from smemu.protocols.zigbee import gbz


class Condition(enum.StrEnum):
    """A device fault condition a lab can put a real meter into."""

    #: the part behind the touched object has failed (a broken switch, a dead register bank,
    #: a credential store that cannot be read or written)
    HARDWARE_FAULT = "hardware-fault"
    #: the part is momentarily unable to serve (busy, resources exhausted)
    TEMPORARY_FAILURE = "temporary-failure"
    #: the device log holds the other device (an earlier join of it)
    JOINED = "joined"
    #: the device holds a key pair it generated (an earlier CS02c) awaiting its certificate
    PENDING_KEY = "pending-key"
    #: the device holds a verified firmware image, not yet activated (a distribution)
    IMAGE_HELD = "image-held"
    #: the device's security log holds an entry of the window a log read names: a command
    #: the device had to reject (:mod:`smemu.hil.preconditions_history`)
    SECURITY_LOGGED = "security-logged"
    #: a sampling the set's Start Sampling (GCS31) began has run its span
    SAMPLED = "sampled"
    #: the set's debt configuration (GCS04) is in force and a top-up (CS01b) repaid debt
    TOPPED_UP = "topped-up"
    #: device time has passed (``elapsed`` seconds) since the runner's last command: an
    #: emulated device's clock is advanced, a rig's lab waits
    ELAPSED = "elapsed"


#: Conditions the runner realises itself, by the commands that lead to them
#: (:mod:`smemu.hil.setup`); a device under test leaves them to it.
BY_COMMAND: Final = frozenset(
    {
        Condition.JOINED,
        Condition.PENDING_KEY,
        Condition.SECURITY_LOGGED,
        Condition.SAMPLED,
        Condition.TOPPED_UP,
    }
)


@dataclass(frozen=True, slots=True)
class Failure:
    """One row of :data:`FAILURES`."""

    family: str  #: payload family of the response: ``dlms``, ``zcl`` or ``asn1``
    #: the result / status / response code (ASN.1: the outcome's responseCode, or the
    #: status every replacement outcome of a credentials update reports)
    code: int
    condition: Condition | None  #: None: the device must produce this code by itself
    reason: str
    #: use cases the row applies to (ASN.1 response codes are per use case; empty: all)
    message_codes: frozenset[int] = frozenset()


_JOINS: Final = frozenset({0x000D, 0x00AB, 0x000E, 0x00AF})  #: CS03A1, CS03A2, CS03B, CS03C
_UNJOINS: Final = frozenset({0x000F, 0x0010})  #: CS04AC, CS04B

#: Response code -> the device condition it evidences. Review like a spec change.
FAILURES: Final[tuple[Failure, ...]] = (
    Failure(
        "dlms",
        1,
        Condition.HARDWARE_FAULT,
        "hardware-fault (gbcs-reference.md, Data-Access-Result / Action-Result 1): only a "
        "failed part makes a conformant meter report it; the lab breaks that part",
    ),
    Failure(
        "dlms",
        2,
        Condition.TEMPORARY_FAILURE,
        "temporary-failure (result 2): the part is busy; the lab keeps it busy",
    ),
    Failure(
        "dlms",
        250,
        None,
        "other-reason: the consequence of an earlier failed instruction, or a check the Use "
        "Case volume defines (e.g. emergency credit not available) -- device logic",
    ),
    Failure(
        "dlms",
        3,
        None,
        "read-write-denied: the device's access rights decide it, not a fault",
    ),
    Failure("dlms", 4, None, "object-undefined: the device's object model decides it"),
    Failure("dlms", 11, None, "object-unavailable: the device's object model decides it"),
    Failure("dlms", 12, None, "type-unmatched: the command's data decides it"),
    Failure(
        "asn1",
        3,
        Condition.HARDWARE_FAULT,
        "CS02c crProductionFailed: the key store / signing engine failed to produce the "
        "certification request (gbcs-reference.md 7.8)",
        frozenset({0x000A}),
    ),
    Failure(
        "asn1",
        3,
        Condition.HARDWARE_FAULT,
        "CS02e certificateRetrievalFailure: the certificate store cannot be read",
        frozenset({0x000C}),
    ),
    Failure(
        "asn1",
        6,
        Condition.HARDWARE_FAULT,
        "CS02d certificateStorageFailed: the certificate store cannot be written",
        frozenset({0x000B}),
    ),
    Failure(
        "asn1",
        5,
        Condition.HARDWARE_FAULT,
        "CS03 writeFailure: the device log cannot be written",
        _JOINS,
    ),
    Failure(
        "asn1",
        1,
        Condition.HARDWARE_FAULT,
        "CS07 readFailure (gbcs-reference.md 7.8): the device log cannot be read",
        frozenset({0x0013}),
    ),
    Failure(
        "asn1",
        1,
        Condition.HARDWARE_FAULT,
        "CS08 readFailure (gbcs-reference.md 7.8): the running firmware's version cannot be "
        "read; a PPMID or HCALCS runs some firmware, so only a failed part makes it say so",
        frozenset({0x0129}),
    ),
    Failure(
        "asn1",
        3,
        Condition.JOINED,
        "CS03 incompatibleWithExistingEntry (gbcs-reference.md 7.8): the device log already "
        "holds the other device, as another device type; the lab joined it before",
        _JOINS,
    ),
    Failure(
        "asn1",
        0,
        Condition.JOINED,
        "CS04 success: only a device whose log holds the other device can unjoin it (else "
        "notInDeviceLog); the lab joined it before",
        _UNJOINS,
    ),
    Failure(
        "asn1",
        0,
        Condition.PENDING_KEY,
        "CS02d success: the certificate carries the public key of a key pair the device made "
        "on an earlier CS02c (gbcs-reference.md 7.8); the lab asked for it before",
        frozenset({0x000B}),
    ),
    Failure(
        "asn1",
        0,
        Condition.IMAGE_HELD,
        "CS06 executionOutcome success: only a device holding the image the command names "
        "activates it (else noImageHeld); the firmware distribution delivered it before",
        frozenset({0x0012}),
    ),
    Failure(
        "asn1",
        10,
        Condition.HARDWARE_FAULT,
        "CS02b / CS02g noTrustAnchor in every replacement outcome, nothing replaced: the "
        "reference commands are those of the SUCCESS twins (only the counters differ), so "
        "the refusal is the device's condition -- its trust anchor store cannot serve",
        frozenset({*range(0x0100, 0x010A), 0x0125, 0x0126}),
    ),
    Failure(
        "zcl",
        0xC0,
        Condition.HARDWARE_FAULT,
        "ZCL HARDWARE_FAILURE (ZCL r8 2.6.3) in a Default Response or a read attribute "
        "status, or a response that reports failure in its own fields (gas_zcl.FAILED_REPLIES: "
        "no log cleared, no sample id): only a failed part makes a conformant meter report "
        "it; the lab breaks it",
    ),
    Failure(
        "zcl",
        0xC1,
        None,
        "ZCL SOFTWARE_FAILURE: a firmware defect, which no lab condition induces",
    ),
)


def failure_row(family: str, code: int, message_code: int) -> Failure | None:
    """The table's row for ``code`` in a ``family`` response to ``message_code``."""
    for row in FAILURES:
        if row.family != family or row.code != code:
            continue
        if row.message_codes and message_code not in row.message_codes:
            continue
        return row
    return None


@dataclass(frozen=True, slots=True)
class Precondition:
    """The device must be in ``condition`` (for ``point``) before the command is sent."""

    condition: Condition
    message_code: int
    #: the DLMS attribute or method, the ZCL command or attribute, or the ASN.1 use case's
    #: function as a whole, concerned; None: the thing the fields below name
    point: AccessPoint | ZclPoint | UseCasePoint | None
    reason: str  #: the table row's reason
    #: JOINED: the device the log must hold
    other_device: Eui64 | None = None
    #: JOINED: the logged entry must be of a device type other than this one (a join that
    #: is refused as incompatibleWithExistingEntry); None: any type
    other_than_type: int | None = None
    #: PENDING_KEY: the key usage (``KeyUsage`` bits) of the key pair
    key_usage: int | None = None
    #: ELAPSED: the seconds of device time that must pass
    elapsed: int | None = None

    def __str__(self) -> str:
        if self.elapsed is not None:
            return f"{self.condition.value} {self.elapsed} s"
        if self.point is not None:
            target = str(self.point)
        elif self.other_device is not None:
            target = f"device {self.other_device}"
            if self.other_than_type is not None:
                target += f" (not as type {self.other_than_type})"
        elif self.key_usage is not None:
            target = f"key usage 0x{self.key_usage:02X}"
        else:
            target = f"the use case 0x{self.message_code:04X}"
        return f"{self.condition.value} for {target}"


def _point(spec: apdu.AccessRequestSpecification) -> AccessPoint:
    if isinstance(spec, (apdu.AccessRequestGet, apdu.AccessRequestGetWithSelection)):
        return AccessPoint(Access.GET, spec.class_id, spec.instance_id, spec.attribute_id)
    if isinstance(spec, (apdu.AccessRequestSet, apdu.AccessRequestSetWithSelection)):
        return AccessPoint(Access.SET, spec.class_id, spec.instance_id, spec.attribute_id)
    return AccessPoint(Access.ACTION, spec.class_id, spec.instance_id, spec.method_id)


def _payload(message: bytes) -> tuple[int, str, bytes]:
    inner = frame.signing_message(frame.locate(message).message)
    if inner is None:
        raise DecodeError("a GBT block", path="message")
    return inner.header.message_code, frame.payload_family(inner.payload), inner.payload


def request_points(command: bytes) -> tuple[AccessPoint, ...]:
    """The access points a DLMS command touches, in order (empty for other payloads)."""
    try:
        _, family, payload = _payload(command)
        if family != "dlms":
            return ()
        request = apdu.decode_exact(payload)
    except DecodeError:
        return ()
    if not isinstance(request, apdu.AccessRequestMessage):
        return ()
    return tuple(_point(spec) for spec in request.specifications)


def response_results(response: bytes) -> tuple[int, ...]:
    """The result codes of a DLMS access-response, in order (empty for other payloads)."""
    try:
        _, family, payload = _payload(response)
        if family != "dlms":
            return ()
        message = apdu.decode_exact(payload)
    except DecodeError:
        return ()
    if not isinstance(message, apdu.AccessResponseMessage):
        return ()
    return tuple(spec.result for spec in message.specifications)


# ------------------------------------------------------------------------------ ASN.1


def _asn1_code(payload: bytes, message_code: int) -> int | None:
    """The outcome code of an ASN.1 response (None: no code, or an undecodable payload).

    The typed payload's ``response_code`` (CS02c/d/e, CS03, CS04, CS07), its execution
    outcome's ``response_code`` (CS06), or the status every replacement outcome of a
    credentials update (CS02b, CS02g) reports when they all report the same one.
    """
    try:
        typed: object = decode_typed(payload, message_code=message_code, cra=2)
    except DecodeError:
        # a bare INTEGER (``02 01 nn``) of a use case without a schema
        if len(payload) == 3 and payload[0] == 0x02 and payload[1] == 0x01:
            return payload[2]
        return None
    code = getattr(typed, "response_code", None)
    outcome = getattr(typed, "execution_outcome", None)
    if code is None and outcome is not None:
        code = getattr(outcome, "response_code", None)
        replacements = getattr(outcome, "replacement_outcomes", ())
        statuses = {int(r.status_code) for r in replacements}
        if code is None and len(statuses) == 1:
            code = statuses.pop()
    return None if code is None else int(code)


def _asn1_command(command: bytes, message_code: int) -> object | None:
    try:
        _, family, payload = _payload(command)
        return decode_typed(payload, message_code=message_code, cra=1) if family == "asn1" else None
    except DecodeError:
        return None


def certificate_usage(der: bytes) -> int | None:
    """The KeyUsage bits (``KeyUsage`` flag values) of an X.509 certificate, or None."""
    from cryptography import x509

    from smemu.protocols.asn1.values import KeyUsage

    try:
        usage = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
            x509.KeyUsage
        )
    except (ValueError, x509.ExtensionNotFound):
        return None
    bits = KeyUsage(0)
    if usage.value.digital_signature:
        bits |= KeyUsage.DIGITAL_SIGNATURE
    if usage.value.key_agreement:
        bits |= KeyUsage.KEY_AGREEMENT
    return bits.value


def _asn1_precondition(row: Failure, command: bytes, message_code: int) -> Precondition | None:
    """The condition of an ASN.1 row with what it concerns, read from the command."""
    if row.condition is None:
        return None
    base = Precondition(row.condition, message_code, None, row.reason)
    typed = _asn1_command(command, message_code)
    if row.condition is Condition.JOINED:
        other = getattr(typed, "other_device_entity_identifier", None)
        if not isinstance(other, Eui64):
            return None
        requested = getattr(typed, "other_device_type", None)
        # a refused join (incompatibleWithExistingEntry) needs an entry of another type
        kind = None if message_code in _UNJOINS or requested is None else int(requested)
        return replace(base, other_device=other, other_than_type=kind)
    if row.condition is Condition.PENDING_KEY:
        certificate = getattr(typed, "certificate", None)
        usage = None if certificate is None else certificate_usage(bytes(certificate))
        return None if usage is None else replace(base, key_usage=usage)
    if row.condition in (Condition.HARDWARE_FAULT, Condition.TEMPORARY_FAILURE):
        return replace(base, point=UseCasePoint(message_code))
    return base


# -------------------------------------------------------------------------------- ZCL

#: general ZCL commands a response component can be (ZCL r8 2.5)
_READ_ATTRIBUTES_RESPONSE: Final = 0x01
_DEFAULT_RESPONSE: Final = 0x0B
_FRAME_TYPE_MASK: Final = 0x03
_CLUSTER_SPECIFIC: Final = 0x01
_HARDWARE_FAILURE: Final = 0xC0


def _zcl_value_length(data: bytes, pos: int) -> int:
    """Length of the ZCL value of type ``data[pos]`` after its type octet.

    :raises DecodeError: an unknown data type.
    """
    from smemu.protocols.zigbee.datatypes import DATA_TYPES

    spec = DATA_TYPES.get(data[pos]) if pos < len(data) else None
    if spec is None:
        raise DecodeError("unknown ZCL data type", path="zcl.type", offset=pos)
    name = spec[0]
    if name in ("octet_string", "character_string"):
        return 1 + data[pos + 1]
    if name in ("long_octet_string", "long_character_string"):
        return 2 + int.from_bytes(data[pos + 1 : pos + 3], "little")
    return int(spec[2])


def _zcl_failures(component: gbz.GbzComponent) -> list[tuple[ZclPoint, int]]:
    """The failed ZCL access points of one response component, with their statuses."""
    if component.encryption is not None:
        return []
    data = component.payload
    if component.frame_control & _FRAME_TYPE_MASK == _CLUSTER_SPECIFIC:
        # a response that reports failure in its own fields (no status to read): the part
        # behind its request failed -- the firmware's own table says which reply that is
        return [
            (ZclPoint(ZclAccess.COMMAND, cluster, request), _HARDWARE_FAILURE)
            for (cluster, request), reply in FAILED_REPLIES.items()
            if cluster == component.cluster_id
            and reply.command_id == component.command_id
            and reply.payload == data
        ]
    if component.frame_control & _FRAME_TYPE_MASK != 0:
        return []
    if component.command_id == _DEFAULT_RESPONSE and len(data) == 2 and data[1]:
        return [(ZclPoint(ZclAccess.COMMAND, component.cluster_id, data[0]), data[1])]
    if component.command_id != _READ_ATTRIBUTES_RESPONSE:
        return []
    found: list[tuple[ZclPoint, int]] = []
    pos = 0
    try:
        while pos + 3 <= len(data):
            attribute = int.from_bytes(data[pos : pos + 2], "little")
            status = data[pos + 2]
            pos += 3
            if status:
                point = ZclPoint(ZclAccess.ATTRIBUTE, component.cluster_id, attribute)
                found.append((point, status))
            else:
                pos += 1 + _zcl_value_length(data, pos)
    except (DecodeError, IndexError):
        return found
    return found


def _plaintext_view(response: bytes, message: gbz.GbzMessage, keys: KeyStore) -> gbz.GbzMessage:
    """``message`` with each encrypted component's ZCL payload decrypted in place.

    A failure status can sit inside a ciphered component (a Read Attributes Response of
    sensitive registers, GCS13b/c): only its plaintext shows which attribute failed. When
    ``keys`` cannot decrypt the response, the components stay encrypted (and evidence
    nothing, as before).
    """
    state, plaintexts = decrypt_payload(frame.locate(response), keys)
    indices = gbz.encrypted_components(message)
    if state != "decrypted" or len(plaintexts) != len(indices):
        return message
    for index, plaintext in zip(indices, plaintexts, strict=True):
        message = gbz.with_plaintext(message, index, plaintext)
    return message


def _command_keys(command: bytes) -> list[tuple[int, int]]:
    """The (cluster, command id) of each component of a GBZ ``command``, in order (empty
    when it is not one)."""
    try:
        _, family, payload = _payload(command)
        if family != "gbz":
            return []
        return [(c.cluster_id, c.command_id) for c in gbz.decode_exact(payload).components]
    except DecodeError:
        return []


def _zcl_preconditions(
    command: bytes, response: bytes, message_code: int, keys: KeyStore | None
) -> tuple[Precondition, ...]:
    try:
        _, _, payload = _payload(response)
        message = gbz.decode_exact(payload)
        if keys is not None and gbz.encrypted_components(message):
            message = _plaintext_view(response, message, keys)
    except DecodeError:
        return ()
    # GBCS 7.2.8: response component i answers command component i, whatever it is (a
    # Publish Snapshot, a Default Response naming the command or 0xFF). A command sent
    # several times in one payload: the failed frame's rank among the command's frames.
    sent = _command_keys(command)
    out: list[Precondition] = []
    for index, component in enumerate(message.components):
        failures = _zcl_failures(component)
        if failures and index < len(sent):
            key = sent[index]
            if sent.count(key) > 1:
                rank = sent[:index].count(key)
                failures = [
                    (replace(p, occurrence=rank) if _names(p, key) else p, code)
                    for p, code in failures
                ]
        for point, status in failures:
            row = failure_row("zcl", status, message_code)
            if row is not None and row.condition is not None:
                out.append(Precondition(row.condition, message_code, point, row.reason))
    return tuple(out)


def _names(point: ZclPoint, key: tuple[int, int]) -> bool:
    """Whether ``point`` is the command ``key`` (cluster, command id) itself."""
    return point.access is ZclAccess.COMMAND and (point.cluster_id, point.index) == key


# ----------------------------------------------------------------------------- derive


def derive(
    command: bytes, response: bytes, keys: KeyStore | None = None
) -> tuple[Precondition, ...]:
    """The preconditions the reference ``response`` to ``command`` evidences.

    DLMS: the first non-success result names the failed instruction; its code's row gives
    the condition, the command's instruction at that index the access point (later results
    are ``other-reason`` by the stop-at-first-failure rule and evidence nothing). GBZ: each
    response component's failed ZCL command (Default Response status) or attribute (Read
    Attributes Response status) -- components are independent, so each failure counts.
    ASN.1: the outcome code (:func:`_asn1_code`), looked up per use case; the command names
    what a JOINED or PENDING_KEY condition concerns. Codes whose row has no condition, and
    codes with no row, give no precondition: the device must answer them by itself.

    :param keys: the key store the reference ``response`` was made with: its encrypted GBZ
        components are decrypted to read their statuses (None: they evidence nothing).
    """
    try:
        message_code, family, payload = _payload(response)
    except DecodeError:
        return ()
    if family == "dlms":
        results = response_results(response)
        index = next((i for i, r in enumerate(results) if r != 0), None)
        if index is None:
            return ()
        row = failure_row("dlms", results[index], message_code)
        if row is None or row.condition is None:
            return ()
        points = request_points(command)
        point = points[index] if index < len(points) else None
        return (Precondition(row.condition, message_code, point, row.reason),)
    if family == "gbz":
        return _zcl_preconditions(command, response, message_code, keys)
    code = _asn1_code(payload, message_code)
    if code is None:
        return ()
    row = failure_row("asn1", code, message_code)
    if row is None:
        return ()
    found = _asn1_precondition(row, command, message_code)
    return () if found is None else (found,)


@dataclass(frozen=True, slots=True)
class Prepared:
    """What preparing the device established, for the replay of the scenario's command."""

    #: the manufacturer image hash of the image the device holds (IMAGE_HELD)
    image_hash: bytes | None = None
    #: key usage (``KeyUsage`` bits) -> SubjectPublicKeyInfo DER of the pending key pair
    pending_keys: Mapping[int, bytes] = field(default_factory=dict)
    #: what was done, for the report (``joined 00-DB-…``)
    steps: tuple[str, ...] = ()


def describe(preconditions: Sequence[Precondition]) -> str:
    """One line for reports: ``hardware-fault for get class 3 1.0.1.8.0.255 #2``."""
    return "; ".join(str(p) for p in preconditions)
