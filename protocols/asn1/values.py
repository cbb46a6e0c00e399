"""Value types shared by the GBCS DER payloads: roles, key usage, status codes, log entries.

Layer: protocols (sans-IO). Enumerations carry the numbers of the GBCS ASN.1 definitions
(gbcs-reference §7.8); certificates stay whole DER bytes (they are signed as they are) with a
readable summary for display.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NewType

from smemu.protocols.gbcs.types import Eui64

#: An X.509 certificate (RFC 5280), DER, carried whole.
Certificate = NewType("Certificate", bytes)
#: A PKCS #10 certification request (RFC 2986), DER, carried whole.
CertificationRequest = NewType("CertificationRequest", bytes)
#: A GBCS alert code (e.g. 0x8F66, future-dated command executed).
AlertCode = NewType("AlertCode", int)


class RemotePartyRole(enum.IntEnum):
    """Role of a remote party whose trust anchor a device holds (GBCS RemotePartyRole)."""

    ROOT = 0
    RECOVERY = 1
    SUPPLIER = 2
    NETWORK_OPERATOR = 3
    ACCESS_CONTROL_BROKER = 4
    TRANSITIONAL_COS = 5
    WAN_PROVIDER = 6
    ISSUING_AUTHORITY = 7
    LOAD_CONTROLLER = 8
    OTHER = 127


class CellUsage(enum.IntEnum):
    """What a trust anchor cell is for (GBCS CellUsage; DER omits the default, management)."""

    MANAGEMENT = 0
    PREPAYMENT_TOP_UP = 1


class StatusCode(enum.IntEnum):
    """Outcome for one remote party or trust anchor cell (GBCS StatusCode, ENUMERATED)."""

    SUCCESS = 0
    BAD_CERTIFICATE = 5
    NO_TRUST_ANCHOR = 10
    INSUFFICIENT_MEMORY = 17
    TRUST_ANCHOR_NOT_FOUND = 25
    RESOURCES_BUSY = 30
    OTHER = 127


class DeviceType(enum.IntEnum):
    """Type of a device in a device log (GBCS DeviceType)."""

    GSME = 0
    ESME = 1
    CHF = 2
    GPF = 3
    HCALCS = 4
    PPMID = 5
    TYPE2 = 6


class JoinResponseCode(enum.IntEnum):
    """Outcome of a join (CS03 responses, GCS59 restore outcomes)."""

    SUCCESS = 0
    INVALID_MESSAGE_CODE_FOR_JOIN_METHOD_AND_ROLE = 1
    INVALID_JOIN_METHOD_AND_ROLE = 2
    INCOMPATIBLE_WITH_EXISTING_ENTRY = 3
    DEVICE_LOG_FULL = 4
    WRITE_FAILURE = 5
    KEY_AGREEMENT_NO_RESOURCES = 6
    KEY_AGREEMENT_UNKNOWN_ISSUER = 7
    KEY_AGREEMENT_UNSUPPORTED_SUITE = 8
    KEY_AGREEMENT_BAD_MESSAGE = 9
    KEY_AGREEMENT_BAD_KEY_CONFIRM = 10
    INVALID_OR_MISSING_CERTIFICATE = 11
    NO_PARTNER_LINK_KEY_RECEIVED = 12
    NO_CBKE_RESPONSE = 13


class KeyUsage(enum.Flag):
    """X.509 KeyUsage bits (RFC 5280 §4.2.1.3); on the wire a DER named-bit BIT STRING."""

    DIGITAL_SIGNATURE = 1 << 0
    NON_REPUDIATION = 1 << 1
    KEY_ENCIPHERMENT = 1 << 2
    DATA_ENCIPHERMENT = 1 << 3
    KEY_AGREEMENT = 1 << 4
    KEY_CERT_SIGN = 1 << 5
    CRL_SIGN = 1 << 6
    ENCIPHER_ONLY = 1 << 7
    DECIPHER_ONLY = 1 << 8

    def to_bits(self) -> tuple[bytes, int]:
        """The DER named-bit form: trailing zero bits removed (X.690 11.2.2)."""
        value = self.value
        nbits = value.bit_length()
        if nbits == 0:
            return b"", 0
        nbytes = (nbits + 7) // 8
        # bit 0 is the most significant bit of the first byte
        packed = sum(1 << (nbytes * 8 - 1 - i) for i in range(nbits) if value >> i & 1)
        return packed.to_bytes(nbytes, "big"), nbits

    @classmethod
    def from_bits(cls, data: bytes, nbits: int) -> KeyUsage:
        """Read a BIT STRING; raise ValueError for a bit KeyUsage does not name."""
        total = int.from_bytes(data, "big")
        width = len(data) * 8
        value = 0
        for i in range(nbits):
            if total >> (width - 1 - i) & 1:
                value |= 1 << i
        if value >> 9:
            raise ValueError(f"key usage bit {value.bit_length() - 1} is not defined")
        return cls(value)

    @property
    def names(self) -> list[str]:
        """The set bits' names in bit order, lower-case (``digital_signature`` ...)."""
        return [m.name.lower() for m in type(self) if m in self and m.name]


