"""Responses and alerts as the device sends them: headers, DLMS bodies, signature or MAC.

Layer: firmware. gbcs-reference.md 4.4 step 5 and 9.2: a response reuses the command's
originator counter with CRA 02 and originator/recipient swapped; a critical response is
signed with the device's DS key (bare general-signing), a non-critical one MAC'd with the
device's KA key against the recipient's. Alerts carry the device's own alert counter
(NVM ``alert/counter``, strictly increasing) and are signed when critical.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.data import LongUnsigned, OctetString, Structure
from smemu.protocols.gbcs import secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.zigbee import gbz

ALERT_COUNTER: Final = "alert/counter"
#: First alert counter of a new device (any start is valid; distinct from command ranges).
_ALERT_COUNTER_START: Final = 0x10000
#: Message codes of the alerts built here.
GENERIC_CRITICAL_ALERT: Final = 0x1000
GENERIC_NON_CRITICAL_ALERT: Final = 0x1001
ECS100_NOT_SUPPORTED: Final = 0x0120
#: Alert code "Command not supported by Device" (ECS100, reference 7.9).
ALERT_NOT_SUPPORTED: Final = 0x8F85
_EPOCH_2000: Final = datetime(2000, 1, 1, tzinfo=UTC)


def invoke_id(counter: int) -> int:
    """DLMS long-invoke-id-and-priority: flags 0x20 and the counter's low 24 bits."""
    return 0x20000000 | (counter & 0xFFFFFF)


