"""Decrypt the sensitive parts of a response or alert payload (GBCS 4.3.3.5).

Layer: protocols (sans-IO). The key is derived with KDF mode 04 between the device (the
message's originator) and the remote party the data is for: the supplementary remote party
when Other Information names one, else the grouping header's recipient; the counter is the
supplementary originator counter when present (an unknown remote party, "URP"), else the
header's originator counter (gbcs-reference.md 4.2, 4.5).
"""

from __future__ import annotations

from typing import Final

from smemu.errors import DecodeError
from smemu.protocols.dlms import apdu, protection
from smemu.protocols.gbcs.frame import (
    GeneralSigningMessage,
    Located,
    payload_family,
    signing_message,
)
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.security import gcm, kdf
from smemu.protocols.security.keystore import KeyStore
from smemu.protocols.zigbee import gbz

#: Every ciphered block opens with security control 0x31 and a zero invocation counter, so a
#: payload without these bytes needs no walk (a C-speed search keeps reads cheap).
_BLOCK_HEADER: Final = b"\x31\x00\x00\x00\x00"


def ciphered_blocks(message: GeneralSigningMessage) -> list[bytes]:
    """The ciphered blocks (``31 00000000 ... tag``) the message's payload carries."""
    payload = message.payload
    if _BLOCK_HEADER not in payload:
        return []
    family = payload_family(payload)
    if family == "dlms":
        return [b.block for b in protection.find_blocks(apdu.decode_exact(payload))]
    if family == "gbz":
        decoded = gbz.decode_exact(payload, alert=message.header.cra is Cra.ALERT)
        blocks = []
        for index in gbz.encrypted_components(decoded):
            encryption = decoded.components[index].encryption
            if encryption is not None:
                blocks.append(encryption.block)
        return blocks
    return []


def encryption_key(message: GeneralSigningMessage, store: KeyStore) -> bytes | None:
    """The payload encryption key of ``message``, or ``None`` when the store lacks the keys."""
    header = message.header
    oi = header.other_information
    # The data is for the party that asked: the supplementary remote party when the DCC
    # relayed the request, else the recipient; an unknown remote party (URP) response also
    # names the counter to use (verified on the reference set, gbcs-reference.md 4.2, 4.5).
    party = oi.supplementary_remote_party_id or header.recipient
    counter = header.originator_counter
    if oi.supplementary_originator_counter is not None:
        counter = oi.supplementary_originator_counter
    secret = store.shared_secret(header.originator, party)
    if secret is None:
        return None
    return kdf.message_key(secret, header.originator, kdf.KdfMode.ENCRYPTION, counter, party)


def decrypt_payload(located: Located, store: KeyStore | None) -> tuple[str, list[bytes]]:
    """Decrypt every ciphered block of the message's payload.

    :returns: the outcome -- ``not encrypted``, ``decrypted``, ``no key`` or ``failed`` --
        and the plaintexts recovered (empty unless ``decrypted``).
    """
    inner = signing_message(located.message)
    if inner is None:
        return "not encrypted", []
    try:
        blocks = ciphered_blocks(inner)
    except DecodeError:
        return "not encrypted", []
    if not blocks:
        return "not encrypted", []
    key = None if store is None else encryption_key(inner, store)
    if key is None:
        return "no key", []
    plaintexts = []
    for block in blocks:
        try:
            plaintexts.append(gcm.decrypt_block(key, inner.header.originator, block))
        except (gcm.AuthenticationFailed, DecodeError):
            return "failed", []
    return "decrypted", plaintexts
