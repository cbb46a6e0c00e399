"""gas_service: the URP payload key (GCS16b to an unknown remote party)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from smemu.firmware import gas_service
from smemu.firmware.common import respond
from smemu.firmware.common.credentials import Credentials
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.decrypt import encryption_key
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keystore import InMemoryKeyStore, KeyKind

DEVICE = Eui64.parse("00-53-4D-45-4D-55-00-04")
ACB = Eui64.parse("90-B3-D5-1F-30-00-00-02")
URP = Eui64.parse("90-B3-D5-1F-30-03-00-00")
NOW = datetime(2015, 1, 1, tzinfo=UTC)


def _certificate(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "urp")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def _setup(certificate: bytes | None) -> tuple[GeneralSigningMessage, GroupingHeader, Credentials]:
    device = InMemoryKeyStore()
    device.add_private_key(bytes(DEVICE), KeyKind.KA, ec.generate_private_key(ec.SECP256R1()))
    oi = OtherInformation(0x0096, URP, 1100, None, certificate)
    sent = GroupingHeader(Cra.COMMAND, 1300, ACB, DEVICE, None, oi)
    command = GeneralSigningMessage(sent, b"", b"")
    header = respond.response_header(command, DEVICE, Tx(NOW, {}))
    return command, header, Credentials(DEVICE, device, {})


def test_the_urp_key_is_the_one_the_party_derives() -> None:
    party_key = ec.generate_private_key(ec.SECP256R1())
    command, header, credentials = _setup(_certificate(party_key))
    key = gas_service.urp_key(command, header, credentials)
    assert key is not None and len(key) == 16
    # the party: its own private key and the device's public key, the response's header
    party = InMemoryKeyStore()
    party.add_private_key(bytes(URP), KeyKind.KA, party_key)
    own = credentials.keystore.ka_private(bytes(DEVICE))
    assert own is not None
    party.add_public_key(bytes(DEVICE), KeyKind.KA, own.public_key())
    assert encryption_key(GeneralSigningMessage(header, b"", None), party) == key


def test_no_urp_key_without_a_usable_certificate() -> None:
    for certificate in (None, b"\x30\x03\x02\x01\x01"):
        command, header, credentials = _setup(certificate)
        assert gas_service.urp_key(command, header, credentials) is None
