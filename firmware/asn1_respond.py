"""Answers and alerts whose payload is ASN.1 DER (credentials, joins, firmware).

Layer: firmware. Shared by :mod:`~smemu.firmware.credentials_use_cases`,
:mod:`~smemu.firmware.firmware_image` and :mod:`~smemu.firmware.joins`.

A response reuses the command's counter with CRA 02 and the Other Information echoed
(:func:`~smemu.firmware.common.respond.response_header`). It is signed when the command
was critical or arrived signed (the "variant" use cases CS02a / CS02f answer in the form
they were asked in), otherwise MAC'd. Responses of the future-dated capable use cases
(CS02b, CS02g, CS06) carry the device's date-time in the grouping header
(gbcs-reference.md 7.2.7). ASN.1 alerts (the 8F66 / 8F67 outcomes of CS06 and CS02b) are
critical: signed, with the device's own alert counter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.protocols.asn1 import Asn1Payload, decode_typed
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.types import Eui64

if TYPE_CHECKING:
    from smemu.firmware.common.commands import CommandMachine

#: Handler shape of the ESME handler table: (machine, step view, command) -> answer.
Handler = Callable[["CommandMachine", Tx, Accepted], bytes | None]
HandlerTable = Mapping[int, Handler]

#: Time-zone-free NVM key of the device's clock offset (seconds), kept by the ESME.
_CLOCK_OFFSET: Final = "clock/offset_s"


def command_payload(accepted: Accepted) -> Asn1Payload:
    """The typed DER payload of an accepted command.

    :raises DecodeError: the payload is not the schema of its message code.
    """
    header = accepted.command.header
    return decode_typed(
        accepted.command.payload, message_code=header.other_information.message_code, cra=1
    )


def device_time(tx: Tx) -> datetime:
    """The device's clock (UTC instant): ``tx.now`` plus the ESME's clock offset."""
    offset = tx.get_json(_CLOCK_OFFSET, 0)
    return tx.now + timedelta(seconds=offset if isinstance(offset, int) else 0)


def asn1_response(
    credentials: Credentials,
    tx: Tx,
    accepted: Accepted,
    payload: Asn1Payload,
    *,
    dated: bool = False,
    critical: bool | None = None,
) -> bytes:
    """The secured response carrying ``payload`` (signed when the command was critical or
    signed, unless ``critical`` says otherwise)."""
    command = accepted.command
    header = respond.response_header(command, credentials.eui)
    if dated:
        header = dataclasses.replace(header, date_time=respond.cosem_datetime(device_time(tx)))
    message = GeneralSigningMessage(header, payload.encode(), None)
    if critical is None:
        critical = accepted.critical or bool(command.signature)
    return respond.secure_message(message, credentials, critical=critical)


def asn1_alert(
    tx: Tx, credentials: Credentials, recipient: Eui64, message_code: int, payload: Asn1Payload
) -> bytes:
    """A critical (signed) alert whose payload is DER, with the next alert counter."""
    header = respond.alert_header(tx, credentials, recipient, message_code)
    message = GeneralSigningMessage(header, payload.encode(), None)
    return respond.secure_message(message, credentials, critical=True)


__all__ = [
    "Handler",
    "HandlerTable",
    "asn1_alert",
    "asn1_response",
    "command_payload",
    "device_time",
]
