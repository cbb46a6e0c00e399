"""Key stores: who holds which P-256 key, and cached ECDH secrets (reference §1.3, §4.2, §4.8).

Parties are named by EUI-64 as 8 ``bytes``. :class:`KeyStore` is the interface;
:class:`InMemoryKeyStore` is filled by code; :class:`DirectoryKeyStore` reads the RTDS
``keystore/`` layout and is the one place in ``smemu.protocols`` that reads files.
"""

from __future__ import annotations

import abc
import enum
import os
import re
from pathlib import Path
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from smemu.errors import LocalProtocolError, SecurityError
from smemu.protocols.security.certificates import load_public_pem
from smemu.protocols.security.kdf import ecdh
from smemu.protocols.security.keys import (
    PrivateKey,
    PublicKey,
    as_p256_private,
    as_p256_public,
    generate_private_key,
    private_key_from_scalar,
)

_EUI_LENGTH: Final = 8
_KEY_FILE: Final = re.compile(
    r"(?P<eui>[0-9a-f]{16})-(?P<kind>ds|ka|pp-ka)\.(?P<ext>pem|key)", re.IGNORECASE
)
_KEY_SUFFIXES: Final = frozenset({".pem", ".key"})


class KeyKind(enum.Enum):
    """Which of a party's key pairs (reference §1.3); the value is the file-name suffix."""

    #: Digital signature key (ECDSA), KeyUsage digitalSignature.
    DS = "ds"
    #: Key agreement key (ECDH), KeyUsage keyAgreement.
    KA = "ka"
    #: A supplier's prepayment key agreement key, used only for UTRNs (reference §6).
    PP_KA = "pp-ka"


def _check_eui(eui: bytes) -> None:
    if len(eui) != _EUI_LENGTH:
        raise LocalProtocolError(f"EUI-64 must be 8 bytes, got {len(eui)}")


class KeyStore(abc.ABC):
    """Where the emulator finds the keys of every party, by EUI-64 and :class:`KeyKind`.

    Subclasses implement :meth:`public_key`, :meth:`private_key` and :meth:`euis`. This
    base class adds the per-kind shortcuts and the ECDH secrets, cached per key pair so that
    decoding many messages between the same parties costs one ECDH (docs/performance.md).
    Subclasses that change keys must call :meth:`clear_cache`.

    Lookups with an EUI of the wrong length simply find nothing.
    """

    def __init__(self) -> None:
        self._secrets: dict[tuple[bytes, bytes], bytes | None] = {}
        self._prepayment_secrets: dict[tuple[bytes, bytes], bytes | None] = {}

    @abc.abstractmethod
    def public_key(self, eui: bytes, kind: KeyKind) -> PublicKey | None:
        """Return the public key of ``eui`` of the given kind.

        :param eui: the party's EUI-64 (8 bytes).
        :param kind: which key pair.
        :returns: the key, or ``None`` if the store has neither it nor its private half.
        """

    @abc.abstractmethod
    def private_key(self, eui: bytes, kind: KeyKind) -> PrivateKey | None:
        """Return the private key of ``eui`` of the given kind.

        :param eui: the party's EUI-64 (8 bytes).
        :param kind: which key pair.
        :returns: the key, or ``None`` if the store does not hold it.
        """

    @abc.abstractmethod
    def euis(self) -> frozenset[bytes]:
        """Return the EUI-64 of every party holding at least one key in the store."""

    def certificate_eui(self, eui: bytes, kind: KeyKind) -> bytes | None:
        """Return the EUI-64 named inside the certificate filed under ``eui``.

        It normally equals ``eui``; it can differ when a test keystore reuses a certificate
        (the RTDS WAN provider's KA certificate names the second supplier).

        :param eui: the EUI the key is filed under.
        :param kind: which key pair.
        :returns: the certified EUI, or ``None`` if unknown (no certificate, a bare key).
        """
        return None

    def ds_public(self, eui: bytes) -> PublicKey | None:
        """Return the digital-signature public key of ``eui``, or ``None``."""
        return self.public_key(eui, KeyKind.DS)

    def ds_private(self, eui: bytes) -> PrivateKey | None:
        """Return the digital-signature private key of ``eui``, or ``None``."""
        return self.private_key(eui, KeyKind.DS)

    def ka_public(self, eui: bytes) -> PublicKey | None:
        """Return the key-agreement public key of ``eui``, or ``None``."""
        return self.public_key(eui, KeyKind.KA)

    def ka_private(self, eui: bytes) -> PrivateKey | None:
        """Return the key-agreement private key of ``eui``, or ``None``."""
        return self.private_key(eui, KeyKind.KA)

    def pp_ka_public(self, eui: bytes) -> PublicKey | None:
        """Return the prepayment key-agreement public key of supplier ``eui``, or ``None``."""
        return self.public_key(eui, KeyKind.PP_KA)

    def pp_ka_private(self, eui: bytes) -> PrivateKey | None:
        """Return the prepayment key-agreement private key of supplier ``eui``, or ``None``."""
        return self.private_key(eui, KeyKind.PP_KA)

    def shared_secret(self, a: bytes, b: bytes) -> bytes | None:
        """Return the ECDH secret Z between the KA keys of ``a`` and ``b``.

        Uses ``a``'s KA private key with ``b``'s KA public key if the store holds them, else
        ``b``'s private with ``a``'s public (ECDH is symmetric). The answer, including
        ``None``, is cached per unordered pair, so ``shared_secret(a, b)`` and
        ``shared_secret(b, a)`` cost one ECDH between them.

        :param a: one party's EUI-64 (e.g. the ACB for a command MAC).
        :param b: the other party's EUI-64 (e.g. the device).
        :returns: Z (32 bytes), or ``None`` if neither combination of keys is available.
        :raises SecurityError: the keys do not agree (e.g. an invalid point).
        """
        pair = (a, b) if a <= b else (b, a)
        try:
            return self._secrets[pair]  # None (no keys) is a cached answer too
        except KeyError:
            pass
        secret = self._agree(a, KeyKind.KA, b, KeyKind.KA)
        self._secrets[pair] = secret
        return secret

    def prepayment_secret(self, supplier: bytes, device: bytes) -> bytes | None:
        """Return the ECDH secret Z that authenticates UTRNs (reference §6.1 step 2).

        Uses the supplier's prepayment KA private key with the device's KA public key if
        held (the supplier's side), else the device's KA private key with the supplier's
        prepayment KA public key (the device's side). Cached per (supplier, device).

        :param supplier: the supplier's EUI-64 (the UTRN originator).
        :param device: the device's EUI-64 (the UTRN target).
        :returns: Z (32 bytes), or ``None`` if neither combination of keys is available.
        :raises SecurityError: the keys do not agree (e.g. an invalid point).
        """
        pair = (supplier, device)
        try:
            return self._prepayment_secrets[pair]
        except KeyError:
            pass
        secret = self._agree(supplier, KeyKind.PP_KA, device, KeyKind.KA)
        self._prepayment_secrets[pair] = secret
        return secret

    def clear_cache(self) -> None:
        """Forget every cached ECDH secret (call after adding or replacing keys)."""
        self._secrets.clear()
        self._prepayment_secrets.clear()

    def _agree(self, a: bytes, kind_a: KeyKind, b: bytes, kind_b: KeyKind) -> bytes | None:
        private = self.private_key(a, kind_a)
        if private is not None:
            public = self.public_key(b, kind_b)
            if public is not None:
                return ecdh(private, public)
        private = self.private_key(b, kind_b)
        if private is not None:
            public = self.public_key(a, kind_a)
            if public is not None:
                return ecdh(private, public)
        return None


