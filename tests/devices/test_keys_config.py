"""The test PKI and premises files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smemu.devices.config import DEFAULT_PREMISES, load_config, parse_config
from smemu.devices.keys import PKI_FILE, init_pki, load_pki
from smemu.errors import ConfigError
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
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
