"""Public keys and entity identifiers from SMKI certificates (reference §1.3).

Sans-IO: takes PEM bytes. Organisation certificates carry the EUI in the subject's
x500UniqueIdentifier (2.5.4.45, BIT STRING); device certificates in subjectAltName
otherName hardwareModuleName (1.3.6.1.5.5.7.8.4) hwSerialNum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from cryptography.x509.oid import ObjectIdentifier

from smemu.errors import SecurityError
from smemu.protocols.security.keys import PublicKey, as_p256_public

_X500_UNIQUE_IDENTIFIER: Final = ObjectIdentifier("2.5.4.45")
_HARDWARE_MODULE_NAME: Final = ObjectIdentifier("1.3.6.1.5.5.7.8.4")
_EUI_LENGTH: Final = 8
_DER_SEQUENCE: Final = 0x30
_DER_OID: Final = 0x06
_DER_OCTET_STRING: Final = 0x04


@dataclass(frozen=True, slots=True)
class CertifiedKey:
    """A public key read from a PEM file, with the EUI its certificate names (if any)."""

    #: The P-256 public key.
    public_key: PublicKey
    #: The 8-byte EUI-64 found in the certificate; ``None`` for a bare public key or a
    #: certificate without a recognisable identifier.
    eui: bytes | None


def load_public_pem(data: bytes, *, name: str = "PEM data") -> CertifiedKey:
    """Read an X.509 certificate, or a bare ``PUBLIC KEY``, in PEM form.

    :param data: the PEM bytes.
    :param name: how to name the input in errors (e.g. the file name).
    :returns: the public key and the certified EUI, if any.
    :raises SecurityError: the data is neither a certificate nor a public key, or the key
        is not on P-256.
    """
    key: object
    eui: bytes | None = None
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            cert = x509.load_pem_x509_certificate(data)
            key = cert.public_key()
            eui = certificate_eui(cert)
        else:
            key = load_pem_public_key(data)
    except ValueError as exc:
        raise SecurityError(f"{name}: not a PEM certificate or public key ({exc})") from exc
    return CertifiedKey(public_key=as_p256_public(key, name), eui=eui)


def certificate_eui(cert: x509.Certificate) -> bytes | None:
    """Find the entity identifier (EUI-64) a GBCS certificate is issued to.

    :param cert: a parsed certificate.
    :returns: the 8-byte EUI from x500UniqueIdentifier (organisations) or from the
        hardwareModuleName hwSerialNum (devices); ``None`` if neither is present.
    """
    for attribute in cert.subject.get_attributes_for_oid(_X500_UNIQUE_IDENTIFIER):
        value = attribute.value
        if isinstance(value, bytes):
            # BIT STRING content: the unused-bits octet (0) then the 8 bytes.
            if len(value) == _EUI_LENGTH + 1 and value[0] == 0:
                return value[1:]
            if len(value) == _EUI_LENGTH:
                return value
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    for other in san.value.get_values_for_type(x509.OtherName):
        if other.type_id == _HARDWARE_MODULE_NAME:
            serial = _hardware_serial(other.value)
            if serial is not None and len(serial) == _EUI_LENGTH:
                return serial
    return None


def _der_item(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """Return (tag, content start, content end) of the DER item at ``pos``, or None."""
    if pos + 2 > len(data):
        return None
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 2 or pos + count > len(data):
            return None
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        return None
    return tag, pos, pos + length


def _hardware_serial(value: bytes) -> bytes | None:
    # HardwareModuleName ::= SEQUENCE { hwType OBJECT IDENTIFIER, hwSerialNum OCTET STRING }
    # (RFC 4108). A malformed value is ignored: the EUI is informative only.
    outer = _der_item(value, 0)
    if outer is None or outer[0] != _DER_SEQUENCE:
        return None
    oid = _der_item(value, outer[1])
    if oid is None or oid[0] != _DER_OID:
        return None
    serial = _der_item(value, oid[2])
    if serial is None or serial[0] != _DER_OCTET_STRING or serial[2] > outer[2]:
        return None
    return value[serial[1] : serial[2]]
