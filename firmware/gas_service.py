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

from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.firmware.common.security import Accepted
from smemu.firmware.gas_zcl import AttributeStore, CommandHandler, serve
from smemu.protocols.gbcs.decrypt import encryption_key
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.use_case_types import Device, PayloadFamily
from smemu.protocols.gbcs.use_cases import USE_CASES, by_message_code
from smemu.protocols.security import gcm
from smemu.protocols.zigbee import gbz

#: Reads answered from the GPF's mirror: the header date-time says how fresh it is.
DATED_READS: Final = frozenset({"GCS13a", "GCS13b", "GCS13c", "GCS14", "GCS60a"})
#: Clusters whose data a use case flagged "encrypted" carries as ciphered blocks
#: (consumption, balances, debts, top-ups: metering and prepayment).
SENSITIVE_CLUSTERS: Final = frozenset({0x0702, 0x0705})
#: NVM key of the last time the GSME refreshed the mirror (seconds since 2000).
SYNCED: Final = "gas/synced"


def gbz_codes(device: Device, method: str) -> Mapping[int, str]:
    """A handler table: every GBZ message code of a use case ``device`` is a target of."""
    codes: dict[int, str] = {}
    for use_case in USE_CASES.values():
        if device in use_case.devices and PayloadFamily.GBZ in use_case.families:
            for code in use_case.message_codes:
                codes[code] = method
    return codes


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

    :param data_time: when the data read was captured (GPF mirror); ``tx.now`` if None.
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
        if key is not None:
            sealed_key = key

            def encrypt(plaintext: bytes) -> bytes:
                return gcm.encrypt_block(sealed_key, bytes(credentials.eui), plaintext)

    body = serve(tx, request, store, handlers, encrypt=encrypt, sensitive=SENSITIVE_CLUSTERS)
    if use_case is not None and (use_case.future_dated or use_case.id in DATED_READS):
        stamp = tx.now if data_time is None else data_time
        header = dataclasses.replace(header, date_time=respond.cosem_datetime(stamp))
    message = GeneralSigningMessage(header, gbz.encode(body), None)
    critical = accepted.critical or bool(command.signature)
    return respond.secure_message(message, credentials, critical=critical)