class InMemoryKeyStore(KeyStore):
    """A key store filled by code: tests, and emulated devices that generate their own keys.

    A private key may be given as a 32-byte scalar; its key object is then built on first
    use, so a fleet of devices does not pay for key objects it never uses. A public key that
    was never added is derived from the private key when that is held. Adding a key
    replaces any earlier key of the same (EUI, kind) and clears the ECDH caches.
    """

    def __init__(self) -> None:
        super().__init__()
        self._public: dict[tuple[bytes, KeyKind], PublicKey] = {}
        self._derived_public: dict[tuple[bytes, KeyKind], PublicKey] = {}
        self._private: dict[tuple[bytes, KeyKind], PrivateKey | bytes] = {}
        self._certified: dict[tuple[bytes, KeyKind], bytes] = {}

    def public_key(self, eui: bytes, kind: KeyKind) -> PublicKey | None:
        slot = (eui, kind)
        key = self._public.get(slot)
        if key is None:
            key = self._derived_public.get(slot)
        if key is None:
            private = self.private_key(eui, kind)
            if private is None:
                return None
            key = self._derived_public[slot] = private.public_key()
        return key

    def private_key(self, eui: bytes, kind: KeyKind) -> PrivateKey | None:
        slot = (eui, kind)
        key = self._private.get(slot)
        if isinstance(key, bytes):
            key = self._private[slot] = private_key_from_scalar(key)
        return key

    def euis(self) -> frozenset[bytes]:
        return frozenset(eui for eui, _ in (*self._public, *self._private))

    def certificate_eui(self, eui: bytes, kind: KeyKind) -> bytes | None:
        return self._certified.get((eui, kind))

    def add_public_key(
        self,
        eui: bytes,
        kind: KeyKind,
        key: PublicKey,
        *,
        certificate_eui: bytes | None = None,
    ) -> None:
        """File a public key.

        :param eui: the owner's EUI-64 (8 bytes).
        :param kind: which key pair.
        :param key: a P-256 public key.
        :param certificate_eui: the EUI named in the key's certificate, if known.
        :raises LocalProtocolError: ``eui`` is not 8 bytes.
        :raises SecurityError: ``key`` is not a P-256 public key.
        """
        _check_eui(eui)
        slot = (eui, kind)
        self._public[slot] = as_p256_public(key, f"{eui.hex()}-{kind.value} public key")
        self._derived_public.pop(slot, None)
        if certificate_eui is None:
            self._certified.pop(slot, None)
        else:
            self._certified[slot] = certificate_eui
        self.clear_cache()

    def add_private_key(self, eui: bytes, kind: KeyKind, key: PrivateKey | bytes) -> None:
        """File a private key.

        :param eui: the owner's EUI-64 (8 bytes).
        :param kind: which key pair.
        :param key: a P-256 private key, or its 32-byte big-endian scalar (built lazily;
            a bad scalar raises :class:`SecurityError` when first used).
        :raises LocalProtocolError: ``eui`` is not 8 bytes.
        :raises SecurityError: ``key`` is not a P-256 private key or 32 bytes.
        """
        _check_eui(eui)
        what = f"{eui.hex()}-{kind.value} private key"
        if isinstance(key, bytes):
            if len(key) != 32:
                raise SecurityError(f"{what}: scalar must be 32 bytes, got {len(key)}")
            value: PrivateKey | bytes = key
        else:
            value = as_p256_private(key, what)
        slot = (eui, kind)
        self._private[slot] = value
        self._derived_public.pop(slot, None)
        self.clear_cache()

    def generate_key(self, eui: bytes, kind: KeyKind) -> PublicKey:
        """Generate and file a new random key pair for ``eui``.

        :param eui: the owner's EUI-64 (8 bytes).
        :param kind: which key pair.
        :returns: the new public key (e.g. to put in a certificate or another store).
        :raises LocalProtocolError: ``eui`` is not 8 bytes.
        """
        private = generate_private_key()
        self.add_private_key(eui, kind, private)
        return private.public_key()

    def add_pem(self, eui: bytes, kind: KeyKind, data: bytes, *, name: str = "PEM data") -> None:
        """File a key from PEM: a certificate, a bare public key or a PKCS#8 private key.

        :param eui: the owner's EUI-64 (8 bytes).
        :param kind: which key pair.
        :param data: the PEM bytes (unencrypted for private keys).
        :param name: how to name the data in errors.
        :raises SecurityError: the data is not one of those, or not a P-256 key.
        """
        if b"PRIVATE KEY-----" in data:
            try:
                private = load_pem_private_key(data, password=None)
            except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
                raise SecurityError(f"{name}: not an unencrypted PKCS#8 key ({exc})") from exc
            self.add_private_key(eui, kind, as_p256_private(private, name))
        else:
            certified = load_public_pem(data, name=name)
            self.add_public_key(eui, kind, certified.public_key, certificate_eui=certified.eui)

    def add_keystore_file(self, name: str, data: bytes) -> None:
        """File one key from the RTDS keystore naming scheme (reference §1.3).

        ``<eui>-{ds,ka,pp-ka}.pem`` holds a certificate (or a bare public key) and
        ``<eui>-{ds,ka,pp-ka}.key`` a PKCS#8 private key; ``<eui>`` is 16 hex digits.

        :param name: the file name (no directory).
        :param data: the file's contents.
        :raises SecurityError: the name does not follow the scheme, or the contents do not
            match it; the message names the file.
        """
        match = _KEY_FILE.fullmatch(name)
        if match is None:
            raise SecurityError(f"{name}: not a key file name (<eui>-{{ds,ka,pp-ka}}.{{pem,key}})")
        eui = bytes.fromhex(match["eui"])
        kind = KeyKind(match["kind"].lower())
        is_private = match["ext"].lower() == "key"
        if is_private != (b"PRIVATE KEY-----" in data):
            expected = "a private key" if is_private else "a certificate or public key"
            raise SecurityError(f"{name}: expected {expected}")
        self.add_pem(eui, kind, data, name=name)