def cosem_datetime(instant: datetime) -> bytes:
    """The 12-octet COSEM date-time of a UTC instant (deviation 0, status 0)."""
    t = instant.astimezone(UTC)
    return b"".join(
        (
            t.year.to_bytes(2, "big"),
            bytes((t.month, t.day, t.isoweekday(), t.hour, t.minute, t.second)),
            bytes((t.microsecond // 10000,)),
            b"\x00\x00\x00",
        )
    )


def seconds_since_2000(instant: datetime) -> int:
    return int((instant - _EPOCH_2000).total_seconds())


def response_header(
    command: GeneralSigningMessage, own: Eui64, tx: Tx | None = None
) -> GroupingHeader:
    """The grouping header of the response to ``command``.

    Other Information is echoed, except for a command to an unknown remote party (URP:
    its Other Information carries the party's KA certificate, gbcs-reference.md 2.x OI
    forms): the response drops the certificate and carries a Supplementary Originator
    Counter instead -- the counter the payload's encryption key is derived with (4.5) --
    taken from the device's own originator counter (:func:`urp_counter`, needs ``tx``;
    without it the URP form cannot be built and Other Information is echoed as it came).
    """
    h = command.header
    oi = h.other_information
    if oi.supplementary_remote_party_ka_certificate is not None and tx is not None:
        oi = OtherInformation(
            oi.message_code,
            oi.supplementary_remote_party_id,
            oi.supplementary_remote_party_counter,
            urp_counter(tx),
        )
    return GroupingHeader(Cra.RESPONSE, h.originator_counter, own, h.originator, None, oi)


#: NVM key of the Supplementary Originator Counter taken in the current step
_URP_COUNTER: Final = "urp/counter"


def urp_counter(tx: Tx) -> int:
    """The Supplementary Originator Counter of this step's URP response.

    The device's own originator counter (the one its alerts use: strictly increasing, so no
    two URP keys repeat); taken once per step, so every part of one response -- header and
    encrypted payload -- derives with the same value.
    """
    if _URP_COUNTER in tx.writes:
        return tx.get_int(_URP_COUNTER)
    counter = next_alert_counter(tx)
    tx.put_int(_URP_COUNTER, counter)
    return counter


def secure_message(
    message: GeneralSigningMessage, credentials: Credentials, *, critical: bool
) -> bytes:
    """Sign (critical) or MAC (non-critical) a device-originated message and encode it."""
    if critical:
        return secure.sign(message, credentials.keystore).encode()
    return secure.protect(message, credentials.keystore).encode()


def dlms_response(
    command: GeneralSigningMessage,
    body: apdu.AccessResponseMessage,
    credentials: Credentials,
    *,
    critical: bool,
) -> bytes:
    header = response_header(command, credentials.eui)
    message = GeneralSigningMessage(header, apdu.encode(body), None)
    return secure_message(message, credentials, critical=critical)


def next_alert_counter(tx: Tx) -> int:
    """Take the next alert counter and record it in this step's NVM writes."""
    counter = tx.get_int(ALERT_COUNTER, _ALERT_COUNTER_START - 1) + 1
    tx.put_int(ALERT_COUNTER, counter)
    return counter


def generic_alert_code(alert_code: int) -> int:
    """The message code a generic alert with ``alert_code`` goes under: Generic Critical
    Alert for the 0x8Fxx codes, Generic Non-Critical Alert for the others."""
    return GENERIC_CRITICAL_ALERT if is_critical_alert(alert_code) else GENERIC_NON_CRITICAL_ALERT


def is_critical_alert(alert_code: int) -> bool:
    """Whether ``alert_code`` is a critical (0x8Fxx, signed) one."""
    return alert_code >> 8 == 0x8F


def alert_header(
    tx: Tx, credentials: Credentials, recipient: Eui64, message_code: int
) -> GroupingHeader:
    """The grouping header of an alert from this device, with the next alert counter."""
    return GroupingHeader(
        Cra.ALERT,
        next_alert_counter(tx),
        credentials.eui,
        recipient,
        None,
        OtherInformation(message_code),
    )


def gbz_alert(
    tx: Tx,
    credentials: Credentials,
    recipient: Eui64,
    alert: gbz.GbzAlert,
    *,
    message_code: int,
    critical: bool,
    components: tuple[gbz.GbzComponent, ...] = (),
    header: GroupingHeader | None = None,
) -> bytes:
    """A GBZ alert (``alert`` after any ``components``), signed when ``critical``, else
    MAC'd. ``header``: one already taken with :func:`alert_header` (when the components
    had to be encrypted under it)."""
    header = header or alert_header(tx, credentials, recipient, message_code)
    body = gbz.GbzMessage(components, alert=alert)
    message = GeneralSigningMessage(header, gbz.encode(body), None)
    return secure_message(message, credentials, critical=critical)


def dlms_alert(
    tx: Tx,
    credentials: Credentials,
    recipient: Eui64,
    alert_code: int,
    extra: tuple[Data, ...] = (),
    *,
    message_code: int = GENERIC_CRITICAL_ALERT,
    other_information: OtherInformation | None = None,
    critical: bool = True,
) -> bytes:
    """A DLMS data-notification alert: structure{alert code, timestamp, extra...}."""
    counter = next_alert_counter(tx)
    body = apdu.DataNotificationMessage(
        invoke_id(counter),
        b"",
        Structure(
            (LongUnsigned(alert_code), OctetString(cosem_datetime(tx.now)), *extra)
        ),
    )
    oi = other_information or OtherInformation(message_code)
    header = GroupingHeader(Cra.ALERT, counter, credentials.eui, recipient, None, oi)
    message = GeneralSigningMessage(header, apdu.encode(body), None)
    return secure_message(message, credentials, critical=critical)


def not_supported_alert(
    tx: Tx, credentials: Credentials, command: GeneralSigningMessage
) -> bytes:
    """ECS100 "Command not supported by Device": identifies the command it rejects.

    Body (reference 7.9): octet-string(10) = message code(2) || originator counter(8); the
    grouping header's Other Information carries the command's originator and counter as
    Supplementary Remote Party ID and counter.
    """
    h = command.header
    oi = OtherInformation(ECS100_NOT_SUPPORTED, h.originator, h.originator_counter)
    ident = h.message_code.to_bytes(2, "big") + h.originator_counter.to_bytes(8, "big")
    return dlms_alert(
        tx,
        credentials,
        h.originator,
        ALERT_NOT_SUPPORTED,
        (OctetString(ident),),
        message_code=ECS100_NOT_SUPPORTED,
        other_information=oi,
    )
