"""ZigBee Trust Centre link keys from install codes, and their hashes (CHF joining).

Layer: protocols (sans-IO; the CHF firmware uses it when devices join). ZigBee SE: an
install code (here 16 octets, CCS01 ``register_device.key``, without its CRC) is extended
with its CRC-16 (X.25: reflected polynomial 0x1021, initial and final XOR 0xFFFF, appended
least significant octet first); the preconfigured Trust Centre link key is the AES-MMO hash
(Matyas-Meyer-Oseas over AES-128, ZigBee specification B.6) of that string. The CHF device
log records a hash of the established key rather than the key; the emulator uses the
AES-MMO hash of the link key for it.
"""

from __future__ import annotations

from typing import Final

import crcmod.predefined  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK: Final = 16


_X25: Final = crcmod.predefined.mkPredefinedCrcFun("x-25")


def crc16_x25(data: bytes) -> int:
    """CRC-16/X-25 of ``data`` (the ZigBee install code CRC)."""
    return int(_X25(data))


def _encrypt(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def mmo_hash(message: bytes) -> bytes:
    """AES-MMO hash (16 octets) of a message shorter than 8 KiB."""
    bits = len(message) * 8
    padded = message + b"\x80"
    padded += bytes((-len(padded) - 2) % _BLOCK) + bits.to_bytes(2, "big")
    digest = bytes(_BLOCK)
    for start in range(0, len(padded), _BLOCK):
        block = padded[start : start + _BLOCK]
        cipher = _encrypt(digest, block)
        digest = (int.from_bytes(cipher, "big") ^ int.from_bytes(block, "big")).to_bytes(
            _BLOCK, "big"
        )
    return digest


def install_code_link_key(install_code: bytes) -> bytes:
    """The Trust Centre link key a device with ``install_code`` (no CRC) joins with."""
    return mmo_hash(install_code + crc16_x25(install_code).to_bytes(2, "little"))


def hashed_link_key(link_key: bytes) -> bytes:
    """The hash of a Trust Centre link key the CHF device log records."""
    return mmo_hash(link_key)
