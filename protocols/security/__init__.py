"""GBCS cryptography: signatures, key derivation, GMAC/GCM and key stores (GBCS §4.3.3).

Sans-IO (only :meth:`DirectoryKeyStore.load` reads files). The pieces, by reference clause:
ECDSA-SHA256 raw r||s signatures (§4.3), static ECDH + SP 800-56A KDF (§4.4), 12-byte GMAC
and ciphered blocks (§4.4, §4.5), and key stores with cached ECDH secrets (§1.3, §4.2).
"""

from __future__ import annotations

from smemu.protocols.security.certificates import CertifiedKey, certificate_eui, load_public_pem
from smemu.protocols.security.ecdsa import SIGNATURE_LENGTH, sign, verify
from smemu.protocols.security.gcm import (
    BLOCK_HEADER,
    ENCRYPTED_SECURITY_CONTROL,
    FULL_TAG_LENGTH,
    MAC_AAD_PREFIX,
    TAG_LENGTH,
    AuthenticationFailed,
    decrypt_block,
    encrypt_block,
    gmac,
    gmac_full,
    gmac_verify,
)
from smemu.protocols.security.kdf import (
    ALGORITHM_ID,
    KEY_LENGTH,
    OTHER_INFO_LENGTH,
    SHARED_SECRET_LENGTH,
    KdfMode,
    derive_key,
    ecdh,
    message_key,
    other_info,
)
from smemu.protocols.security.keys import (
    CURVE,
    PrivateKey,
    PublicKey,
    generate_private_key,
    private_key_from_scalar,
    private_scalar,
    public_key_from_point,
    public_point,
)
from smemu.protocols.security.keystore import (
    DirectoryKeyStore,
    InMemoryKeyStore,
    KeyKind,
    KeyStore,
)

__all__ = [
    "ALGORITHM_ID",
    "BLOCK_HEADER",
    "CURVE",
    "ENCRYPTED_SECURITY_CONTROL",
    "FULL_TAG_LENGTH",
    "KEY_LENGTH",
    "MAC_AAD_PREFIX",
    "OTHER_INFO_LENGTH",
    "SHARED_SECRET_LENGTH",
    "SIGNATURE_LENGTH",
    "TAG_LENGTH",
    "AuthenticationFailed",
    "CertifiedKey",
    "DirectoryKeyStore",
    "InMemoryKeyStore",
    "KdfMode",
    "KeyKind",
    "KeyStore",
    "PrivateKey",
    "PublicKey",
    "certificate_eui",
    "decrypt_block",
    "derive_key",
    "ecdh",
    "encrypt_block",
    "generate_private_key",
    "gmac",
    "gmac_full",
    "gmac_verify",
    "load_public_pem",
    "message_key",
    "other_info",
    "private_key_from_scalar",
    "private_scalar",
    "public_key_from_point",
    "public_point",
    "sign",
    "verify",
]
