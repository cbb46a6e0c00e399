"""``smemu keys`` as a user runs it: a PKI with the manufacturer, used by ``smemu up``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from smemu.devices.config import load_config
from smemu.devices.keys import MANUFACTURER_EUI, load_pki, manufacturer_key
from smemu.devices.premises import KEYSTORE_DIR, Premises
from smemu.firmware import firmware_image as fw
from smemu.firmware.common.machine import DeviceType, Tx
from smemu.protocols.security.keys import public_point
from smemu.tools.cli import main


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_keys_init_writes_and_shows_the_manufacturer(tmp_path: Path) -> None:
    code, out = _run("keys", "init", str(tmp_path / "k"), "--seed", "cli")
    assert code == 0, out
    assert "manufacturer" in out and str(MANUFACTURER_EUI) in out
    pki = load_pki(tmp_path / "k")
    assert pki.manufacturer_point() == public_point(manufacturer_key(b"cli"))
    code, shown = _run("keys", "show", str(tmp_path / "k"))
    assert code == 0 and str(MANUFACTURER_EUI) in shown


def test_a_premises_on_a_keys_init_pki_verifies_its_manufacturers_images(
    tmp_path: Path,
) -> None:
    """``smemu keys init STATE/keystore`` then ``smemu up --state STATE``: the meters and
    the PPMID take images signed with that PKI's manufacturer key (a random one here)."""
    state = tmp_path / "state"
    code, out = _run("keys", "init", str(state / KEYSTORE_DIR))
    assert code == 0, out
    signer = load_pki(state / KEYSTORE_DIR).manufacturer_key()
    assert signer is not None
    image = fw.build_image(0x0102, b"\x09\x09", b"from the keys init manufacturer", signer)
    foreign = fw.build_image(0x0102, b"\x09\x09", b"someone else", manufacturer_key(b"x"))

    async def trusted() -> dict[DeviceType, tuple[bool, bool]]:
        config = load_config(None)
        async with Premises(config, state, wan="virtual://keys-cli", speed=0.0) as p:
            out = {}
            for kind in (DeviceType.ESME, DeviceType.GSME, DeviceType.PPMID):
                tx = Tx(p.clock.now(), p.device(kind).machine.nvm)
                out[kind] = (
                    fw.verify_image(tx, image) is not None,
                    fw.verify_image(tx, foreign) is not None,
                )
            return out

    assert set(asyncio.run(trusted()).values()) == {(True, False)}
