"""AES-128-GCM as GBCS uses it: GMAC tags and ciphered blocks (GBCS §4.3.3.4; reference §4.4, §4.5).

Sans-IO. IV = originator EUI-64 || 00000000 (per-message keys make reuse harmless). Tags are
12 bytes, made by truncating the 16-byte tag of a reused ``AESGCM`` object (the ``Cipher`` GCM
API is several times slower); see docs/performance.md.
"""

from __future__ import annotations

import functools
import hmac
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smemu.errors import DecodeError, LocalProtocolError, SecurityError

#: Length of a GBCS MAC / ciphered-block tag (truncated GCM tag).
TAG_LENGTH: Final = 12
#: Length of the untruncated GCM tag.
FULL_TAG_LENGTH: Final = 16
#: AAD prefix of a message MAC: security control 0x11 then five empty octet-strings. The AAD
#: is this followed by the whole general-signing APDU (reference §4.4).
MAC_AAD_PREFIX: Final = bytes.fromhex("110000000000")
#: Security control byte of an authenticated-and-encrypted block (suite 1).
ENCRYPTED_SECURITY_CONTROL: Final = 0x31
#: Header of a ciphered block: security control 0x31 then invocation counter 0.
BLOCK_HEADER: Final = bytes.fromhex("3100000000")

_KEY_LENGTH: Final = 16
_EUI_LENGTH: Final = 8
_IV_SUFFIX: Final = b"\x00\x00\x00\x00"
_BLOCK_AAD: Final = b"\x31"
_MIN_BLOCK: Final = len(BLOCK_HEADER) + TAG_LENGTH


# Named as agreed with the GBCS message layer (smemu.protocols.gbcs), which catches it; the
# name states the outcome, so the usual *Error suffix (N818) is waived here.
class AuthenticationFailed(SecurityError):  # noqa: N818
    """A ciphered block's tag does not match its key, IV, AAD and ciphertext.

    Raised by :func:`decrypt_block` (decryption has no plaintext to return). MAC checks that
    only authenticate return ``False`` from :func:`gmac_verify` instead.

    Scenarios: a response encrypted for another remote party; a corrupted ciphertext byte;
    a key derived with the wrong counter or mode.
    """


@functools.lru_cache(maxsize=1024)
def _cipher(key: bytes) -> AESGCM:
    # Building an AESGCM object costs about as much as one GMAC; keep recent ones.
    if len(key) != _KEY_LENGTH:
        raise SecurityError(f"AES-128 key must be 16 bytes, got {len(key)}")
    return AESGCM(key)


def _iv(originator: bytes) -> bytes:
    if len(originator) != _EUI_LENGTH:
        raise LocalProtocolError(f"originator must be 8 bytes, got {len(originator)}")
    return originator + _IV_SUFFIX


def gmac_full(key: bytes, originator: bytes, aad: bytes) -> bytes:
    """Compute the full 16-byte GCM tag over ``aad`` with an empty plaintext.

    The UTRN uses the last 4 of these 16 bytes (reference §6.1).

    :param key: the 16-byte derived key.
    :param originator: the originator EUI-64 (8 bytes), which forms the IV.
    :param aad: the additional authenticated data.
    :returns: the 16-byte tag.
    :raises SecurityError: the key is not 16 bytes.
    :raises LocalProtocolError: the originator is not 8 bytes.
    """
    return _cipher(key).encrypt(_iv(originator), b"", aad)


def gmac(key: bytes, originator: bytes, aad: bytes) -> bytes:
    """Compute a GBCS MAC: the first 12 bytes of the GCM tag over ``aad``.

    For a message MAC, ``aad`` is :data:`MAC_AAD_PREFIX` followed by the general-signing
    APDU from its ``DF`` tag through the signature element.

    :param key: the 16-byte derived key.
    :param originator: the originator EUI-64 (8 bytes), which forms the IV.
    :param aad: the additional authenticated data.
    :returns: the 12-byte tag.
    :raises SecurityError: the key is not 16 bytes.
    :raises LocalProtocolError: the originator is not 8 bytes.
    """
    return _cipher(key).encrypt(_iv(originator), b"", aad)[:TAG_LENGTH]


