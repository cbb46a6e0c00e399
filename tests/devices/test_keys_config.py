"""The test PKI and premises files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509

from smemu.devices.config import DEFAULT_PREMISES, load_config, parse_config
from smemu.devices.keys import PKI_FILE, init_pki, load_pki
from smemu.errors import ConfigError
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.security.keys import PrivateKey
from smemu.protocols.security.keystore import KeyKind


def test_pki_certificates_name_every_party(tmp_path: Path) -> None:
    config = load_config(None)
    pki = init_pki(tmp_path / "k", {d.eui: d.type for d in config.devices}, seed=b"s")
    for eui in [*pki.remote_parties.values(), *pki.devices]:
        for kind in (KeyKind.DS, KeyKind.KA):
            assert pki.keystore.certificate_eui(eui, kind) == eui
            assert pki.keystore.private_key(eui, kind) is not None
    again = load_pki(tmp_path / "k")
    assert again.remote_parties == pki.remote_parties
    assert again.devices == pki.devices
    assert json.loads((tmp_path / "k" / PKI_FILE).read_text())["remote_parties"]["supplier"]


def test_seeded_pki_is_reproducible_and_init_refuses_to_overwrite(tmp_path: Path) -> None:
    a = init_pki(tmp_path / "a", {}, seed=b"same")
    b = init_pki(tmp_path / "b", {}, seed=b"same")
    sup = a.remote_parties[Role.SUPPLIER]
    assert (tmp_path / "a" / f"{sup.hex()}-ds.key").read_bytes() == (
        tmp_path / "b" / f"{sup.hex()}-ds.key"
    ).read_bytes()
    with pytest.raises(ConfigError):
        init_pki(tmp_path / "a", {})
    assert b.provisioning  # smoke: the method exists for devices


def test_default_premises_parses() -> None:
    config = parse_config(DEFAULT_PREMISES)
    assert [d.type for d in config.devices] == [
        DeviceType.CHF,
        DeviceType.GPF,
        DeviceType.ESME,
        DeviceType.GSME,
        DeviceType.PPMID,
        DeviceType.HCALC,
    ]
    assert config.of_type(DeviceType.GSME)[0].settings == (("gsme/wake_s", 1800),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[device]]\ntype='esme'\neui='00DB1234567890A0'\n", "exactly one chf"),
        ("[[device]]\ntype='kettle'\neui='00DB1234567890A0'\n", "type must be"),
        ("[[device]]\ntype='chf'\neui='nope'\n", "EUI-64"),
        ("[[device]]\ntype='chf'\neui='00DB1234567890A0'\nwake_s=1\n", "wake_s"),
        ("[[device]]\ntype='chf'\neui='00DB1234567890A0'\ncolour=1\n", "unknown setting"),
        ("[premises]\nspeed=-1\n", "speed"),
        ("[premises\n", "premises"),
    ],
)
def test_bad_premises_files_say_why(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_seeded_ca_key_signs_the_pki_and_issues_certificates(tmp_path: Path) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    from smemu.devices.keys import CA_NAME, ca_key, issue_certificate, manufacturer_key
    from smemu.protocols.gbcs.types import Eui64
    from smemu.protocols.security.keys import generate_private_key, public_point

    pki = init_pki(tmp_path / "k", {}, seed=b"seed")
    supplier = pki.remote_parties[Role.SUPPLIER]
    pem = (tmp_path / "k" / f"{supplier.hex()}-ds.pem").read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    ca = ca_key(b"seed")
    # the PKI's certificates verify under the public CA key (and not under another seed's)
    cert.verify_directly_issued_by(_self_signed(ca))
    with pytest.raises(InvalidSignature):
        cert.verify_directly_issued_by(_self_signed(ca_key(b"other")))
    assert public_point(manufacturer_key(b"seed")) != public_point(ca)
    assert public_point(manufacturer_key(b"seed")) == public_point(manufacturer_key(b"seed"))
    device = Eui64.parse("00-DB-12-34-56-78-90-A0")
    subject = generate_private_key().public_key()
    issued = x509.load_der_x509_certificate(
        issue_certificate(ca, subject, device, key_agreement=True)
    )
    assert issued.issuer == CA_NAME
    assert isinstance(issued.public_key(), ec.EllipticCurvePublicKey)
    assert public_point(issued.public_key()) == public_point(subject)  # type: ignore[arg-type]
    assert issued.extensions.get_extension_for_class(x509.KeyUsage).value.key_agreement
    issued.verify_directly_issued_by(_self_signed(ca))


def _self_signed(key: PrivateKey) -> x509.Certificate:
    """A throwaway certificate named like the test CA, carrying ``key``'s public key."""
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives import hashes

    from smemu.devices.keys import CA_NAME

    return (
        x509.CertificateBuilder()
        .issuer_name(CA_NAME)
        .subject_name(CA_NAME)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2015, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2099, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