class DirectoryKeyStore(InMemoryKeyStore):
    """A key store read from a folder in the RTDS ``keystore/`` layout.

    Every ``*.pem`` and ``*.key`` file is read and checked when the folder is loaded;
    other files and sub-folders are ignored. The 435 RTDS files load in about 20 ms.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        #: The folder the keys were read from.
        self.path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, parties={len(self.euis())})"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DirectoryKeyStore:
        """Read every key file in ``path``.

        :param path: the keystore folder.
        :returns: the loaded store.
        :raises SecurityError: the folder does not exist or cannot be read, a ``.pem`` or
            ``.key`` file is unreadable or malformed, or two files name the same key
            (e.g. differing only in case); the message names the file.
        """
        root = Path(path)
        if not root.is_dir():
            raise SecurityError(f"key store folder not found: {root}")
        store = cls(root)
        seen: dict[str, str] = {}
        try:
            entries = sorted(root.iterdir())
        except OSError as exc:
            raise SecurityError(f"cannot list key store folder {root}: {exc}") from exc
        for entry in entries:
            if entry.suffix.lower() not in _KEY_SUFFIXES or not entry.is_file():
                continue
            folded = entry.name.lower()
            if folded in seen:
                raise SecurityError(f"{entry.name}: same key as {seen[folded]}")
            seen[folded] = entry.name
            try:
                data = entry.read_bytes()
            except OSError as exc:
                raise SecurityError(f"{entry.name}: cannot read ({exc})") from exc
            store.add_keystore_file(entry.name, data)
        return store
