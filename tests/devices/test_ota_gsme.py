"""CS05b to the sleeping GSME: the image arrives over a few wakes, CS06 runs it (issue 7)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.premises import Premises
from smemu.firmware import chf_delivery, chf_firmware, chf_ota, gsme, gsme_firmware, ota_client
from smemu.firmware import firmware_image as fw
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
from smemu.hil.commands_han import gbz_firmware_version
from smemu.hil.headend import HeadEnd
from smemu.protocols import zigbee
from smemu.protocols.asn1 import ActivateFirmwareCommand, decode_typed
from smemu.protocols.asn1.firmware import (
    ActivateFirmwareResponse,
    ActivationResponseCode,
    FirmwareTransferResponseCode,
)
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.zigbee import gbz, ota
from smemu.protocols.zigbee.typed import FirmwareHashAlert
from tests.devices.test_chf_distribution import (
    IMAGE,
    VERSION,
    _ccs08,
    _codes,
    _head_end,
    _run,
    _signed,
    _trust_manufacturer,
)

pytestmark = pytest.mark.timeout(90)

#: the GSME's own schedule: every 30 minutes
WAKE = timedelta(seconds=gsme.DEFAULT_WAKE_S)
PER_WAKE = 3
BLOCKS = -(-len(IMAGE) // ota_client.BLOCK)


def _set_wakes(p: Premises) -> None:
    """At most :data:`PER_WAKE` blocks a wake (NVM, as provisioning), on the default wakes."""
    meter = p.device(DeviceType.GSME)
    meter.machine.nvm[gsme_firmware.BLOCKS_PER_WAKE] = PER_WAKE.to_bytes(8, "big")


def _blocks_by_wake(p: Premises) -> list[list[int]]:
    """Offsets of the Image Blocks the hub sent the GSME, grouped by the query opening each."""
    meter = p.device(DeviceType.GSME).eui
    wakes: list[list[int]] = []

    def sniff(port: str, source: Eui64, to: Eui64, data: bytes) -> None:
        if port != "ota":
            return
        if source == meter:
            command = ota.decode_exact(data[8:]).command
            if isinstance(command, ota.QueryNextImageRequest):
                wakes.append([])
        elif to == meter:
            command = ota.decode_exact(data).command
            if isinstance(command, ota.ImageBlock) and wakes:
                wakes[-1].append(command.file_offset)

    p.zse.sniffers.append(sniff)
    return wakes


def _cs06(head_end: HeadEnd, target: Eui64, image_hash: bytes) -> bytes:
    supplier = head_end.party(Role.SUPPLIER)
    counter = head_end.counters.next(supplier, target)
    header = GroupingHeader(Cra.COMMAND, counter, supplier, target, None, OtherInformation(fw.CS06))
    payload = ActivateFirmwareCommand(image_hash, counter).encode()
    message = GeneralSigningMessage(header, payload, None)
    return head_end.submit(message, use_case="CS06", sign=True).data


def test_the_gsme_takes_its_image_over_several_wakes_and_cs06_runs_it(tmp_path: Path) -> None:
    _trust_manufacturer(tmp_path, DeviceType.GSME)

    async def body(p: Premises, out: list[bytes]) -> None:
        meter = p.device(DeviceType.GSME)
        _set_wakes(p)
        wakes = _blocks_by_wake(p)
        first = timedelta(seconds=gsme.DEFAULT_WAKE_S)
        await p.advance(first + timedelta(seconds=30))  # the new schedule takes over
        assert meter.machine.state.value == "asleep"
        wakes.clear()
        p.chf.message("ota", chf_firmware.envelope(meter.eui, IMAGE))
        await p.settle()
        # asleep: the offer waits at the hub, nothing reached the meter
        assert chf_ota.offer_of_nvm(p.chf.machine.nvm, meter.eui) is not None
        assert ota_client.download_of(meter.machine.nvm) is None
        await p.advance(WAKE * (-(-BLOCKS // PER_WAKE) + 1))
        # each wake took at most PER_WAKE blocks, resuming where the last one stopped
        taken = [w for w in wakes if w]
        assert len(taken) >= 3
        assert all(len(w) <= PER_WAKE for w in taken)
        flat = [o for w in taken for o in w]
        assert flat == list(range(0, len(IMAGE), ota_client.BLOCK))
        # spread over more than a mains-powered device's window: the GSME's own applies
        assert WAKE * (len(taken) - 1) > chf_delivery.TRANSFER_WINDOW
        assert meter.machine.nvm[fw.PENDING_IMAGE] == IMAGE
        assert ota_client.download_of(meter.machine.nvm) is None
        # the GBZ receipt (0x00CF, 8F72 with the calculated hash) went up; the hub said success
        [receipt] = [_signed(d) for d in out if _codes([d]) == [gsme_firmware.RECEIPT_ALERT]]
        assert receipt.signature is not None
        alert = gbz.decode_exact(receipt.payload, alert=True).alert
        assert alert is not None and alert.alert_code == fw.ALERT_VERIFIED
        detail = FirmwareHashAlert.decode_exact(alert.data)
        assert detail.image_hash == fw.FirmwareImage.decode(IMAGE).image_hash
        [ccs08] = _ccs08(out)
        assert (ccs08.entity_id, ccs08.firmware_version) == (meter.eui, VERSION)
        assert ccs08.response_code is FirmwareTransferResponseCode.SUCCESS
        assert chf_delivery.pending_of(p.chf.machine.nvm) == []
        # CS06 (ASN.1) waits at the GPF for the next wake and activates the image
        head_end = _head_end(p)
        out.clear()
        image_hash = fw.FirmwareImage.decode(IMAGE).image_hash
        p.inject_wan(_cs06(head_end, meter.eui, image_hash))
        await p.advance(WAKE + timedelta(seconds=30))
        [response] = [r for raw in out for r in head_end.accept(raw)]
        assert response.verified
        typed = decode_typed(_signed(response.data).payload, message_code=fw.CS06, cra=Cra.RESPONSE)
        assert isinstance(typed, ActivateFirmwareResponse) and typed.execution_outcome
        assert typed.execution_outcome.response_code is ActivationResponseCode.SUCCESS
        assert typed.execution_outcome.firmware_version == VERSION
        assert meter.machine.nvm[fw.FIRMWARE_VERSION] == VERSION
        # GCS38 to the GSME reports the version now running
        out.clear()
        p.inject_wan(head_end.build("GCS38", meter.eui).data)
        await p.advance(WAKE + timedelta(seconds=30))
        [read] = [r for raw in out for r in head_end.accept(raw)]
        payload = zigbee.decode_typed(_signed(read.data).payload, alert=False)
        assert gbz_firmware_version(payload) == VERSION
        # and GCS38 to the GPF ("GPF (primary)") answers it from the wake's mirror refresh
        out.clear()
        p.inject_wan(head_end.build("GCS38", p.device(DeviceType.GPF).eui).data)
        await p.settle()
        [read] = [r for raw in out for r in head_end.accept(raw)]
        payload = zigbee.decode_typed(_signed(read.data).payload, alert=False)
        assert gbz_firmware_version(payload) == VERSION

    _run(tmp_path, "ota-gsme", body)


def test_a_gsme_silent_past_its_window_gets_file_transfer_failure(tmp_path: Path) -> None:
    async def body(p: Premises, out: list[bytes]) -> None:
        meter = p.device(DeviceType.GSME)
        await p.advance(WAKE + timedelta(seconds=30))  # the boot wake and the first are done
        # out of range from now on: it next wakes after the hub's window for a GSME
        late = chf_delivery.GSME_TRANSFER_WINDOW + timedelta(days=1)
        meter.machine.nvm[gsme.WAKE_S] = int(late.total_seconds()).to_bytes(8, "big")
        await p.advance(WAKE)
        out.clear()
        p.chf.message("ota", chf_firmware.envelope(meter.eui, IMAGE))
        await p.advance(chf_delivery.GSME_TRANSFER_WINDOW - timedelta(seconds=1))
        assert _ccs08(out) == []  # days, not the hour a mains-powered device gets
        await p.advance(timedelta(seconds=2))
        [ccs08] = _ccs08(out)
        assert ccs08.entity_id == meter.eui
        assert ccs08.response_code is FirmwareTransferResponseCode.FILE_TRANSFER_FAILURE
        assert chf_ota.offer_of_nvm(p.chf.machine.nvm, meter.eui) is None
        assert chf_delivery.pending_of(p.chf.machine.nvm) == []

    _run(tmp_path, "ota-gsme-late", body)


def test_an_image_the_gsme_cannot_verify_is_reported_and_not_kept(tmp_path: Path) -> None:
    # no manufacturer key provisioned: the GSME cannot verify, sends 8F1C, keeps nothing
    async def body(p: Premises, out: list[bytes]) -> None:
        meter = p.device(DeviceType.GSME)
        p.chf.message("ota", chf_firmware.envelope(meter.eui, IMAGE))
        await p.advance(timedelta(seconds=gsme.DEFAULT_WAKE_S + 30))
        assert fw.PENDING_IMAGE not in meter.machine.nvm
        [receipt] = [_signed(d) for d in out if _codes([d]) == [gsme_firmware.RECEIPT_ALERT]]
        alert = gbz.decode_exact(receipt.payload, alert=True).alert
        assert alert is not None and alert.alert_code == fw.ALERT_VERIFICATION_FAILED

    _run(tmp_path, "ota-gsme-bad", body)


def test_the_hub_answers_an_ota_request_only_for_its_sender(tmp_path: Path) -> None:
    async def body(p: Premises, out: list[bytes]) -> None:
        meter = p.device(DeviceType.GSME)
        esme = p.device(DeviceType.ESME)
        answered: list[Eui64] = []
        p.zse.sniffers.append(
            lambda port, source, to, data: answered.append(to) if source == p.chf.eui else None
        )
        query = ota.OtaFrame(1, ota.QueryNextImageRequest(0, 0x0102, 0, 1)).encode()
        p.chf.message("ota", bytes(meter.eui) + query, esme.eui)  # the ESME posing as the GSME
        await p.settle()
        assert answered == [] and p.chf.stats["ota_spoofed"] == 1
        p.chf.message("ota", bytes(esme.eui) + query, esme.eui)
        await p.settle()
        assert answered == [esme.eui]

    _run(tmp_path, "ota-spoof", body)
