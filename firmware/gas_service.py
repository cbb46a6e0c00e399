"""GBZ command service shared by the gas meter and the gas proxy function.

Layer: firmware. Use Case volume (GCS use cases) and GBCS reference 7.2.7 (date-time in the
response header). :func:`answer` serves one accepted GBZ command with
:func:`smemu.firmware.gas_zcl.serve` and secures the GBZ response: signed when the command was
critical (or signed), else MAC'd. The header carries a date-time for future-dated capable use
cases (the execution time) and for the reads the GPF answers from its mirror of the GSME
(:data:`DATED_READS`: the time the mirrored data was last refreshed by the GSME).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

from cryptography import x509

from smemu.errors import SecurityError
from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.gas_reads import refresh
from smemu.firmware.gas_zcl import AttributeStore, CommandHandler, serve
from smemu.protocols.gbcs.decrypt import encryption_key
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader
from smemu.protocols.gbcs.use_case_types import Device, PayloadFamily
from smemu.protocols.gbcs.use_cases import USE_CASES, by_message_code
from smemu.protocols.security import gcm, kdf
from smemu.protocols.security.keys import as_p256_public
from smemu.protocols.zigbee import gbz

#: Reads answered from the GPF's mirror: the header date-time says how fresh it is.
DATED_READS: Final = frozenset({"GCS13a", "GCS13b", "GCS13c", "GCS14", "GCS60a"})
#: Clusters whose data a use case flagged "encrypted" carries as ciphered blocks
#: (consumption, balances, debts, top-ups: metering and prepayment).
SENSITIVE_CLUSTERS: Final = frozenset({0x0702, 0x0705})
#: NVM key of the last time the GSME refreshed the mirror (seconds since 2000).
SYNCED: Final = "gas/synced"

_READ_ATTRIBUTES_RESPONSE: Final = 0x01
#: use cases whose templates allow the default response in every reply
_ALLOWING: Final = (
    "GCS14", "GCS18", "GCS21a", "GCS21j", "GCS21k", "GCS21m", "GCS31", "GCS32",
    "GCS33", "GCS38", "GCS39", "GCS46", "GCS60", "GCS60a", "CS01b", "CS11", "PCS01",
)  # fmt: skip
#: Responses whose ZCL frame control disables the default response, per use case, as the
#: Use Case volume's GBZ message templates give them ("server-client; disable default
#: response"): (cluster, response command id). Every other response of a use case named here
#: allows it (e.g. GCS18 / GCS21k / GCS31 / GCS32 reply 0x09, Default Responses 0x08).
QUIET_REPLIES: Final[Mapping[str, frozenset[tuple[int, int]]]] = {
    **{
        uc: frozenset({(0x0702, _READ_ATTRIBUTES_RESPONSE)})
        for uc in ("GCS13a", "GCS13b", "GCS13c")
    },
    "GCS21f": frozenset(
        {(0x0700, _READ_ATTRIBUTES_RESPONSE), (0x0700, 0x00)}
        | {(0x0707, command) for command in (0x01, 0x02, 0x03, 0x04)}
    ),
    "GCS21b": frozenset({(0x0707, command) for command in (0x01, 0x02, 0x03, 0x04)}),
    **{uc: frozenset({(0x0709, 0x01)}) for uc in ("CS10a", "CS10b")},
    **{uc: frozenset({(0x0705, 0x02)}) for uc in ("GCS02", "GCS03")},
    **{
        uc: frozenset({(0x0705, 0x01), (0x0702, 0x06)})
        for uc in ("GCS15b", "GCS15c", "GCS16a", "GCS16b")
    },
    "GCS15d": frozenset({(0x0705, 0x06)}),
    "GCS15e": frozenset({(0x0705, 0x05)}),
    **{uc: frozenset({(0x0702, 0x07)}) for uc in ("GCS17", "GCS61")},
    "GCS53": frozenset({(0x0702, 0x06)}),
    **dict.fromkeys(_ALLOWING, frozenset()),
}


def gbz_codes(device: Device, method: str) -> Mapping[int, str]:
    """A handler table: every GBZ message code of a use case ``device`` is a target of."""
    codes: dict[int, str] = {}
    for use_case in USE_CASES.values():
        if device in use_case.devices and PayloadFamily.GBZ in use_case.families:
            for code in use_case.message_codes:
                codes[code] = method
    return codes


def urp_key(
    command: GeneralSigningMessage, header: GroupingHeader, credentials: Credentials
) -> bytes | None:
    """The payload encryption key of a response to an unknown remote party (URP).

    A DCC-relayed command for a party the device holds no anchor for carries that party's
    key agreement certificate in its Other Information (gbcs-reference.md 4.5): the key is
    agreed between the device's KA private key and the certificate's public key, derived
    with the response's Supplementary Originator Counter for that party. None when the
    command has no such certificate, it holds no P-256 key, or the device has no KA key.
    """
    oi = command.header.other_information
    certificate = oi.supplementary_remote_party_ka_certificate
    party = oi.supplementary_remote_party_id
    counter = header.other_information.supplementary_originator_counter
    own = credentials.keystore.ka_private(bytes(credentials.eui))
    if certificate is None or party is None or counter is None or own is None:
        return None
    try:
        public = as_p256_public(
            x509.load_der_x509_certificate(bytes(certificate)).public_key(), "URP certificate"
        )
        secret = kdf.ecdh(own, public)
    except (ValueError, SecurityError):
        return None
    return kdf.message_key(
        secret, bytes(credentials.eui), kdf.KdfMode.ENCRYPTION, counter, bytes(party)
    )


def answer(
    tx: Tx,
    accepted: Accepted,
    credentials: Credentials,
    store: AttributeStore,
    handlers: Mapping[tuple[int, int], CommandHandler],
    *,
    data_time: datetime | None = None,
) -> bytes:
    """Serve ``accepted`` (a GBZ command) and return the secured response bytes.

    :param data_time: when the data read was captured (GPF mirror); ``None``: the data
        are the meter's own, brought up to ``tx.now`` (:func:`gas_reads.refresh`) first.
    """
    command = accepted.command
    request = gbz.decode_exact(command.payload)
    use_case = by_message_code(command.header.message_code)
    encrypted = use_case is not None and use_case.encrypted
    # An unknown remote party's response carries a Supplementary Originator Counter only
    # when it has a payload to encrypt (the counter the key is derived with).
    header = respond.response_header(command, credentials.eui, tx if encrypted else None)
    encrypt: Callable[[bytes], bytes] | None = None
    if encrypted:
        key = encryption_key(GeneralSigningMessage(header, b"", None), credentials.keystore)
        if key is None:
            key = urp_key(command, header, credentials)
        if key is not None:
            sealed_key = key

            def encrypt(plaintext: bytes) -> bytes:
                return gcm.encrypt_block(sealed_key, bytes(credentials.eui), plaintext)

    if data_time is None:
        # The meter's own data: bring the registers up to now first (the GPF's mirror is
        # refreshed by the GSME instead).
        refresh(tx)
    quiet = None if use_case is None else QUIET_REPLIES.get(use_case.id)
    body = serve(
        tx,
        request,
        store,
        handlers,
        encrypt=encrypt,
        sensitive=SENSITIVE_CLUSTERS,
        quiet=quiet,
        abandon_after_failure=use_case is not None and bool(use_case.update),
    )
    if use_case is not None and (use_case.future_dated or use_case.id in DATED_READS):
        stamp = tx.now if data_time is None else data_time
        header = dataclasses.replace(header, date_time=respond.cosem_datetime(stamp))
    message = GeneralSigningMessage(header, gbz.encode(body), None)
    critical = accepted.critical or bool(command.signature)
    return respond.secure_message(message, credentials, critical=critical)
