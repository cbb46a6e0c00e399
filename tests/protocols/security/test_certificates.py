"""Public keys and EUIs from SMKI-shaped certificates (gbcs-reference.md 1.3)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier

from smemu.errors import SecurityError
from smemu.protocols.security import certificate_eui, load_public_pem, public_point

EUI = bytes.fromhex("90B3D51F30010000")
DEVICE = bytes.fromhex("00DB1234567890A0")
HARDWARE_MODULE_NAME = ObjectIdentifier("1.3.6.1.5.5.7.8.4")
# hwType OID 1.2.826.0.1.8641679.1.2.2.1, DER-encoded (gbcs-reference.md 1.3).
HW_TYPE = bytes.fromhex("060d2a863a0001848fb90f01020201")

_ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())


def make_certificate(
    key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    extensions: Sequence[x509.ExtensionType] = (),
) -> bytes:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Z1")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2015, 11, 4, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(2025, 11, 3, tzinfo=datetime.UTC))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(_ISSUER_KEY, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


def organisation_name(unique_identifier: bytes) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "02"),
            x509.NameAttribute(
                NameOID.X500_UNIQUE_IDENTIFIER, unique_identifier, _ASN1Type.BitString
            ),
        ]
    )


def hardware_module_name(serial: bytes) -> x509.SubjectAlternativeName:
    content = HW_TYPE + bytes([0x04, len(serial)]) + serial
    value = bytes([0x30, len(content)]) + content
    return x509.SubjectAlternativeName([x509.OtherName(HARDWARE_MODULE_NAME, value)])


def test_organisation_certificate_names_its_eui() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = make_certificate(key, organisation_name(b"\x00" + EUI))
    certified = load_public_pem(pem)
    assert certified.eui == EUI
    assert public_point(certified.public_key) == public_point(key)


def test_device_certificate_names_its_eui() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = make_certificate(key, x509.Name([]), [hardware_module_name(DEVICE)])
    assert load_public_pem(pem).eui == DEVICE


def der(tag: int, content: bytes) -> bytes:
    return bytes([tag, len(content)]) + content


@pytest.mark.parametrize(
    "value",
    [
        der(0x05, b""),
        der(0x04, DEVICE),
        der(0x30, der(0x05, b"")),
        der(0x30, HW_TYPE),
        der(0x30, HW_TYPE + der(0x04, DEVICE[:4])),
        der(0x30, HW_TYPE + der(0x02, DEVICE)),
    ],
    ids=["null", "not-a-sequence", "no-oid", "no-serial", "short-serial", "integer-serial"],
)
def test_malformed_hardware_module_name_gives_no_eui(value: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.OtherName(HARDWARE_MODULE_NAME, value)])
    pem = make_certificate(key, x509.Name([]), [san])
    assert load_public_pem(pem).eui is None


def test_certificate_without_identifier_gives_no_eui() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = make_certificate(key, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
    cert = x509.load_pem_x509_certificate(pem)
    assert certificate_eui(cert) is None


def test_bare_public_key_has_no_eui() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    certified = load_public_pem(pem)
    assert certified.eui is None
    assert public_point(certified.public_key) == public_point(key)


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
    ids=["empty", "text", "bad-certificate"],
)
def test_garbage_raises_naming_the_input(data: bytes) -> None:
    with pytest.raises(SecurityError, match=r"some\.pem"):
        load_public_pem(data, name="some.pem")


def test_certificate_on_another_curve_raises() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    pem = make_certificate(key, organisation_name(b"\x00" + EUI))
    with pytest.raises(SecurityError, match="secp256r1"):
        load_public_pem(pem)
