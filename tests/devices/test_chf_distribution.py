"""The comms hub in a premises: firmware distribution (CS05a-c, CCS08, CS09), service 21 waits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.config import load_config
from smemu.devices.premises import Premises
from smemu.firmware import chf_delivery, chf_firmware, ppmid_firmware
from smemu.firmware import firmware_image as fw
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.machine import DeviceType
from smemu.hal.storage import Storage
from smemu.hil.headend import HeadEnd
from smemu.protocols.asn1 import (
    ActivateFirmwareCommand,
    FirmwareTransferAlert,
    decode_typed,
)
from smemu.protocols.asn1.firmware import (
    ActivateFirmwareResponse,
    ActivateImageResponse,
    ActivationResponseCode,
    FirmwareActivationAlert,
    FirmwareTransferResponseCode,
)
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.data import LongUnsigned, OctetString, Structure
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keys import private_key_from_scalar, public_point

pytestmark = pytest.mark.timeout(60)

MANUFACTURER = private_key_from_scalar(0x5EED)
VERSION = bytes.fromhex("02030405")
IMAGE = fw.build_image(0x0102, VERSION, b"new program " * 40, MANUFACTURER)


def _premises(state: Path, name: str) -> Premises:
    return Premises(load_config(None), state, wan=f"virtual://{name}", speed=0.0)


def _head_end(p: Premises) -> HeadEnd:
    assert p.pki is not None
    roles = (Role.SUPPLIER, Role.ACCESS_CONTROL_BROKER)
    return HeadEnd(p.pki.keystore, {r: p.pki.remote_parties[r] for r in roles})


def _trust_manufacturer(state: Path, *kinds: DeviceType) -> None:
    """Provision the manufacturer key (a factory step) into fresh stores of ``kinds``."""

    async def first() -> list[Path]:
        async with _premises(state, "provision") as p:
            return [p.device(k).storage.path for k in kinds]

    for path in asyncio.run(first()):
        storage = Storage.open(path)
        with storage.transaction() as tx:
            for key, value in fw.manufacturer_writes(public_point(MANUFACTURER)).items():
                tx.put(key, value)
        storage.close()


def _run(state: Path, name: str, body: Callable[[Premises, list[bytes]], Awaitable[None]]) -> None:
    async def go() -> None:
        async with _premises(state, name) as p:
            out: list[bytes] = []
            p.observers.append(lambda d, data, at: out.append(data) if d == "out" else None)
            await p.settle()
            await body(p, out)

    asyncio.run(go())


def _signed(data: bytes) -> GeneralSigningMessage:
    inner = frame.signing_message(frame.locate(data).message)
    assert inner is not None
    return inner


def _ccs08(out: list[bytes]) -> list[FirmwareTransferAlert]:
    found = []
    for data in out:
        inner = _signed(data)
        if inner.header.other_information.message_code == chf_delivery.CCS08:
            payload = decode_typed(inner.payload, message_code=chf_delivery.CCS08, cra=Cra.ALERT)
            assert isinstance(payload, FirmwareTransferAlert)
            found.append(payload)
    return found


def _codes(out: list[bytes]) -> list[int]:
    return [_signed(d).header.other_information.message_code for d in out]


def test_image_reaches_the_esme_which_verifies_and_activates_it(tmp_path: Path) -> None:
    _trust_manufacturer(tmp_path, DeviceType.ESME)

    async def body(p: Premises, out: list[bytes]) -> None:
        esme = p.device(DeviceType.ESME)
        p.chf.message("ota", chf_firmware.envelope(esme.eui, IMAGE))
        await p.settle()
        assert esme.machine.nvm[fw.PENDING_IMAGE] == IMAGE  # received and verified
        # the ESME's receipt (0x00CE, verified) went up, then the hub's CCS08 success
        assert fw.RECEIPT_ALERT in _codes(out)
        [ccs08] = _ccs08(out)
        assert (ccs08.entity_id, ccs08.firmware_version) == (esme.eui, VERSION)
        assert ccs08.response_code is FirmwareTransferResponseCode.SUCCESS
        [to_acb] = [_signed(d) for d in out if _codes([d]) == [chf_delivery.CCS08]]
        assert to_acb.header.recipient == _head_end(p).party(Role.ACCESS_CONTROL_BROKER)
        assert to_acb.signature is not None  # signed, as a critical alert
        assert chf_delivery.pending_of(p.chf.machine.nvm) == []
        # CS06 activates the distributed image
        head_end = _head_end(p)
        supplier = head_end.party(Role.SUPPLIER)
        counter = head_end.counters.next(supplier, esme.eui)
        image_hash = fw.FirmwareImage.decode(IMAGE).image_hash
        header = GroupingHeader(
            Cra.COMMAND, counter, supplier, esme.eui, None, OtherInformation(fw.CS06)
        )
        command = GeneralSigningMessage(
            header, ActivateFirmwareCommand(image_hash, counter).encode(), None
        )
        out.clear()
        p.inject_wan(head_end.submit(command, use_case="CS06", sign=True).data)
        await p.settle()
        [received] = [r for raw in out for r in head_end.accept(raw)]
        assert received.verified
        response = decode_typed(
            _signed(received.data).payload, message_code=fw.CS06, cra=Cra.RESPONSE
        )
        assert isinstance(response, ActivateFirmwareResponse)
        assert response.execution_outcome is not None
        assert response.execution_outcome.response_code is ActivationResponseCode.SUCCESS
        assert esme.machine.nvm[fw.FIRMWARE_VERSION] == VERSION

    _run(tmp_path, "fw-esme", body)


def _cs09(out: list[bytes]) -> list[FirmwareActivationAlert]:
    found = []
    for data in out:
        inner = _signed(data)
        if inner.header.other_information.message_code == ppmid_firmware.CS09:
            payload = decode_typed(inner.payload, message_code=ppmid_firmware.CS09, cra=Cra.ALERT)
            assert isinstance(payload, FirmwareActivationAlert)
            found.append(payload)
    return found


def test_image_reaches_the_ppmid_which_verifies_activates_and_alerts_cs09(
    tmp_path: Path,
) -> None:
    # CS05c: a PPMID has no CS06 and no distribution receipt; it runs a verified image at once
    # and tells the ACB by CS09 (Use Case volume, DCC mapping table: CS05c, CS09).
    _trust_manufacturer(tmp_path, DeviceType.PPMID)

    async def body(p: Premises, out: list[bytes]) -> None:
        ppmid = p.device(DeviceType.PPMID)
        p.chf.message("ota", chf_firmware.envelope(ppmid.eui, IMAGE))
        await p.settle()
        assert ppmid.machine.nvm.get(fw.FIRMWARE_VERSION) == VERSION
        assert fw.PENDING_IMAGE not in ppmid.machine.nvm
        [cs09] = _cs09(out)
        assert (cs09.firmware_version, cs09.activate_image_response) == (
            VERSION,
            ActivateImageResponse.SUCCESS,
        )
        [alert] = [_signed(d) for d in out if _codes([d]) == [ppmid_firmware.CS09]]
        assert alert.header.recipient == _head_end(p).party(Role.ACCESS_CONTROL_BROKER)

    _run(tmp_path, "fw-ppmid", body)


def test_the_hub_reports_the_ppmid_transfer_a_success(tmp_path: Path) -> None:
    _trust_manufacturer(tmp_path, DeviceType.PPMID)

    async def body(p: Premises, out: list[bytes]) -> None:
        ppmid = p.device(DeviceType.PPMID)
        p.chf.message("ota", chf_firmware.envelope(ppmid.eui, IMAGE))
        await p.advance(timedelta(hours=2))
        [ccs08] = _ccs08(out)
        assert ccs08.response_code is FirmwareTransferResponseCode.SUCCESS

    _run(tmp_path, "fw-ppmid-ccs08", body)


def test_unplugged_target_gets_file_transfer_failure(tmp_path: Path) -> None:
    async def body(p: Premises, out: list[bytes]) -> None:
        esme = p.device(DeviceType.ESME)
        esme.line("power", False)
        p.chf.message("ota", chf_firmware.envelope(esme.eui, IMAGE))
        await p.advance(chf_delivery.TRANSFER_WINDOW - timedelta(seconds=1))
        assert _ccs08(out) == []  # still inside the transfer window
        await p.advance(timedelta(seconds=2))
        [ccs08] = _ccs08(out)
        assert ccs08.response_code is FirmwareTransferResponseCode.FILE_TRANSFER_FAILURE
        assert fw.PENDING_IMAGE not in esme.machine.nvm

    _run(tmp_path, "fw-unplugged", body)


def test_image_for_an_unknown_device_or_no_image_is_discarded(tmp_path: Path) -> None:
    async def body(p: Premises, out: list[bytes]) -> None:
        stranger = Eui64(bytes.fromhex("00DB1234567890FF"))
        p.chf.message("ota", chf_firmware.envelope(stranger, IMAGE))
        esme = p.device(DeviceType.ESME)
        p.chf.message("ota", chf_firmware.envelope(esme.eui, b"not an image"))
        await p.settle()
        outcomes = [(a.entity_id, a.response_code) for a in _ccs08(out)]
        discarded = FirmwareTransferResponseCode.IMAGE_DISCARDED
        assert outcomes == [(stranger, discarded), (esme.eui, discarded)]
        assert p.stats["ota_lost"] == 0 and esme.stats["in_ota"] == 0

    _run(tmp_path, "fw-discard", body)


def test_esme_that_does_not_answer_yields_the_failure_to_deliver_alert(tmp_path: Path) -> None:
    async def body(p: Premises, out: list[bytes]) -> None:
        head_end = _head_end(p)
        esme = p.device(DeviceType.ESME)
        # answered in time: no alert, nothing left waiting
        p.inject_wan(head_end.build("ECS52", esme.eui).data)
        await p.advance(chf_delivery.COMMAND_WINDOW * 2)
        assert [r.verified for raw in out for r in head_end.accept(raw)] == [True]
        assert chf_delivery.NOT_DELIVERED_MESSAGE_CODE not in _codes(out)
        assert chf_delivery.pending_of(p.chf.machine.nvm) == []
        out.clear()
        # unplugged: the read is lost on the HAN and the hub says so after its window
        esme.line("power", False)
        sent = head_end.build("ECS52", esme.eui)
        p.inject_wan(sent.data)
        await p.advance(chf_delivery.COMMAND_WINDOW - timedelta(seconds=1))
        assert out == []
        await p.advance(timedelta(seconds=2))
        [alert] = out
        inner = _signed(alert)
        assert inner.header.cra is Cra.ALERT
        assert inner.header.other_information.message_code == 0x00D5
        assert inner.header.recipient == head_end.party(Role.ACCESS_CONTROL_BROKER)
        notification = apdu.decode_exact(inner.payload)
        assert isinstance(notification, apdu.DataNotificationMessage)
        body_ = notification.body
        assert isinstance(body_, Structure)
        code, _, detail = body_.items
        assert isinstance(code, LongUnsigned)
        assert code.value == chf_delivery.ALERT_NOT_DELIVERED
        assert isinstance(detail, OctetString)
        assert detail.value == (
            bytes(sent.originator) + bytes(esme.eui) + bytes((Cra.COMMAND,))
            + sent.counter.to_bytes(8, "big")
        )  # fmt: skip
        assert chf_delivery.pending_of(p.chf.machine.nvm) == []

    _run(tmp_path, "s21-esme", body)


def test_gsme_that_never_wakes_is_answered_by_the_gpf_not_alerted(tmp_path: Path) -> None:
    # The GPF in the hub answers for the sleeping GSME (its mirror, its queue): the hub
    # delivered the command, so no failure-to-deliver alert (GBCS defines it for the ESME).
    async def body(p: Premises, out: list[bytes]) -> None:
        head_end = _head_end(p)
        gsme = p.device(DeviceType.GSME)
        p.inject_wan(head_end.build("GCS38", gsme.eui).data)
        await p.advance(chf_delivery.COMMAND_WINDOW * 4)
        assert chf_delivery.NOT_DELIVERED_MESSAGE_CODE not in _codes(out)
        assert chf_delivery.pending_of(p.chf.machine.nvm) == []

    _run(tmp_path, "s21-gsme", body)
