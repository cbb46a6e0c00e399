"""PPMID firmware images (CS05c): verify, activate at once, CS09 to the ACB; CS06 is not its."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.firmware import firmware_image as fw
from smemu.firmware import ppmid_firmware
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Step
from smemu.firmware.ppmid import OTA_PORT, PpmidMachine
from smemu.protocols.asn1 import ActivateFirmwareCommand, decode_typed
from smemu.protocols.asn1.firmware import ActivateImageResponse, FirmwareActivationAlert
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keys import private_key_from_scalar, public_point

from ._support import T0, command, make_pki

PPMID = Eui64.parse("00-DB-12-34-56-78-90-A4")
MANUFACTURER = private_key_from_scalar(0xF1A5)
NEW = bytes.fromhex("04050607")
IMAGE = fw.build_image(0x0102, NEW, b"display program " * 20, MANUFACTURER)
BOOT_VERSION = bytes.fromhex("03000000")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder: Path = tmp_path_factory.mktemp("pki") / "keys"
    return make_pki(folder, {PPMID: DeviceType.PPMID})


def _ppmid(pki: Pki, trusted: bool = True) -> PpmidMachine:
    nvm = dict(pki.provisioning(PPMID))
    if trusted:
        nvm.update(fw.manufacturer_writes(public_point(MANUFACTURER), 0x0102))
    m = PpmidMachine(PPMID, nvm)
    m.step(BootEvent(), T0)
    return m


def _signed(step: Step, pki: Pki) -> list[GeneralSigningMessage]:
    out = []
    for sent in step.sends:
        located = frame.locate(decode_han(sent.data).message)
        assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
        inner = frame.signing_message(located.message)
        assert inner is not None
        out.append(inner)
    return out


def _cs09(step: Step, pki: Pki) -> FirmwareActivationAlert:
    [alert] = _signed(step, pki)
    assert alert.header.cra is Cra.ALERT and alert.header.message_code == ppmid_firmware.CS09
    assert alert.header.recipient == pki.remote_parties[Role.ACCESS_CONTROL_BROKER]
    payload = decode_typed(alert.payload, message_code=ppmid_firmware.CS09, cra=int(Cra.ALERT))
    assert isinstance(payload, FirmwareActivationAlert)
    assert int(payload.alert_code) == ppmid_firmware.ALERT_FIRMWARE_ACTIVATION
    return payload


def test_a_good_image_runs_at_once_and_cs09_says_so(pki: Pki) -> None:
    m = _ppmid(pki)
    alert = _cs09(m.step(MessageEvent(OTA_PORT, IMAGE), T0), pki)
    assert alert.activate_image_response is ActivateImageResponse.SUCCESS
    assert alert.firmware_version == NEW
    assert m.nvm[fw.FIRMWARE_VERSION] == NEW  # what CS08 now reads
    assert m.nvm[fw.ACTIVE_HASH] == fw.FirmwareImage.decode(IMAGE).image_hash
    assert fw.PENDING_IMAGE not in m.nvm


def _bad_images() -> list[bytes]:
    other = fw.build_image(0x0102, NEW, b"x" * 40, private_key_from_scalar(0xBAD))
    wrong_maker = fw.build_image(0x0999, NEW, b"x" * 40, MANUFACTURER)
    flipped = bytearray(IMAGE)
    flipped[60] ^= 1
    return [other, wrong_maker, bytes(flipped), b"not an image"]


@pytest.mark.parametrize("image", _bad_images())
def test_a_bad_image_changes_nothing_and_cs09_reports_failure(pki: Pki, image: bytes) -> None:
    m = _ppmid(pki)
    alert = _cs09(m.step(MessageEvent(OTA_PORT, image), T0), pki)
    assert alert.activate_image_response is ActivateImageResponse.FAILURE
    assert alert.firmware_version == BOOT_VERSION
    assert m.nvm[fw.FIRMWARE_VERSION] == BOOT_VERSION
    assert fw.PENDING_IMAGE not in m.nvm and fw.ACTIVE_HASH not in m.nvm


def test_without_a_manufacturer_key_no_image_is_trusted(pki: Pki) -> None:
    m = _ppmid(pki, trusted=False)
    alert = _cs09(m.step(MessageEvent(OTA_PORT, IMAGE), T0), pki)
    assert alert.activate_image_response is ActivateImageResponse.FAILURE
    assert m.nvm[fw.FIRMWARE_VERSION] == BOOT_VERSION


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_random_ota_bytes_never_change_the_version(pki: Pki, data: bytes) -> None:
    m = _ppmid(pki)
    alert = _cs09(m.step(MessageEvent(OTA_PORT, data), T0), pki)
    assert alert.activate_image_response is ActivateImageResponse.FAILURE
    assert m.nvm[fw.FIRMWARE_VERSION] == BOOT_VERSION


def test_cs06_is_not_a_ppmid_use_case(pki: Pki) -> None:
    m = _ppmid(pki)
    image_hash = fw.FirmwareImage.decode(IMAGE).image_hash
    data = command(pki, PPMID, fw.CS06, 1000, ActivateFirmwareCommand(image_hash, 1000).encode(),
                   sign=True)  # fmt: skip
    step = m.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0)
    [answer] = _signed(step, pki)
    assert answer.header.cra is Cra.ALERT  # "command not supported", no activation response
    assert m.nvm[fw.FIRMWARE_VERSION] == BOOT_VERSION
