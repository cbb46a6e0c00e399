"""Device certificates the emulated test PKI issues during a replay (CS02d).

Layer: hil. A reference CS02d (Update Device Certificate, gbcs-reference.md 7.8) carries a
certificate the DCC's SMKI issued for the reference meter's new key. Replayed unchanged it
names another device (``wrongDeviceIdentity``) and another key. A lab has the SMKI issue a
certificate for the device under test instead; so does :class:`DeviceAuthority`, the CA of the
seeded PKI the emulated devices are provisioned from (:mod:`smemu.devices.keys`): it keeps
the reference certificate's shape -- subject, validity, key usage, policies -- and puts in
the device's identity (hardwareModuleName), the key certified (the device's pending key from
its CS02c request, or the reference key when there is none), new key identifiers, and its
own issuer name and signature.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, ObjectIdentifier

from smemu.devices import keys as pki_keys
from smemu.errors import SmemuError
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import PrivateKey

#: id-on-hardwareModuleName (RFC 4108), the SMKI device identity (gbcs-reference.md 1.3)
HARDWARE_MODULE_NAME: Final = ObjectIdentifier("1.3.6.1.5.5.7.8.4")
#: the issuer name :mod:`smemu.devices.keys` gives its CA
ISSUER: Final = pki_keys.CA_NAME
#: extensions rebuilt rather than copied
_REBUILT: Final = frozenset(
    {
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }
)


class CertificateError(SmemuError):
    """A template that cannot be re-issued: raised by :meth:`DeviceAuthority.issue`.

    Scenarios: the template is no X.509 certificate, names no device (no
    hardwareModuleName), or the key to certify is no P-256 public key.
    """


def _with_eui(value: bytes, eui: Eui64) -> bytes:
    """A HardwareModuleName (``SEQUENCE { hwType OID, hwSerialNum OCTET STRING(8) }``) with
    the serial number replaced by ``eui``."""
    if len(value) < 10 or value[-10:-8] != b"\x04\x08":
        raise CertificateError("the hardwareModuleName carries no 8-octet serial number")
    return value[:-8] + bytes(eui)


@dataclass(frozen=True, slots=True)
class DeviceAuthority:
    """The CA of a seeded test PKI (see the module docstring)."""

    key: PrivateKey

    @classmethod
    def seeded(cls, seed: bytes) -> DeviceAuthority:
        """The CA :func:`~smemu.devices.keys.init_pki` derives from ``seed``."""
        return cls(pki_keys.ca_key(seed))

    @staticmethod
    def manufacturer_key(seed: bytes) -> PrivateKey:
        """The emulated manufacturer's image signing key for the PKI seeded with ``seed``."""
        return pki_keys.manufacturer_key(seed)

    def issue(self, template: bytes, subject: Eui64, public_key: bytes | None) -> bytes:
        """A certificate shaped like ``template`` for device ``subject`` (DER).

        :param public_key: SubjectPublicKeyInfo DER of the key to certify (None: the
            template's key).
        :raises CertificateError: see the class.
        """
        try:
            cert = x509.load_der_x509_certificate(template)
            key = (
                cert.public_key()
                if public_key is None
                else serialization.load_der_public_key(public_key)
            )
        except ValueError as exc:
            raise CertificateError(f"cannot re-issue: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise CertificateError("the certified key is not an elliptic-curve key")
        names: list[x509.GeneralName] = []
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound as exc:
            raise CertificateError("the template names no device (no subjectAltName)") from exc
        for name in san.value:
            if isinstance(name, x509.OtherName) and name.type_id == HARDWARE_MODULE_NAME:
                names.append(x509.OtherName(HARDWARE_MODULE_NAME, _with_eui(name.value, subject)))
            else:
                names.append(name)
        ski = pki_keys.key_identifier(key)
        builder = (
            x509.CertificateBuilder()
            .issuer_name(ISSUER)
            .subject_name(cert.subject)
            .public_key(key)
            .serial_number(
                int.from_bytes(hashlib.sha256(bytes(subject) + ski).digest()[:16], "big") >> 1
            )
            .not_valid_before(cert.not_valid_before_utc)
            .not_valid_after(cert.not_valid_after_utc)
            .add_extension(x509.SubjectAlternativeName(names), critical=san.critical)
            .add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier(pki_keys.key_identifier(self.key), None, None),
                critical=False,
            )
        )
        for extension in cert.extensions:
            if extension.oid not in _REBUILT:
                builder = builder.add_extension(extension.value, critical=extension.critical)
        issued = builder.sign(self.key, hashes.SHA256())
        return issued.public_bytes(serialization.Encoding.DER)
