"""P-256 key objects and their raw encodings (GBCS §4.3.3: every GBCS key is NIST P-256).

Part of the sans-IO ``smemu.protocols.security`` layer: builds ``cryptography`` key objects
from the raw forms printed in the spec (32-byte scalars, 64-byte X||Y points) and back.
"""

from __future__ import annotations

from typing import Final, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smemu.errors import SecurityError

#: A P-256 private key object (``cryptography``).
PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey
#: A P-256 public key object (``cryptography``).
PublicKey: TypeAlias = ec.EllipticCurvePublicKey

#: The one curve GBCS uses (GBCS §4.3.3.1).
CURVE: Final = ec.SECP256R1()
#: Size of a P-256 scalar or coordinate in bytes.
SCALAR_LENGTH: Final = 32

_CURVE_NAME: Final = CURVE.name
# Group order n of P-256: valid private scalars are 1..n-1.
_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def is_p256(key: PrivateKey | PublicKey) -> bool:
    """Tell whether ``key`` is on NIST P-256.

    :param key: a private or public elliptic-curve key.
    :returns: ``True`` for P-256 (secp256r1), ``False`` for any other curve.
    """
    return key.curve.name == _CURVE_NAME


def as_p256_public(key: object, what: str) -> PublicKey:
    """Check that ``key`` is a P-256 public key and return it, typed.

    :param key: the object to check (e.g. the result of a PEM loader).
    :param what: a description of the key for the error message (e.g. a file name).
    :returns: ``key``.
    :raises SecurityError: ``key`` is not an EC public key, or is on another curve.
    """
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SecurityError(f"{what}: expected an EC public key, got {type(key).__name__}")
    if not is_p256(key):
        raise SecurityError(f"{what}: expected curve secp256r1, got {key.curve.name}")
    return key


def as_p256_private(key: object, what: str) -> PrivateKey:
    """Check that ``key`` is a P-256 private key and return it, typed.

    :param key: the object to check (e.g. the result of a PEM loader).
    :param what: a description of the key for the error message (e.g. a file name).
    :returns: ``key``.
    :raises SecurityError: ``key`` is not an EC private key, or is on another curve.
    """
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SecurityError(f"{what}: expected an EC private key, got {type(key).__name__}")
    if not is_p256(key):
        raise SecurityError(f"{what}: expected curve secp256r1, got {key.curve.name}")
    return key


def private_key_from_scalar(scalar: bytes | int) -> PrivateKey:
    """Build a P-256 private key from its scalar.

    :param scalar: the private value, as 32 big-endian bytes or as an int in 1..n-1.
    :returns: the private key object.
    :raises SecurityError: the scalar has the wrong size or is out of range.
    """
    if isinstance(scalar, bytes):
        if len(scalar) != SCALAR_LENGTH:
            raise SecurityError(f"private scalar must be 32 bytes, got {len(scalar)}")
        value = int.from_bytes(scalar, "big")
    else:
        value = scalar
    if not 0 < value < _ORDER:
        raise SecurityError("private scalar out of range for P-256")
    return ec.derive_private_key(value, CURVE)


def private_scalar(key: PrivateKey) -> bytes:
    """Return the 32-byte big-endian scalar of a P-256 private key.

    :param key: the private key.
    :returns: the scalar, zero-padded to 32 bytes.
    """
    return key.private_numbers().private_value.to_bytes(SCALAR_LENGTH, "big")


def public_key_from_point(point: bytes) -> PublicKey:
    """Build a P-256 public key from its point, as printed in GBCS (X||Y).

    :param point: 64 bytes ``X || Y``, or 65 bytes ``04 || X || Y`` (SEC 1 uncompressed),
        or 33 bytes compressed.
    :returns: the public key object.
    :raises SecurityError: the bytes are not a point on P-256.
    """
    if len(point) == 2 * SCALAR_LENGTH:
        point = b"\x04" + point
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, point)
    except ValueError as exc:
        raise SecurityError(f"not a P-256 public point: {exc}") from exc


def public_point(key: PublicKey | PrivateKey) -> bytes:
    """Return the 64-byte ``X || Y`` form of a public key (GBCS §18.4 notation).

    :param key: a public key, or a private key whose public half is wanted.
    :returns: 64 bytes, X then Y, each 32 bytes big-endian.
    """
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]


def generate_private_key() -> PrivateKey:
    """Generate a fresh random P-256 private key (for emulated devices making their own keys).

    :returns: the new private key.
    """
    return ec.generate_private_key(CURVE)
