"""ECDSA-SHA256 signatures in GBCS raw ``r || s`` form (GBCS §4.3.3.2; reference §4.3).

Sans-IO. GBCS carries a signature as ``40`` + 64 bytes (IEEE P1363 fixed-width r and s);
``cryptography`` speaks DER, so this module converts at the boundary.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from smemu.errors import SecurityError
from smemu.protocols.security.keys import PrivateKey, PublicKey, is_p256

#: Length of a GBCS signature: 32-byte r then 32-byte s.
SIGNATURE_LENGTH: Final = 64

_HALF: Final = SIGNATURE_LENGTH // 2
# One algorithm object for every call (stateless, safe to share).
_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())


def sign(private_key: PrivateKey, data: bytes) -> bytes:
    """Sign ``data`` with ECDSA over SHA-256 and return the raw 64-byte signature.

    For a GBCS message ``data`` is the general-signing APDU without its ``DF`` tag and
    without the signature element (reference §4.3).

    :param private_key: a P-256 private key (a DS key for GBCS messages).
    :param data: the bytes to sign.
    :returns: ``r || s``, 64 bytes, each half big-endian and zero-padded.
    :raises SecurityError: the key is not on P-256.
    """
    if not is_p256(private_key):
        raise SecurityError(f"signing key must be on secp256r1, not {private_key.curve.name}")
    r, s = decode_dss_signature(private_key.sign(data, _ECDSA_SHA256))
    return r.to_bytes(_HALF, "big") + s.to_bytes(_HALF, "big")


def verify(public_key: PublicKey, data: bytes, signature: bytes) -> bool:
    """Check a raw ``r || s`` ECDSA-SHA256 signature.

    :param public_key: the signer's P-256 public key (from its DS certificate).
    :param data: the signed bytes.
    :param signature: the 64-byte signature.
    :returns: ``True`` if it verifies; ``False`` on any mismatch, including a signature of
        the wrong length, r or s out of range, or a key on another curve.
    """
    if len(signature) != SIGNATURE_LENGTH or not is_p256(public_key):
        return False
    r = int.from_bytes(signature[:_HALF], "big")
    s = int.from_bytes(signature[_HALF:], "big")
    if r == 0 or s == 0:
        return False
    try:
        public_key.verify(encode_dss_signature(r, s), data, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True
