"""Commissioning: the manufacturer's image key in the PKI and the devices, the device logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smemu.devices.commissioning import commissioning_writes
from smemu.devices.config import PremisesConfig, load_config, parse_config
from smemu.devices.keys import (
    MANUFACTURER_EUI,
    PKI_FILE,
    Pki,
    add_manufacturer,
    init_pki,
    load_pki,
    manufacturer_key,
)
from smemu.errors import ConfigError
from smemu.firmware import firmware_image as fw
from smemu.firmware import gas_joins, joins, ppmid_joins
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import DeviceType as LogType
from smemu.protocols.security.keys import generate_private_key, public_point
from smemu.protocols.security.keystore import KeyKind

T0 = datetime(2025, 1, 6, tzinfo=UTC)
VERSION = bytes.fromhex("05060708")


@pytest.fixture(scope="module")
def premises(tmp_path_factory: pytest.TempPathFactory) -> tuple[PremisesConfig, Pki]:
    config = load_config(None)
    folder = tmp_path_factory.mktemp("pki") / "keys"
    return config, init_pki(folder, {d.eui: d.type for d in config.devices}, seed=b"c")


def _writes(config: PremisesConfig, pki: Pki, kind: DeviceType) -> dict[str, bytes]:
    return commissioning_writes(config.of_type(kind)[0], config, pki, T0)


def test_a_seeded_pki_files_the_seeds_manufacturer_key(tmp_path: Path) -> None:
    pki = init_pki(tmp_path / "k", {}, seed=b"seed")
    key = pki.manufacturer_key()
    assert key is not None and pki.manufacturer == MANUFACTURER_EUI
    assert public_point(key) == public_point(manufacturer_key(b"seed"))
    assert (tmp_path / "k" / f"{MANUFACTURER_EUI.hex()}-ds.key").exists()
    again = load_pki(tmp_path / "k")
    assert again.manufacturer_point() == public_point(manufacturer_key(b"seed"))
    # a random PKI has a manufacturer too, its own
    other = init_pki(tmp_path / "r", {})
    assert other.manufacturer_point() not in (None, again.manufacturer_point())


def test_an_older_pki_gets_its_manufacturer_on_the_next_start(tmp_path: Path) -> None:
    folder = tmp_path / "k"
    init_pki(folder, {}, seed=b"old")
    meta = json.loads((folder / PKI_FILE).read_text())
    del meta["manufacturer"]
    (folder / PKI_FILE).write_text(json.dumps(meta))
    for suffix in ("key", "pem"):
        (folder / f"{MANUFACTURER_EUI.hex()}-ds.{suffix}").unlink()
    old = load_pki(folder)
    assert old.manufacturer is None and old.manufacturer_point() is None
    new = add_manufacturer(old, b"old")
    assert new.manufacturer_point() == public_point(manufacturer_key(b"old"))
    assert load_pki(folder).manufacturer == MANUFACTURER_EUI
    assert add_manufacturer(new, b"other") is new  # already there: unchanged


def test_the_manufacturer_eui_is_reserved(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="manufacturer"):
        init_pki(tmp_path / "k", {MANUFACTURER_EUI: DeviceType.ESME})


@pytest.mark.parametrize("kind", [DeviceType.ESME, DeviceType.GSME, DeviceType.PPMID])
def test_image_verifiers_trust_the_pki_manufacturer(
    premises: tuple[PremisesConfig, Pki], kind: DeviceType
) -> None:
    config, pki = premises
    writes = _writes(config, pki, kind)
    assert writes[fw.MANUFACTURER_KEY] == pki.manufacturer_point()
    assert fw.MANUFACTURER_ID not in writes
    signer = pki.manufacturer_key()
    assert signer is not None
    good = fw.build_image(0x0102, VERSION, b"program", signer)
    forged = fw.build_image(0x0102, VERSION, b"program", generate_private_key())
    assert fw.verify_image(Tx(T0, writes), good) is not None
    assert fw.verify_image(Tx(T0, writes), forged) is None


@pytest.mark.parametrize("kind", [DeviceType.CHF, DeviceType.GPF, DeviceType.HCALC])
def test_other_devices_hold_no_image_key(
    premises: tuple[PremisesConfig, Pki], kind: DeviceType
) -> None:
    config, pki = premises
    assert fw.MANUFACTURER_KEY not in _writes(config, pki, kind)


def test_a_premises_file_can_name_its_own_manufacturer(
    premises: tuple[PremisesConfig, Pki],
) -> None:
    _, pki = premises
    own = generate_private_key()
    text = (
        "[premises]\nmanufacturer_id = 0x0999\n"
        f'manufacturer_point = "04{public_point(own).hex()}"\n'
        "[[device]]\ntype = 'chf'\neui = '00-DB-12-34-56-78-90-A2'\n"
        "[[device]]\ntype = 'esme'\neui = '00-DB-12-34-56-78-90-A0'\n"
    )
    config = parse_config(text)
    assert config.manufacturer_point == public_point(own)
    assert config.manufacturer_id == 0x0999
    writes = _writes(config, pki, DeviceType.ESME)
    assert writes[fw.MANUFACTURER_KEY] == public_point(own)
    tx = Tx(T0, writes)
    assert fw.verify_image(tx, fw.build_image(0x0999, VERSION, b"p", own)) is not None
    assert fw.verify_image(tx, fw.build_image(0x0102, VERSION, b"p", own)) is None  # other id
    signer = pki.manufacturer_key()
    assert signer is not None
    assert fw.verify_image(tx, fw.build_image(0x0999, VERSION, b"p", signer)) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("manufacturer_id = 70000", "manufacturer_id"),
        ("manufacturer_id = true", "manufacturer_id"),
        ('manufacturer_point = "zz"', "manufacturer_point"),
        (f'manufacturer_point = "{"11" * 64}"', "manufacturer_point"),  # not on the curve
    ],
)
def test_bad_manufacturer_settings_say_why(line: str, message: str) -> None:
    text = f"[premises]\n{line}\n[[device]]\ntype = 'chf'\neui = '00DB1234567890A2'\n"
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_the_ppmid_log_holds_its_esme_gpf_and_gsme(premises: tuple[PremisesConfig, Pki]) -> None:
    config, pki = premises
    tx = Tx(T0, _writes(config, pki, DeviceType.PPMID))
    esme = config.of_type(DeviceType.ESME)[0].eui
    gpf = config.of_type(DeviceType.GPF)[0].eui
    gsme = config.of_type(DeviceType.GSME)[0].eui
    assert {(e.device_id, e.device_type) for e in joins.entries(tx)} == {
        (esme, LogType.ESME),
        (gpf, LogType.GPF),
        (gsme, LogType.GSME),
    }
    esme_entry = json.loads(tx.get(joins.PREFIX + esme.hex()) or b"")
    gpf_entry = json.loads(tx.get(joins.PREFIX + gpf.hex()) or b"")
    gsme_entry = json.loads(tx.get(joins.PREFIX + gsme.hex()) or b"")
    assert esme_entry["method"] == JoinMethodAndRole.METHOD_A_RESPONDER
    assert gpf_entry["method"] == JoinMethodAndRole.METHOD_A_RESPONDER
    assert gsme_entry["method"] == JoinMethodAndRole.METHOD_C
    assert bytes.fromhex(gsme_entry["ka"]) == pki.certificate(gsme, KeyKind.KA)
    # and it serves both, MACing PCS01 / PCS02 with the GSME's KA key
    assert tx.get(ppmid_joins.ESME_KEY) == bytes(esme)
    assert tx.get(ppmid_joins.GSME_KEY) == bytes(gsme)
    ka = pki.keystore.ka_public(bytes(gsme))
    assert ka is not None
    assert tx.get(ppmid_joins.PEER_KA + bytes(gsme).hex()) == public_point(ka)


def test_the_gpf_log_holds_every_ppmid_it_initiated(
    premises: tuple[PremisesConfig, Pki],
) -> None:
    config, pki = premises
    tx = Tx(T0, _writes(config, pki, DeviceType.GPF))
    ppmids = {d.eui for d in config.of_type(DeviceType.PPMID)}
    assert ppmids and set(joins.joined(tx, LogType.PPMID)) == ppmids
    for eui in ppmids:
        entry = json.loads(tx.get(joins.PREFIX + eui.hex()) or b"")
        assert entry["method"] == JoinMethodAndRole.METHOD_A_INITIATOR


def test_the_gsme_log_makes_the_ppmid_a_han_party(
    premises: tuple[PremisesConfig, Pki],
) -> None:
    config, pki = premises
    writes = _writes(config, pki, DeviceType.GSME)
    ppmid = config.of_type(DeviceType.PPMID)[0].eui
    entry = json.loads(writes[joins.PREFIX + ppmid.hex()])
    assert entry["type"] == LogType.PPMID and entry["method"] == JoinMethodAndRole.METHOD_C
    parties = gas_joins.han_parties(writes)
    assert set(parties) == {ppmid}
    ka = pki.keystore.ka_public(bytes(ppmid))
    assert ka is not None
    assert parties[ppmid].ka_point == public_point(ka)
