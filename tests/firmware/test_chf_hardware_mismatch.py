"""CCS08 hardwareVersionMismatch: an image whose OTA header excludes the target's hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from smemu.firmware import chf_delivery, chf_firmware, chf_ota
from smemu.firmware import firmware_image as fw
from smemu.firmware.chf import join_writes
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Step
from smemu.firmware.common.registry import MACHINES
from smemu.protocols.asn1 import FirmwareTransferAlert, decode_typed
from smemu.protocols.asn1.firmware import FirmwareTransferResponseCode
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keys import private_key_from_scalar
from smemu.protocols.zigbee import ota, ota_file

from ._support import ESME, T0, make_pki

CHF = Eui64.parse("00-DB-12-34-56-78-90-C0")
GPF = Eui64.parse("00-DB-12-34-56-78-90-C1")
VERSION = bytes.fromhex("02030405")
MAKER = 0x0102
IMAGE = fw.build_image(MAKER, VERSION, b"program " * 30, private_key_from_scalar(0x5EED))
RANGE = (0x0010, 0x0020)


def _file(hardware: tuple[int, int] | None) -> bytes:
    header = ota_file.OtaFileHeader(
        MAKER, chf_ota.IMAGE_TYPE, 0x02030405, 0, hardware_versions=hardware
    )
    return ota_file.build(header, IMAGE)


def _hub(tmp_path: Path) -> CommandMachine:
    pki = make_pki(tmp_path, {CHF: DeviceType.CHF, ESME: DeviceType.ESME})
    nvm = {**pki.provisioning(CHF), **join_writes({ESME: "esme"}, GPF, None)}
    machine = MACHINES[DeviceType.CHF](CHF, nvm)
    machine.step(BootEvent(), T0)
    return machine


def _ota_answers(step: Step) -> list[ota.OtaCommand]:
    return [ota.decode_exact(s.data).command for s in step.sends if s.port == "ota"]


def _ccs08(step: Step) -> list[FirmwareTransferAlert]:
    found = []
    for sent in step.sends:
        if sent.port != "wan":
            continue
        inner = frame.signing_message(frame.locate(sent.data).message)
        assert inner is not None
        if inner.header.other_information.message_code == chf_delivery.CCS08:
            alert = decode_typed(inner.payload, message_code=chf_delivery.CCS08, cra=Cra.ALERT)
            assert isinstance(alert, FirmwareTransferAlert)
            found.append(alert)
    return found


def _query(hardware: int | None) -> bytes:
    control = ota.FC_HARDWARE_VERSION if hardware is not None else 0
    request = ota.QueryNextImageRequest(control, MAKER, chf_ota.IMAGE_TYPE, 0x01000000, hardware)
    return bytes(ESME) + ota.OtaFrame(1, request).encode()


def _block_request() -> bytes:
    request = ota.ImageBlockRequest(0, MAKER, chf_ota.IMAGE_TYPE, 0x02030405, 0, 64)
    return bytes(ESME) + ota.OtaFrame(2, request).encode()


def test_hardware_outside_the_header_range_is_ccs08_mismatch_and_no_block(tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    offered = hub.step(MessageEvent("ota", chf_firmware.envelope(ESME, _file(RANGE))), T0)
    assert [type(c) for c in _ota_answers(offered)] == [ota.ImageNotify]
    assert _ccs08(offered) == []
    assert chf_ota.offer_of_nvm(hub.nvm, ESME) is not None

    asked = hub.step(MessageEvent("ota", _query(0x0030), ESME), T0)
    [answer] = _ota_answers(asked)
    assert isinstance(answer, ota.QueryNextImageResponse)
    assert answer.status == ota.OtaStatus.NO_IMAGE_AVAILABLE
    [alert] = _ccs08(asked)
    assert alert.response_code is FirmwareTransferResponseCode.HARDWARE_VERSION_MISMATCH
    assert (bytes(alert.entity_id), alert.firmware_version) == (bytes(ESME), VERSION)
    # the offer is withdrawn and the receipt no longer awaited: no later fileTransferFailure
    assert chf_ota.offer_of_nvm(hub.nvm, ESME) is None
    assert chf_delivery.pending_of(hub.nvm) == []
    blocked = hub.step(MessageEvent("ota", _block_request(), ESME), T0)
    assert [type(c) for c in _ota_answers(blocked)] == [ota.ImageBlockAbort]


@pytest.mark.parametrize(
    ("hardware", "asked"),
    [(RANGE, 0x0010), (RANGE, 0x0020), (RANGE, None), (None, 0x0030)],
)
def test_a_fitting_or_unstated_hardware_version_gets_the_image(
    tmp_path: Path, hardware: tuple[int, int] | None, asked: int | None
) -> None:
    hub = _hub(tmp_path)
    hub.step(MessageEvent("ota", chf_firmware.envelope(ESME, _file(hardware))), T0)
    step = hub.step(MessageEvent("ota", _query(asked), ESME), T0)
    [answer] = _ota_answers(step)
    assert isinstance(answer, ota.QueryNextImageResponse)
    assert answer.status == ota.OtaStatus.SUCCESS and answer.image_size == len(IMAGE)
    assert _ccs08(step) == []
    [block] = _ota_answers(hub.step(MessageEvent("ota", _block_request(), ESME), T0))
    assert isinstance(block, ota.ImageBlock) and block.data == IMAGE[:64]
    assert len(chf_delivery.pending_of(hub.nvm)) == 1


def test_a_corrupt_ota_file_is_discarded(tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    broken = _file(RANGE)[:-1]  # total size disagrees
    step = hub.step(MessageEvent("ota", chf_firmware.envelope(ESME, broken)), T0)
    [alert] = _ccs08(step)
    assert alert.response_code is FirmwareTransferResponseCode.IMAGE_DISCARDED
