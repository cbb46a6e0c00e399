"""Join and unjoin as the meter sees them: CS03A1/A2/B/C, CS04AC/B, CS07.

Layer: firmware. gbcs-reference.md 7.8 (payloads and response codes); the use-case registry
(message codes: 0x000D CS03A1 Method A Join (Meter), 0x00AB CS03A2 Method A Join
(non-Meter), 0x000E CS03B Method B, 0x00AF CS03C Method C, 0x000F / 0x0010 unjoin, 0x0013
read join details).

Theory of operation
-------------------
The meter keeps a *device log*: the devices it may talk to over the HAN, by entity
identifier, with their type (NVM ``join/<eui hex>``: JSON ``{"type": n, "method": n,
"ka": hex DER certificate or null}``). A join command names the other device; the
meter checks, in order:

1. the join method and role fits the message code (A1: method A initiator, A2: method A
   responder, B: method B, C: method C) -- else ``invalidMessageCodeForJoinMethodAndRole``;
2. the method is one a meter performs with that kind of device (method A with a PPMID,
   HCALCS or Type 2 device; method C with a Type 2 device; method B is the GSME/GPF pairing
   and not a meter's) -- else ``invalidJoinMethodAndRole``;
3. method C brings the other device's key agreement certificate, naming that device --
   else ``invalidOrMissingCertificate``;
4. an existing entry for the same identifier must have the same type -- else
   ``incompatibleWithExistingEntry`` (the same device again is a success, nothing new);
5. the log has room (:data:`DEVICE_LOG_CAPACITY`) -- else ``deviceLogFull``.

The key establishment itself (CBKE over the HAN) is the HAN layer's; the meter records the
entry and answers success. An unjoin removes the entry (``notInDeviceLog`` when absent).
Every refusal changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from smemu.errors import DecodeError
from smemu.firmware.asn1_respond import HandlerTable, asn1_response, command_payload
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.protocols.asn1 import (
    JoinDeviceCommand,
    JoinDeviceResponse,
    ReadDeviceJoinDetailsResponse,
    UnjoinDeviceCommand,
    UnjoinDeviceResponse,
)
from smemu.protocols.asn1.devices import JoinMethodAndRole, ReadResponseCode, UnjoinResponseCode
from smemu.protocols.asn1.values import DeviceLogEntry, DeviceType, JoinResponseCode
from smemu.protocols.gbcs.types import Eui64

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

PREFIX: Final = "join/"
#: Entries a meter's device log holds.
DEVICE_LOG_CAPACITY: Final = 8

CS03A1: Final = 0x000D
CS03A2: Final = 0x00AB
CS03B: Final = 0x000E
CS03C: Final = 0x00AF
CS04AC: Final = 0x000F
CS04B: Final = 0x0010
CS07: Final = 0x0013

#: message code -> the join method and role it carries
_METHOD_OF_CODE: Final = {
    CS03A1: JoinMethodAndRole.METHOD_A_INITIATOR,
    CS03A2: JoinMethodAndRole.METHOD_A_RESPONDER,
    CS03B: JoinMethodAndRole.METHOD_B,
    CS03C: JoinMethodAndRole.METHOD_C,
}
#: join method -> the device types a device performs it with (a device type's partner table)
Partners = Mapping[JoinMethodAndRole, frozenset[DeviceType]]
#: join method -> the device types a meter performs it with
METER_PARTNERS: Final[Partners] = {
    JoinMethodAndRole.METHOD_A_INITIATOR: frozenset(
        {DeviceType.PPMID, DeviceType.HCALCS, DeviceType.TYPE2}
    ),
    JoinMethodAndRole.METHOD_A_RESPONDER: frozenset(),
    JoinMethodAndRole.METHOD_B: frozenset(),
    JoinMethodAndRole.METHOD_C: frozenset({DeviceType.TYPE2}),
}


def entries(tx: Tx) -> list[DeviceLogEntry]:
    """The device log, in identifier order."""
    found = []
    for key in tx.keys(PREFIX):
        raw = tx.get(key)
        if raw is None:
            continue
        obj = json.loads(raw)
        found.append(
            DeviceLogEntry(Eui64(bytes.fromhex(key[len(PREFIX) :])), DeviceType(obj["type"]))
        )
    return found


def entry_type(tx: Tx, eui: Eui64 | bytes) -> DeviceType | None:
    """The device type the log holds for ``eui`` (``None``: not joined)."""
    raw = tx.get(PREFIX + bytes(eui).hex())
    if raw is None:
        return None
    try:
        return DeviceType(json.loads(raw)["type"])
    except (ValueError, KeyError, TypeError):
        return None


def joined(tx: Tx, device_type: DeviceType) -> list[Eui64]:
    """The identifiers the log holds with type ``device_type``, in identifier order."""
    return [e.device_id for e in entries(tx) if e.device_type is device_type]


def record(tx: Tx, eui: Eui64, device_type: DeviceType, method: JoinMethodAndRole) -> None:
    """Write a device log entry (a join's effect; also a commissioning step)."""
    tx.put(
        PREFIX + bytes(eui).hex(),
        json.dumps(
            {"type": int(device_type), "method": int(method), "ka": None}, sort_keys=True
        ).encode(),
    )


def join_outcome(
    tx: Tx, message_code: int, command: JoinDeviceCommand, partners: Partners = METER_PARTNERS
) -> JoinResponseCode:
    """Check a join (nothing written); SUCCESS means the entry may be recorded.

    :param partners: who the device joins by which method (:data:`METER_PARTNERS` for a
        meter; the gas devices pass their own tables).
    """
    method = command.join_method_and_role
    if _METHOD_OF_CODE.get(message_code) is not method:
        return JoinResponseCode.INVALID_MESSAGE_CODE_FOR_JOIN_METHOD_AND_ROLE
    if command.other_device_type not in partners.get(method, frozenset()):
        return JoinResponseCode.INVALID_JOIN_METHOD_AND_ROLE
    if method is JoinMethodAndRole.METHOD_C and not _certificate_names(
        command.other_device_key_agreement_certificate, command.other_device_entity_identifier
    ):
        return JoinResponseCode.INVALID_OR_MISSING_CERTIFICATE
    raw = tx.get(PREFIX + command.other_device_entity_identifier.hex())
    if raw is not None:
        if json.loads(raw)["type"] != command.other_device_type:
            return JoinResponseCode.INCOMPATIBLE_WITH_EXISTING_ENTRY
        return JoinResponseCode.SUCCESS
    if len(tx.keys(PREFIX)) >= DEVICE_LOG_CAPACITY:
        return JoinResponseCode.DEVICE_LOG_FULL
    return JoinResponseCode.SUCCESS


def _certificate_names(der: bytes | None, eui: Eui64) -> bool:
    if der is None:
        return False
    from cryptography import x509

    from smemu.protocols.security.certificates import certificate_eui

    try:
        return certificate_eui(x509.load_der_x509_certificate(der)) == bytes(eui)
    except ValueError:
        return False


def join(
    machine: CommandMachine, tx: Tx, accepted: Accepted, partners: Partners = METER_PARTNERS
) -> bytes | None:
    """CS03A1 / CS03A2 / CS03B / CS03C (``partners``: who this device joins by which method)."""
    command = command_payload(accepted)
    if not isinstance(command, JoinDeviceCommand):
        raise DecodeError("join payload is not JoinDeviceCommand", path="asn1", offset=0)
    message_code = accepted.command.header.other_information.message_code
    code = join_outcome(tx, message_code, command, partners)
    eui = command.other_device_entity_identifier
    if code is JoinResponseCode.SUCCESS:
        cert = command.other_device_key_agreement_certificate
        tx.put(
            PREFIX + eui.hex(),
            json.dumps(
                {
                    "type": int(command.other_device_type),
                    "method": int(command.join_method_and_role),
                    "ka": None if cert is None else bytes(cert).hex(),
                },
                sort_keys=True,
            ).encode(),
        )
        tx.log("event", f"joined {eui} ({command.other_device_type.name})")
    else:
        tx.log("event", f"join of {eui} refused: {code.name}")
    return asn1_response(machine.credentials, tx, accepted, JoinDeviceResponse(code))


def unjoin(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS04AC / CS04B."""
    command = command_payload(accepted)
    if not isinstance(command, UnjoinDeviceCommand):
        raise DecodeError("unjoin payload is not UnjoinDeviceCommand", path="asn1", offset=0)
    key = PREFIX + command.other_device_entity_identifier.hex()
    if tx.get(key) is None:
        code = UnjoinResponseCode.NOT_IN_DEVICE_LOG
    else:
        tx.delete(key)
        tx.log("event", f"unjoined {command.other_device_entity_identifier}")
        code = UnjoinResponseCode.SUCCESS
    return asn1_response(machine.credentials, tx, accepted, UnjoinDeviceResponse(code))


def read_join_details(machine: CommandMachine, tx: Tx, accepted: Accepted) -> bytes | None:
    """CS07: the device log."""
    command_payload(accepted)  # NULL; raises on anything else
    response = ReadDeviceJoinDetailsResponse(ReadResponseCode.SUCCESS, tuple(entries(tx)))
    return asn1_response(machine.credentials, tx, accepted, response)


HANDLERS: Final[HandlerTable] = {
    CS03A1: join,
    CS03A2: join,
    CS03B: join,
    CS03C: join,
    CS04AC: unjoin,
    CS04B: unjoin,
    CS07: read_join_details,
}
