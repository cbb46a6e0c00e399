"""Message-level GBCS security: which keys MAC, sign and encrypt a message, and the checks.

Layer: protocols (sans-IO). GBCS 4.3.3 as summarised in gbcs-reference.md section 4: the
grouping header is signed with the originator's DS key over everything after the ``DF`` tag
up to the signature element; the MAC header carries a 12-byte GMAC whose key is derived per
message from a static ECDH pair chosen by the message's direction (section 4.2):

* commands from remote parties are MAC'd by the access-control broker (ACB) with the device;
* PPMID-to-GSME commands (message type SME.C.PPMID-GSME) by the PPMID with the GSME;
* responses and alerts by the device with the grouping header's recipient.

Verification always runs over the bytes as received (:class:`~.frame.Located`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Final

from smemu.errors import SecurityError
from smemu.protocols.gbcs.frame import (
    SECURITY_CONTROL_AUTHENTICATED,
    GbtBlockMessage,
    GeneralSigningMessage,
    Located,
    MacProtectedMessage,
)
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security import ecdsa, gcm, kdf
from smemu.protocols.security.keystore import KeyStore

#: The DCC access-control broker of the DCC test PKI and of the GBCS 18.4 test vectors.
DEFAULT_ACBS: Final[tuple[Eui64, ...]] = (
    Eui64.parse("90B3D51F30000002"),
    Eui64.parse("ABABABABABABABAB"),
)
#: Commands a HAN device sends to another (PCS01, PCS02: "SME.C.PPMID-GSME" in the mapping
#: table); their MAC is made with the originating device's own key agreement key.
DEVICE_ORIGINATED_COMMANDS: Final = frozenset({0x009B, 0x0090})
#: Security control byte and five empty octet strings that open the MAC's AAD (GBCS 4.3.3.4).
_AAD_TAIL: Final = b"\x00\x00\x00\x00\x00"


class Verdict(enum.StrEnum):
    """Outcome of a signature or MAC check, as ``smemu decode`` reports it."""

    VALID = "valid"
    INVALID = "invalid"
    ABSENT = "absent"
    NO_KEY = "no key"


def mac_aad(security_control: int, signing_apdu: bytes) -> bytes:
    """The GMAC's additional data: security control, five zero bytes, the whole APDU."""
    return bytes((security_control,)) + _AAD_TAIL + signing_apdu


def mac_key_pairs(
    message: GeneralSigningMessage, acbs: Iterable[Eui64] = DEFAULT_ACBS
) -> list[tuple[Eui64, Eui64]]:
    """The static key agreement pairs that may have made this message's MAC, most likely first.

    For a remote party's command it is each candidate ACB with the recipient device; for a
    device-originated HAN command, originator with recipient; for responses and alerts, the
    device (originator) with the recipient.
    """
    header = message.header
    if header.cra is Cra.COMMAND and header.message_code not in DEVICE_ORIGINATED_COMMANDS:
        return [(acb, header.recipient) for acb in acbs]
    return [(header.originator, header.recipient)]


def mac_key(
    store: KeyStore, pair: tuple[Eui64, Eui64], message: GeneralSigningMessage
) -> bytes | None:
    """Derive the 16-byte MAC key of ``message`` from ``pair``, or ``None`` without the keys."""
    secret = store.shared_secret(pair[0], pair[1])
    if secret is None:
        return None
    header = message.header
    return kdf.message_key(
        secret, header.originator, header.cra, header.originator_counter, header.recipient
    )


def verify_mac(located: Located, store: KeyStore, acbs: Sequence[Eui64] = DEFAULT_ACBS) -> Verdict:
    """Check the MAC of a received message (``absent`` unless it has a MAC header)."""
    message = located.message
    if not isinstance(message, MacProtectedMessage):
        return Verdict.ABSENT
    aad = mac_aad(message.security_control, located.signing_apdu)
    originator = message.header.originator
    any_key = False
    for pair in mac_key_pairs(message.inner, acbs):
        key = mac_key(store, pair, message.inner)
        if key is None:
            continue
        any_key = True
        if gcm.gmac_verify(key, originator, aad, message.mac):
            return Verdict.VALID
    return Verdict.INVALID if any_key else Verdict.NO_KEY


def verify_signature(located: Located, store: KeyStore) -> Verdict:
    """Check the grouping header signature against the originator's DS public key."""
    message = located.message
    if isinstance(message, GbtBlockMessage):
        return Verdict.ABSENT
    inner = message.inner if isinstance(message, MacProtectedMessage) else message
    if not inner.signature:
        return Verdict.ABSENT
    public = store.ds_public(inner.header.originator)
    if public is None:
        return Verdict.NO_KEY
    ok = ecdsa.verify(public, located.signed_data, inner.signature)
    return Verdict.VALID if ok else Verdict.INVALID


def sign(message: GeneralSigningMessage, store: KeyStore) -> GeneralSigningMessage:
    """Return ``message`` signed with its originator's DS private key from ``store``.

    :raises SecurityError: when the store holds no DS private key for the originator.
    """
    private = store.ds_private(message.header.originator)
    if private is None:
        raise SecurityError(f"no DS private key for {message.header.originator}")
    signed_data = message.signed_part()[1:]
    return GeneralSigningMessage(message.header, message.payload, ecdsa.sign(private, signed_data))


def protect(
    message: GeneralSigningMessage, store: KeyStore, *, acb: Eui64 | None = None
) -> MacProtectedMessage:
    """Wrap ``message`` in a MAC header with the MAC GBCS requires for its direction.

    A command from a remote party is MAC'd with ``acb`` (default: the first ACB whose key
    agreement key the store can pair with the recipient). A signature element that is omitted
    becomes ``00`` (unsigned), since a MAC-protected message always carries one.

    :raises SecurityError: when the store lacks the keys.
    """
    inner = message
    if message.signature is None:
        inner = GeneralSigningMessage(message.header, message.payload, b"")
    candidates = mac_key_pairs(inner, DEFAULT_ACBS if acb is None else (acb,))
    for pair in candidates:
        key = mac_key(store, pair, inner)
        if key is not None:
            aad = mac_aad(SECURITY_CONTROL_AUTHENTICATED, inner.encode())
            return MacProtectedMessage(inner, gcm.gmac(key, inner.header.originator, aad))
    names = ", ".join(f"{a} with {b}" for a, b in candidates)
    raise SecurityError(f"no key agreement pair available to MAC this message (tried {names})")
