"""Reading what came back in the demo story: registers, balances, firmware versions, results.

Layer: hil. The head-end (:mod:`smemu.hil.headend`) correlates and verifies an answer; these
functions read its payload the way a meter engineer looks at it: the decrypted register
collections of a protected read (ECS17b, ECS17d), the meter balance (ECS82), the firmware
version of any device (ECS52 DLMS, CS08 ASN.1, GCS38 GBZ) and a one-line description of
any other response or alert.
"""

from __future__ import annotations

from typing import Final

from smemu.errors import DecodeError, SecurityError
from smemu.hil.commands_han import gbz_firmware_version
from smemu.hil.headend import HeadEnd, Outcome, Received
from smemu.protocols import asn1, zigbee
from smemu.protocols.asn1 import ReadFirmwareVersionResponse
from smemu.protocols.dlms import apdu, protection
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import (
    Array,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Long64Unsigned,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.frame import GeneralSigningMessage

#: DLMS disconnect control_state (IC 70 attribute 3)
CONTROL_STATES: Final = {0: "disconnected", 1: "connected", 2: "ready for reconnection"}


def inner(received: Received | None) -> GeneralSigningMessage | None:
    """The general-signing message of an answer (``None`` when there is none)."""
    if received is None or received.message is None:
        return None
    return frame.signing_message(received.message)


def access_response(received: Received | None) -> apdu.AccessResponseMessage | None:
    """The DLMS access-response of an answer, if it is one."""
    message = inner(received)
    if message is None or frame.payload_family(message.payload) != "dlms":
        return None
    try:
        body = apdu.decode_exact(message.payload)
    except DecodeError:
        return None
    return body if isinstance(body, apdu.AccessResponseMessage) else None


def values(received: Received | None) -> tuple[Data, ...]:
    """The data of a DLMS access-response (empty when there is none)."""
    body = access_response(received)
    return () if body is None else body.list_of_data


def failures(received: Received | None) -> list[int]:
    """The non-zero results of a DLMS access-response."""
    body = access_response(received)
    return [] if body is None else [s.result for s in body.specifications if s.result != 0]


def numbers(value: Data | None) -> list[int]:
    """Every unsigned register value inside ``value``, depth first."""
    if isinstance(value, DoubleLongUnsigned | Long64Unsigned):
        return [value.value]
    if isinstance(value, Structure | Array):
        return [n for item in value.items for n in numbers(item)]
    return []


def decrypted(received: Received | None, head_end: HeadEnd) -> Data | None:
    """The plaintext of a protected read's answer, decrypted with the head-end's keys."""
    if received is None:
        return None
    _, plaintexts = decrypt_payload(frame.locate(received.data), head_end.keystore)
    return protection.decode_plaintext(plaintexts[0]) if plaintexts else None


def tou_registers(value: Data | None) -> tuple[int, ...]:
    """The 48 primary TOU registers (Wh) of an ECS17d plaintext.

    The plaintext is ``structure { TOU_register_collection }`` whose first member is the
    array of primary registers (Use Case volume, ECS17d row 28).
    """
    collection = value.items[0] if isinstance(value, Structure) and value.items else None
    primary = (
        collection.items[0]
        if isinstance(collection, Structure) and collection.items
        else None
    )
    if not isinstance(primary, Array):
        return ()
    return tuple(v.value for v in primary.items if isinstance(v, DoubleLongUnsigned))


def money(units: int) -> str:
    """10^-5 currency units as pounds."""
    return f"£{units / 100_000:,.2f}"


def kwh(wh: int) -> str:
    """Watt-hours as kWh with one decimal."""
    return f"{wh / 1000:,.1f} kWh"


def balance(received: Received | None) -> int | None:
    """ECS82's meter balance (10^-5 currency units)."""
    found = values(received)
    return found[0].value if found and isinstance(found[0], DoubleLong) else None


def firmware_version(received: Received | None) -> tuple[bytes | None, str]:
    """The firmware version an ECS52, CS08 or GCS38 answer reports, and why not when absent."""
    message = inner(received)
    if message is None:
        return None, "no answer"
    family = frame.payload_family(message.payload)
    if family == "dlms":
        found = values(received)
        if found and isinstance(found[0], OctetString):
            return found[0].value, "read"
        return None, "read failed: " + ", ".join(f"result {r}" for r in failures(received))
    if family == "gbz":
        try:
            payload = zigbee.decode_typed(message.payload, alert=False)
        except DecodeError as exc:
            return None, f"undecodable GBZ answer ({exc})"
        version = gbz_firmware_version(payload)
        if version is not None:
            return version, "read"
        return None, "not served by the device (ZCL status " + _zcl_statuses(payload) + ")"
    try:
        typed = asn1.decode_typed(
            message.payload, message_code=message.header.message_code, cra=message.header.cra
        )
    except DecodeError as exc:
        return None, f"undecodable answer ({exc})"
    if isinstance(typed, ReadFirmwareVersionResponse):
        if typed.response_code == 0:
            return typed.firmware_version, "read"
        return None, f"read failure (response code {int(typed.response_code)})"
    return None, f"unexpected answer {type(typed).__name__}"


def gbz_statuses(received: Received | None) -> list[int] | None:
    """The ZCL statuses of a GBZ answer, component by component (default responses and
    records alike); ``None``: no decodable GBZ answer."""
    message = inner(received)
    if message is None or frame.payload_family(message.payload) != "gbz":
        return None
    try:
        payload = zigbee.decode_typed(message.payload, alert=False)
    except DecodeError:
        return None
    found: list[int] = []
    for component in payload.components:
        status = getattr(component.command, "status", None)
        if isinstance(status, int):
            found.append(status)
        for record in getattr(component.command, "records", ()):
            record_status = getattr(record, "status", None)
            if isinstance(record_status, int):
                found.append(record_status)
    return found


def gbz_read_value(received: Received | None, head_end: HeadEnd, attribute: int) -> int | None:
    """The integer value of ``attribute`` in a GBZ Read Attributes answer (decrypted with the
    head-end's keys when encrypted); ``None``: absent, failed or undecodable."""
    message = inner(received)
    if received is None or message is None:
        return None
    try:
        _, plaintexts = decrypt_payload(frame.locate(received.data), head_end.keystore)
        payload = zigbee.decode_typed(message.payload, alert=False, plaintexts=plaintexts)
    except (DecodeError, SecurityError):
        return None
    for component in payload.components:
        for record in getattr(component.command, "records", ()):
            value = getattr(record, "value", None)
            if getattr(record, "attribute_id", None) == attribute and record.status == 0:
                number = getattr(value, "value", None)
                if isinstance(number, int):
                    return number
    return None


def _zcl_statuses(payload: zigbee.GbzPayload) -> str:
    codes = [
        f"0x{record.status:02X}"
        for component in payload.components
        for record in getattr(component.command, "records", ())
        if getattr(record, "status", 0)
    ]
    return ", ".join(codes) or "none"


def _data_text(value: Data) -> str:
    if isinstance(value, OctetString):
        return value.value.hex().upper()
    if isinstance(value, DoubleLong):
        return money(value.value)
    if isinstance(value, DoubleLongUnsigned | LongUnsigned):
        return f"{value.value}"
    if isinstance(value, Enum):
        return f"enum {value.value}"
    if isinstance(value, NullData):
        return "done"
    return type(value).__name__


def _alert_code(payload: bytes) -> str:
    if payload[:2] == b"\x01\x09" and len(payload) >= 5:
        return f"0x{int.from_bytes(payload[3:5], 'big'):04X}"
    try:
        body = apdu.decode_exact(payload)
    except DecodeError:
        return "?"
    if isinstance(body, apdu.DataNotificationMessage) and isinstance(body.body, Structure):
        first = body.body.items[0] if body.body.items else None
        if isinstance(first, LongUnsigned):
            return f"0x{first.value:04X}"
    return "?"


def describe(received: Received, head_end: HeadEnd) -> str:
    """One readable line about any response or alert (used where no step-specific text is)."""
    message = inner(received)
    if message is None:
        return received.outcome.value
    if received.outcome is Outcome.ALERT:
        code = _alert_code(message.payload)
        return f"alert 0x{message.header.message_code:04X} (alert code {code})"
    family = frame.payload_family(message.payload)
    if family != "dlms":
        version, why = firmware_version(received)
        return f"firmware version {version.hex().upper()}" if version is not None else why
    body = access_response(received)
    if body is None:
        return "response"
    failed = failures(received)
    found = body.list_of_data
    if len(found) > 4 or (not found and not failed):
        count = len(body.specifications)
        return f"{count} objects, " + (f"{len(failed)} failed" if failed else "all succeeded")
    parts = [_data_text(v) for v in found] + [f"result {r}" for r in failed]
    return ", ".join(parts)
