"""CS05b/c over the HAN in blocks: the hub as OTA server, the device as client (issue 7)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.premises import Premises
from smemu.firmware import chf_delivery, chf_firmware, chf_ota, ota_client
from smemu.firmware import firmware_image as fw
from smemu.firmware.common.han import MAX_TRANSFER_SIZE
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.asn1.firmware import FirmwareTransferResponseCode
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import ota
from tests.devices.test_chf_distribution import (
    IMAGE,
    VERSION,
    _ccs08,
    _codes,
    _run,
    _trust_manufacturer,
)

pytestmark = pytest.mark.timeout(60)

Seen = list[tuple[Eui64, Eui64, ota.OtaCommand]]
BLOCKS = -(-len(IMAGE) // ota_client.BLOCK)


def _sniff(p: Premises) -> Seen:
    seen: Seen = []

    def sniff(port: str, source: Eui64, to: Eui64, data: bytes) -> None:
        if port == "ota":
            frame = data if source == p.chf.eui else data[8:]
            seen.append((source, to, ota.decode_exact(frame).command))

    p.zse.sniffers.append(sniff)
    return seen


def _requested(seen: Seen) -> list[int]:
    return [c.file_offset for _, _, c in seen if isinstance(c, ota.ImageBlockRequest)]


def test_the_image_travels_in_blocks_the_device_asks_for(tmp_path: Path) -> None:
    _trust_manufacturer(tmp_path, DeviceType.ESME)

    async def body(p: Premises, out: list[bytes]) -> None:
        esme = p.device(DeviceType.ESME)
        seen = _sniff(p)
        p.chf.message("ota", chf_firmware.envelope(esme.eui, IMAGE))
        await p.settle()
        commands = [type(c) for _, _, c in seen]
        assert commands[:2] == [ota.ImageNotify, ota.QueryNextImageRequest]
        notify = seen[0][2]
        assert isinstance(notify, ota.ImageNotify)
        assert notify.file_version == int.from_bytes(VERSION, "big")
        blocks = [c for _, _, c in seen if isinstance(c, ota.ImageBlock)]
        assert len(blocks) == BLOCKS > 1
        assert all(len(b.data) <= ota_client.BLOCK for b in blocks)
        assert b"".join(b.data for b in blocks) == IMAGE
        assert _requested(seen) == [i * ota_client.BLOCK for i in range(BLOCKS)]
        assert commands[-2:] == [ota.UpgradeEndRequest, ota.UpgradeEndResponse]
        end = seen[-1][2]
        assert isinstance(end, ota.UpgradeEndResponse)
        assert end.upgrade_time == chf_ota.WAIT_FOR_COMMAND  # CS06 activates, not the hub
        # the device reassembled, verified, kept the image and sent its receipt
        assert esme.machine.nvm[fw.PENDING_IMAGE] == IMAGE
        assert ota_client.STATE not in esme.machine.nvm
        assert not [k for k in esme.machine.nvm if k.startswith(ota_client.BLOCKS)]
        assert fw.RECEIPT_ALERT in _codes(out)
        [ccs08] = _ccs08(out)
        assert ccs08.response_code is FirmwareTransferResponseCode.SUCCESS
        assert chf_ota.offer_of_nvm(p.chf.machine.nvm, esme.eui) is None

    _run(tmp_path, "ota-blocks", body)


def test_a_lost_block_is_asked_for_again(tmp_path: Path) -> None:
    _trust_manufacturer(tmp_path, DeviceType.ESME)

    async def body(p: Premises, out: list[bytes]) -> None:
        esme = p.device(DeviceType.ESME)
        seen = _sniff(p)
        lost: list[int] = []

        def lose_third_block(port: str, source: Eui64, to: Eui64, data: bytes) -> bool:
            if port != "ota" or source != p.chf.eui:
                return False
            command = ota.decode_exact(data).command
            if isinstance(command, ota.ImageBlock) and command.file_offset == 128 and not lost:
                lost.append(command.file_offset)
                return True
            return False

        p.zse.losses.append(lose_third_block)
        p.chf.message("ota", chf_firmware.envelope(esme.eui, IMAGE))
        await p.settle()
        assert lost == [128] and fw.PENDING_IMAGE not in esme.machine.nvm
        assert ota_client.download_of(esme.machine.nvm) == ota_client.Download(
            0x0102, chf_ota.IMAGE_TYPE, int.from_bytes(VERSION, "big"), len(IMAGE), 128
        )
        await p.advance(chf_ota.NUDGE + timedelta(seconds=1))
        assert _requested(seen).count(128) == 2  # the same block again, nothing before it
        assert _requested(seen)[:3] == [0, 64, 128]
        assert esme.machine.nvm[fw.PENDING_IMAGE] == IMAGE
        [ccs08] = _ccs08(out)
        assert ccs08.response_code is FirmwareTransferResponseCode.SUCCESS
        assert p.stats["zse_lost"] == 1

    _run(tmp_path, "ota-lost", body)


def test_the_download_survives_a_device_restart(tmp_path: Path) -> None:
    _trust_manufacturer(tmp_path, DeviceType.ESME)

    async def body(p: Premises, out: list[bytes]) -> None:
        esme = p.device(DeviceType.ESME)
        seen = _sniff(p)

        cut: list[int] = []

        def power_cut_at_block_4(port: str, source: Eui64, to: Eui64, data: bytes) -> bool:
            if port == "ota" and source == p.chf.eui and not cut:
                command = ota.decode_exact(data).command
                if isinstance(command, ota.ImageBlock) and command.file_offset == 192:
                    cut.append(192)
                    esme.line("power", False)
                    return True
            return False

        p.zse.losses.append(power_cut_at_block_4)
        p.chf.message("ota", chf_firmware.envelope(esme.eui, IMAGE))
        await p.settle()
        await p.advance(chf_ota.NUDGE * 3)  # nudges while unpowered are lost
        assert not esme.powered and fw.PENDING_IMAGE not in esme.machine.nvm
        held = ota_client.download_of(esme.machine.nvm)
        assert held is not None and held.received == 192
        before = len(_requested(seen))
        esme.line("power", True)
        await p.advance(chf_ota.NUDGE + timedelta(seconds=1))
        after = _requested(seen)[before:]
        assert after[0] == 192  # resumed from NVM, not from the start
        assert after == list(range(192, len(IMAGE), ota_client.BLOCK))
        assert esme.machine.nvm[fw.PENDING_IMAGE] == IMAGE
        [ccs08] = _ccs08(out)
        assert ccs08.response_code is FirmwareTransferResponseCode.SUCCESS
        assert chf_delivery.pending_of(p.chf.machine.nvm) == []

    _run(tmp_path, "ota-restart", body)


def test_a_device_asking_with_nothing_on_offer_is_told_so(tmp_path: Path) -> None:
    async def body(p: Premises, out: list[bytes]) -> None:
        esme = p.device(DeviceType.ESME)
        seen = _sniff(p)
        query = ota.OtaFrame(1, ota.QueryNextImageRequest(0, 0x0102, 0, 1))
        p.chf.message("ota", bytes(esme.eui) + query.encode(), esme.eui)
        block = ota.OtaFrame(2, ota.ImageBlockRequest(0, 0x0102, 0, 1, 0, 64))
        p.chf.message("ota", bytes(esme.eui) + block.encode(), esme.eui)
        await p.settle()
        answers = [c for s, _, c in seen if s == p.chf.eui]
        assert answers == [
            ota.QueryNextImageResponse(ota.OtaStatus.NO_IMAGE_AVAILABLE),
            ota.ImageBlockAbort(ota.OtaStatus.ABORT),
        ]
        assert _ccs08(out) == []

    _run(tmp_path, "ota-nothing", body)


def test_an_image_whose_version_is_not_four_octets_is_discarded(tmp_path: Path) -> None:
    from smemu.protocols.security.keys import private_key_from_scalar

    odd = fw.build_image(0x0102, b"\x01\x02\x03", b"x" * 100, private_key_from_scalar(7))

    async def body(p: Premises, out: list[bytes]) -> None:
        esme = p.device(DeviceType.ESME)
        p.chf.message("ota", chf_firmware.envelope(esme.eui, odd))
        await p.settle()
        [ccs08] = _ccs08(out)
        assert ccs08.response_code is FirmwareTransferResponseCode.IMAGE_DISCARDED
        assert MAX_TRANSFER_SIZE > ota.BLOCK_OVERHEAD

    _run(tmp_path, "ota-odd", body)
