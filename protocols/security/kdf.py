"""Static-static ECDH and the GBCS per-message key derivation (GBCS §4.3.3.3; reference §4.4).

Sans-IO. Z = ECDH x-coordinate of two static KA keys; every MAC, encryption and UTRN key is
K = SHA-256(00000001 || Z || OtherInfo)[:16] (NIST SP 800-56A single-step KDF, one round).
"""

from __future__ import annotations

import enum
import hashlib
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec

from smemu.errors import LocalProtocolError, SecurityError
from smemu.protocols.security.keys import PrivateKey, PublicKey

#: AlgorithmID field of OtherInfo, reproduced literally (reference §4.4).
ALGORITHM_ID: Final = bytes.fromhex("60857406080300")
#: Length of OtherInfo: AlgorithmID(7) + originator(8) + 09 + mode(1) + counter(8) + recipient(8).
OTHER_INFO_LENGTH: Final = 33
#: Length of the ECDH shared secret Z for P-256.
SHARED_SECRET_LENGTH: Final = 32
#: Length of a derived AES-128 key.
KEY_LENGTH: Final = 16
#: Length of an EUI-64 entity identifier.
EUI_LENGTH: Final = 8

_ROUND_ONE: Final = b"\x00\x00\x00\x01"
_TRANSACTION_ID_LENGTH: Final = b"\x09"
_ECDH: Final = ec.ECDH()


class KdfMode(enum.IntEnum):
    """The mode (CRA) byte of OtherInfo (reference §4.4).

    For MACs it is the message's CRA flag; payload encryption uses 4; UTRNs use 1.
    """

    COMMAND = 0x01
    RESPONSE = 0x02
    ALERT = 0x03
    ENCRYPTION = 0x04


def other_info(originator: bytes, mode: int, counter: int, recipient: bytes) -> bytes:
    """Build the 33-byte KDF OtherInfo.

    Layout::

        AlgorithmID(7) | originator EUI(8) | 09 | mode(1) | counter(8, BE) | recipient EUI(8)

    Bytes 15..24 equal the grouping header's transaction-id element ``09 CRA counter``.

    :param originator: the message's originator EUI-64 (8 bytes); for commands this is the
        remote party even though the ACB key is used.
    :param mode: the mode byte, see :class:`KdfMode`.
    :param counter: the originator counter, 0..2**64-1.
    :param recipient: the message's recipient EUI-64 (8 bytes).
    :returns: the 33-byte OtherInfo.
    :raises LocalProtocolError: an EUI is not 8 bytes, or the mode or counter is out of range.
    """
    if len(originator) != EUI_LENGTH:
        raise LocalProtocolError(f"originator must be 8 bytes, got {len(originator)}")
    if len(recipient) != EUI_LENGTH:
        raise LocalProtocolError(f"recipient must be 8 bytes, got {len(recipient)}")
    if not 0 <= mode <= 0xFF:
        raise LocalProtocolError(f"KDF mode {mode} out of range 0..255")
    if not 0 <= counter < 1 << 64:
        raise LocalProtocolError(f"counter {counter} out of range 0..2**64-1")
    return b"".join(
        (
            ALGORITHM_ID,
            originator,
            _TRANSACTION_ID_LENGTH,
            mode.to_bytes(1, "big"),
            counter.to_bytes(8, "big"),
            recipient,
        )
    )


def derive_key(shared_secret: bytes, other_info: bytes) -> bytes:
    """Derive a 16-byte AES key: ``SHA-256(00000001 || Z || OtherInfo)[:16]``.

    :param shared_secret: Z, the 32-byte ECDH shared secret.
    :param other_info: the OtherInfo from :func:`other_info`.
    :returns: the 16-byte key.
    :raises SecurityError: ``shared_secret`` is not 32 bytes.
    """
    if len(shared_secret) != SHARED_SECRET_LENGTH:
        raise SecurityError(f"shared secret must be 32 bytes, got {len(shared_secret)}")
    return hashlib.sha256(_ROUND_ONE + shared_secret + other_info).digest()[:KEY_LENGTH]


def message_key(
    shared_secret: bytes, originator: bytes, mode: int, counter: int, recipient: bytes
) -> bytes:
    """Derive the per-message key in one call: ``derive_key(Z, other_info(...))``.

    :param shared_secret: Z, the 32-byte ECDH shared secret.
    :param originator: originator EUI-64 (8 bytes).
    :param mode: the mode byte, see :class:`KdfMode`.
    :param counter: the originator counter.
    :param recipient: recipient EUI-64 (8 bytes).
    :returns: the 16-byte key.
    :raises LocalProtocolError: see :func:`other_info`.
    :raises SecurityError: see :func:`derive_key`.
    """
    return derive_key(shared_secret, other_info(originator, mode, counter, recipient))


def ecdh(private_key: PrivateKey, public_key: PublicKey) -> bytes:
    """Static-static ECDH (ECC CDH): the x-coordinate of ``d * Q``.

    Symmetric: A's private with B's public gives the same Z as B's private with A's public.
    This costs ~40 µs; callers on a hot path should use
    :meth:`~smemu.protocols.security.keystore.KeyStore.shared_secret`, which caches Z.

    :param private_key: our P-256 private key.
    :param public_key: the peer's P-256 public key.
    :returns: Z, 32 bytes.
    :raises SecurityError: the keys are on different curves or the point is invalid.
    """
    try:
        return private_key.exchange(_ECDH, public_key)
    except ValueError as exc:
        raise SecurityError(f"ECDH failed: {exc}") from exc
