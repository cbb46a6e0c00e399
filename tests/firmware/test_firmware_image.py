"""Firmware images on the ESME: receipt and verification, CS06 activation, the version."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.errors import DecodeError
from smemu.firmware import firmware_image as fw
from smemu.firmware.common.machine import BootEvent, DeviceType, TimerEvent, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.firmware.esme import EsmeMachine
from smemu.protocols.asn1 import ActivateFirmwareAlert, ActivateFirmwareCommand
from smemu.protocols.asn1.firmware import ActivateFirmwareResponse, ActivationResponseCode
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.data import LongUnsigned, OctetString
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.security.keys import PrivateKey, private_key_from_scalar, public_point
from tests.firmware._asn1 import HOUR, answer, messages, send
from tests.firmware._support import ESME, T0, make_pki

MANUFACTURER: PrivateKey = private_key_from_scalar(0x1234567)
OTHER_KEY: PrivateKey = private_key_from_scalar(0x7654321)
NEW_VERSION = bytes.fromhex("0123ABCF")
GOOD = fw.build_image(0x0102, NEW_VERSION, b"program " * 64, MANUFACTURER)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _esme(pki: Pki, extra: dict[str, bytes] | None = None) -> EsmeMachine:
    nvm = {
        **pki.provisioning(ESME),
        **fw.manufacturer_writes(public_point(MANUFACTURER.public_key()), 0x0102),
        **(extra or {}),
    }
    machine = MACHINES[DeviceType.ESME](ESME, nvm)
    machine.step(BootEvent(), T0)
    assert isinstance(machine, EsmeMachine)
    return machine


def _receive(machine: EsmeMachine, image: bytes) -> tuple[Tx, bytes | None]:
    tx = Tx(T0, machine.nvm)
    return tx, fw.receive_image(tx, machine.credentials, image)


def _receipt(pki: Pki, alert: bytes | None) -> tuple[int, bytes]:
    assert alert is not None
    located = frame.locate(alert)
    assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.message_code == fw.RECEIPT_ALERT
    body = apdu.decode_exact(inner.payload)
    assert isinstance(body, apdu.DataNotificationMessage)
    code, _, digest = body.body.items  # type: ignore[union-attr]
    assert isinstance(code, LongUnsigned) and isinstance(digest, OctetString)
    return code.value, digest.value


def test_image_round_trip_and_hash() -> None:
    image = fw.FirmwareImage.decode(GOOD)
    assert image.version == NEW_VERSION and image.manufacturer_id == 0x0102
    assert image.image_hash == hashlib.sha256(GOOD[:-64]).digest()


def test_good_image_is_stored_and_acknowledged(pki: Pki) -> None:
    esme = _esme(pki)
    tx, alert = _receive(esme, GOOD)
    assert tx.writes[fw.PENDING_IMAGE] == GOOD
    assert _receipt(pki, alert) == (fw.ALERT_VERIFIED, fw.FirmwareImage.decode(GOOD).image_hash)


def _tampered() -> list[bytes]:
    body_flip = bytearray(GOOD)
    body_flip[60] ^= 1
    sig_flip = bytearray(GOOD)
    sig_flip[-1] ^= 1
    return [
        bytes(body_flip),
        bytes(sig_flip),
        fw.build_image(0x0102, NEW_VERSION, b"evil", OTHER_KEY),
        fw.build_image(0x0999, NEW_VERSION, b"other maker", MANUFACTURER),
        GOOD[:-1],
    ]


@pytest.mark.parametrize("image", _tampered())
def test_bad_image_is_refused_and_never_replaces_a_good_one(pki: Pki, image: bytes) -> None:
    esme = _esme(pki, {fw.PENDING_IMAGE: GOOD})
    tx, alert = _receive(esme, image)
    assert fw.PENDING_IMAGE not in tx.writes
    assert set(tx.writes) <= {"alert/counter"}
    code, _ = _receipt(pki, alert)
    assert code == fw.ALERT_VERIFICATION_FAILED


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_are_decode_errors_or_unverified(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        fw.FirmwareImage.decode(data)
    tx = Tx(T0, fw.manufacturer_writes(public_point(MANUFACTURER.public_key())))
    assert fw.verify_image(tx, data) is None


def _activate(h: bytes, at: object = None) -> ActivateFirmwareCommand:
    return ActivateFirmwareCommand(h, 500, at)  # type: ignore[arg-type]


def test_cs06_activates_the_held_image_now(pki: Pki) -> None:
    esme = _esme(pki, {fw.PENDING_IMAGE: GOOD})
    step = send(esme, pki, fw.CS06, 500, _activate(fw.FirmwareImage.decode(GOOD).image_hash))
    inner, payload = answer(step, pki.keystore)
    assert inner.signature and inner.header.date_time is not None
    assert isinstance(payload, ActivateFirmwareResponse)
    assert payload.execution_outcome is not None
    assert payload.execution_outcome.response_code is ActivationResponseCode.SUCCESS
    assert payload.execution_outcome.firmware_version == NEW_VERSION
    assert esme.nvm[fw.FIRMWARE_VERSION] == NEW_VERSION
    assert fw.PENDING_IMAGE not in esme.nvm


@pytest.mark.parametrize(
    ("held", "expected"),
    [(True, ActivationResponseCode.HASH_MISMATCH), (False, ActivationResponseCode.NO_IMAGE_HELD)],
)
def test_cs06_refusals_keep_the_running_version(
    pki: Pki, held: bool, expected: ActivationResponseCode
) -> None:
    esme = _esme(pki, {fw.PENDING_IMAGE: GOOD} if held else {})
    before = esme.nvm[fw.FIRMWARE_VERSION]
    step = send(esme, pki, fw.CS06, 500, _activate(bytes(32)))
    _, payload = answer(step, pki.keystore)
    assert isinstance(payload, ActivateFirmwareResponse) and payload.execution_outcome
    assert payload.execution_outcome.response_code is expected
    assert payload.execution_outcome.firmware_version == before
    assert esme.nvm[fw.FIRMWARE_VERSION] == before


def test_cs06_future_dated_runs_at_its_time_and_alerts(pki: Pki) -> None:
    esme = _esme(pki, {fw.PENDING_IMAGE: GOOD})
    h = fw.FirmwareImage.decode(GOOD).image_hash
    step = send(esme, pki, fw.CS06, 500, _activate(h, T0 + HOUR))
    _, payload = answer(step, pki.keystore)
    assert payload == ActivateFirmwareResponse()
    assert esme.nvm[fw.FIRMWARE_VERSION] != NEW_VERSION
    fired = esme.step(TimerEvent("future"), T0 + HOUR)
    [alert] = messages(fired)
    assert alert.message_code == fw.ACTIVATION_ALERT and alert.signature
    typed = ActivateFirmwareAlert.decode_exact(alert.payload)
    assert typed.alert_code == 0x8F66 and typed.originator_counter == 500
    assert typed.execution_outcome.firmware_version == NEW_VERSION
    assert esme.nvm[fw.FIRMWARE_VERSION] == NEW_VERSION


def test_cs06_future_dated_failure_alerts_8f67_and_changes_nothing(pki: Pki) -> None:
    esme = _esme(pki, {fw.PENDING_IMAGE: GOOD})
    send(esme, pki, fw.CS06, 500, _activate(bytes(32), T0 + HOUR))
    before = esme.nvm[fw.FIRMWARE_VERSION]
    [alert] = messages(esme.step(TimerEvent("future"), T0 + HOUR))
    typed = ActivateFirmwareAlert.decode_exact(alert.payload)
    assert typed.alert_code == 0x8F67
    assert typed.execution_outcome.response_code is ActivationResponseCode.HASH_MISMATCH
    assert esme.nvm[fw.FIRMWARE_VERSION] == before
    assert esme.nvm[fw.PENDING_IMAGE] == GOOD


def test_cs06_cancel_removes_the_pending_activation(pki: Pki) -> None:
    esme = _esme(pki, {fw.PENDING_IMAGE: GOOD})
    h = fw.FirmwareImage.decode(GOOD).image_hash
    send(esme, pki, fw.CS06, 500, _activate(h, T0 + HOUR))
    step = send(esme, pki, fw.CS06, 501, _activate(h, fw.CANCEL_TIME))
    _, payload = answer(step, pki.keystore)
    assert payload == ActivateFirmwareResponse()
    assert not [k for k in esme.nvm if k.startswith("future/")]


def test_on_image_sends_the_receipt_on_the_uplink(pki: Pki) -> None:
    esme = _esme(pki)
    tx = Tx(T0, esme.nvm)
    fw.on_image(esme, tx, GOOD)
    [sent] = tx.sends
    assert sent.port == esme.UPLINK and tx.writes[fw.PENDING_IMAGE] == GOOD