def gmac_verify(key: bytes, originator: bytes, aad: bytes, tag: bytes) -> bool:
    """Check a 12-byte GBCS MAC in constant time.

    :param key: the 16-byte derived key.
    :param originator: the originator EUI-64 (8 bytes).
    :param aad: the additional authenticated data.
    :param tag: the received MAC.
    :returns: ``True`` if it matches; ``False`` otherwise, including a tag that is not
        12 bytes long.
    :raises SecurityError: the key is not 16 bytes.
    :raises LocalProtocolError: the originator is not 8 bytes.
    """
    expected = gmac(key, originator, aad)
    return len(tag) == TAG_LENGTH and hmac.compare_digest(expected, tag)


def encrypt_block(key: bytes, originator: bytes, plaintext: bytes) -> bytes:
    """Encrypt sensitive payload data into a GBCS ciphered block (reference §4.5).

    Layout::

        31 | 00000000 | ciphertext (len(plaintext)) | tag (12)

    AES-128-GCM with AAD = ``31`` and IV = originator || 00000000.

    :param key: the 16-byte key derived with mode :attr:`~.KdfMode.ENCRYPTION`.
    :param originator: the originator (device) EUI-64, 8 bytes.
    :param plaintext: the data to protect.
    :returns: the ciphered block, ``len(plaintext) + 17`` bytes.
    :raises SecurityError: the key is not 16 bytes.
    :raises LocalProtocolError: the originator is not 8 bytes.
    """
    sealed = _cipher(key).encrypt(_iv(originator), plaintext, _BLOCK_AAD)
    return BLOCK_HEADER + sealed[: len(plaintext) + TAG_LENGTH]


def decrypt_block(key: bytes, originator: bytes, block: bytes) -> bytes:
    """Check and decrypt a GBCS ciphered block made by :func:`encrypt_block`.

    ``AESGCM`` cannot check a 12-byte tag, so the ciphertext is turned back into plaintext
    with the GCM keystream (the ciphertext of zeros) and re-encrypted to recompute the full
    tag, whose first 12 bytes are compared in constant time. This is about twice as fast as
    ``Cipher(..., modes.GCM(iv, tag, min_tag_length=12))``. No plaintext is returned
    unless the tag matches.

    :param key: the 16-byte key derived with mode :attr:`~.KdfMode.ENCRYPTION`.
    :param originator: the originator (device) EUI-64, 8 bytes.
    :param block: ``31 | 00000000 | ciphertext | tag(12)``.
    :returns: the plaintext.
    :raises DecodeError: the block is shorter than 17 bytes, or its security control byte
        is not 0x31, or its invocation counter is not zero.
    :raises AuthenticationFailed: the tag does not match.
    :raises SecurityError: the key is not 16 bytes.
    :raises LocalProtocolError: the originator is not 8 bytes.
    """
    if len(block) < _MIN_BLOCK:
        raise DecodeError(
            f"ciphered block needs at least {_MIN_BLOCK} bytes, got {len(block)}",
            path="ciphered_block",
            offset=len(block),
        )
    if block[0] != ENCRYPTED_SECURITY_CONTROL:
        raise DecodeError(
            f"expected security control 0x31, got 0x{block[0]:02x}",
            path="ciphered_block.security_control",
            offset=0,
        )
    if block[1:5] != _IV_SUFFIX:
        raise DecodeError(
            f"expected invocation counter 00000000, got {block[1:5].hex()}",
            path="ciphered_block.invocation_counter",
            offset=1,
        )
    ciphertext = block[5:-TAG_LENGTH]
    tag = block[-TAG_LENGTH:]
    size = len(ciphertext)
    cipher = _cipher(key)
    iv = _iv(originator)
    keystream = cipher.encrypt(iv, bytes(size), None)[:size]
    plaintext = (int.from_bytes(ciphertext, "big") ^ int.from_bytes(keystream, "big")).to_bytes(
        size, "big"
    )
    expected = cipher.encrypt(iv, plaintext, _BLOCK_AAD)[size : size + TAG_LENGTH]
    if not hmac.compare_digest(expected, tag):
        raise AuthenticationFailed("ciphered block tag does not match")
    return plaintext