@dataclass(frozen=True, slots=True)
class TrustAnchorCellIdentifier:
    """Names one trust anchor cell of a device (GBCS TrustAnchorCellIdentifier).

    ::

        SEQUENCE { remotePartyRole INTEGER, keyUsage BIT STRING,
                   cellUsage INTEGER DEFAULT management }
    """

    remote_party_role: RemotePartyRole  #: whose anchor
    key_usage: KeyUsage  #: digital signature or key agreement
    cell_usage: CellUsage = CellUsage.MANAGEMENT  #: management, or prepayment top-up


@dataclass(frozen=True, slots=True)
class DeviceLogEntry:
    """One device in a device log (GBCS DeviceLogEntry): ``SEQUENCE { deviceId, deviceType }``."""

    device_id: Eui64  #: the device's Entity Identifier
    device_type: DeviceType  #: its type


_EUI_LENGTH: Final = 8
_KEY_USAGE_NAMES: Final = {
    "digital_signature": "digital_signature",
    "content_commitment": "non_repudiation",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "key_cert_sign": "key_cert_sign",
    "crl_sign": "crl_sign",
}


def certificate_summary(der: bytes) -> dict[str, Any]:
    """A readable summary of an X.509 certificate: subject, issuer, serial, key usage, EUI.

    Never raises: bytes that do not parse as a certificate are summarised by their size and
    the parser's complaint. The DER itself is always included as hex.
    """
    from cryptography import x509

    from smemu.protocols.security.certificates import certificate_eui

    out: dict[str, Any] = {"bytes": len(der)}
    try:
        cert = x509.load_der_x509_certificate(der)
        out["subject"] = cert.subject.rfc4514_string()
        out["issuer"] = cert.issuer.rfc4514_string()
        out["serial"] = f"{cert.serial_number:X}"
        out["not_before"] = _iso(cert.not_valid_before_utc)
        out["not_after"] = _iso(cert.not_valid_after_utc)
        eui = certificate_eui(cert)
        if eui is not None and len(eui) == _EUI_LENGTH:
            out["entity_id"] = str(Eui64(eui))
        out["key_usage"] = _key_usage_names(cert)
    except ValueError as exc:
        out["unparsed"] = str(exc)
    out["der"] = der.hex()
    return out


def _key_usage_names(cert: Any) -> list[str]:
    from cryptography import x509

    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return []
    names = []
    for attr, name in _KEY_USAGE_NAMES.items():
        if getattr(usage, attr):
            names.append(name)
    return names


def certification_request_summary(der: bytes) -> dict[str, Any]:
    """A readable summary of a PKCS #10 request: subject, key type, requested key usage."""
    from cryptography import x509

    out: dict[str, Any] = {"bytes": len(der)}
    try:
        csr = x509.load_der_x509_csr(der)
        out["subject"] = csr.subject.rfc4514_string()
        out["public_key"] = type(csr.public_key()).__name__
        out["key_usage"] = _key_usage_names(csr)
        out["signature_valid"] = csr.is_signature_valid
    except ValueError as exc:
        out["unparsed"] = str(exc)
    out["der"] = der.hex()
    return out


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as the payload times are rendered."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
