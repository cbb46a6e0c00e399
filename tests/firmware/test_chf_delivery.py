"""The CHF's waits: which answer settles which forwarded command or image, and the timer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from smemu.firmware import chf_delivery as cd
from smemu.firmware import chf_log, chf_ota
from smemu.firmware import firmware_image as fw
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keys import private_key_from_scalar

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ESME = Eui64(bytes.fromhex("00DB1234567890A0"))
SUPPLIER = Eui64(bytes.fromhex("90B3D51F30010000"))


def _message(cra: Cra, counter: int, originator: Eui64, recipient: Eui64, code: int) -> bytes:
    header = GroupingHeader(cra, counter, originator, recipient, None, OtherInformation(code))
    return GeneralSigningMessage(header, b"\x00", None).encode()


def _tx(nvm: dict[str, bytes], at: datetime) -> Tx:
    return Tx(at, nvm)


def _commit(nvm: dict[str, bytes], tx: Tx) -> None:
    for key, value in tx.writes.items():
        if value is None:
            nvm.pop(key, None)
        else:
            nvm[key] = value


def test_only_the_matching_response_settles_a_command() -> None:
    nvm: dict[str, bytes] = {}
    tx = _tx(nvm, T0)
    assert cd.track_command(tx, ESME, _message(Cra.COMMAND, 7, SUPPLIER, ESME, 0x0045))
    assert not cd.track_command(tx, ESME, _message(Cra.RESPONSE, 8, SUPPLIER, ESME, 0x0045))
    assert tx.timers[-1].at == T0 + cd.COMMAND_WINDOW
    _commit(nvm, tx)
    tx = _tx(nvm, T0 + timedelta(seconds=1))
    # another counter, or the right counter from someone else: still waiting
    assert cd.answered(tx, ESME, _message(Cra.RESPONSE, 6, ESME, SUPPLIER, 0x0045)) == []
    assert cd.answered(tx, SUPPLIER, _message(Cra.RESPONSE, 7, SUPPLIER, ESME, 0x0045)) == []
    [done] = cd.answered(tx, ESME, _message(Cra.RESPONSE, 7, ESME, SUPPLIER, 0x0045))
    assert (done.kind, done.counter) == (cd.COMMAND, 7)
    assert cd.pending(tx) == [] and tx.timers[-1].at is None


def test_due_items_leave_and_the_timer_moves_to_the_next() -> None:
    nvm: dict[str, bytes] = {}
    tx = _tx(nvm, T0)
    cd.track_command(tx, ESME, _message(Cra.COMMAND, 1, SUPPLIER, ESME, 0x0045))
    cd.track_image(tx, ESME, b"\x01\x02")
    _commit(nvm, tx)
    tx = _tx(nvm, T0 + cd.COMMAND_WINDOW)
    [late] = cd.take_due(tx)
    assert late.kind == cd.COMMAND
    assert cd.not_delivered_detail(late) == (
        bytes(SUPPLIER) + bytes(ESME) + bytes((Cra.COMMAND,)) + (1).to_bytes(8, "big")
    )
    assert tx.timers[-1].at == T0 + cd.TRANSFER_WINDOW
    # the distribution receipt settles the image
    receipt = _message(Cra.ALERT, 9, ESME, SUPPLIER, 0x00CE)
    [image] = cd.answered(tx, ESME, receipt)
    assert (image.kind, image.version) == (cd.IMAGE, "0102")


def test_window_override_and_not_gbcs() -> None:
    nvm = {cd.COMMAND_WINDOW_KEY: (5).to_bytes(8, "big")}
    tx = _tx(nvm, T0)
    cd.track_command(tx, ESME, _message(Cra.COMMAND, 1, SUPPLIER, ESME, 0x0045))
    assert tx.timers[-1].at == T0 + timedelta(seconds=5)
    assert cd.transaction(b"\x00garbage") is None
    assert not cd.track_command(tx, ESME, b"\x00garbage")


GSME = Eui64(bytes.fromhex("00DB1234567890A1"))


def _logged(**kinds: str) -> dict[str, bytes]:
    """A CHF NVM whose device log holds ``kinds`` (EUI hex -> device type name)."""
    log = {bytes.fromhex(eui).hex(): kind for eui, kind in kinds.items()}
    return {chf_log.DEVICE_LOG: json.dumps(log).encode()}


def test_the_transfer_window_is_the_target_device_types() -> None:
    nvm = _logged(**{ESME.hex(): "esme", GSME.hex(): "gsme"})
    tx = _tx(nvm, T0)
    assert cd.transfer_window(tx, ESME) == cd.TRANSFER_WINDOW
    assert cd.transfer_window(tx, GSME) == cd.GSME_TRANSFER_WINDOW
    # sleeping every 30 minutes, a few blocks a wake: hours at least, never the hour
    assert cd.GSME_TRANSFER_WINDOW >= timedelta(days=1) > cd.TRANSFER_WINDOW
    cd.track_image(tx, GSME, b"\x01\x02\x03\x04")
    assert tx.timers[-1].at == T0 + cd.GSME_TRANSFER_WINDOW
    # the GSME paired with the GPF is a GSME even before its device log entry
    paired = _tx({chf_ota.GSME_EUI: bytes(GSME)}, T0)
    assert cd.transfer_window(paired, GSME) == cd.GSME_TRANSFER_WINDOW
    assert cd.transfer_window(paired, ESME) == cd.TRANSFER_WINDOW


def test_transfer_window_overrides_per_type_and_for_the_rest() -> None:
    nvm = _logged(**{ESME.hex(): "esme", GSME.hex(): "gsme"})
    nvm[cd.TRANSFER_WINDOW_KEY] = (600).to_bytes(8, "big")
    tx = _tx(nvm, T0)
    assert cd.transfer_window(tx, ESME) == timedelta(seconds=600)
    assert cd.transfer_window(tx, GSME) == cd.GSME_TRANSFER_WINDOW  # has its own default
    nvm[f"{cd.TRANSFER_WINDOW_KEY}/gsme"] = (86_400).to_bytes(8, "big")
    assert cd.transfer_window(_tx(nvm, T0), GSME) == timedelta(days=1)


def test_the_gsme_image_waits_its_window_without_nudges() -> None:
    nvm = {**_logged(**{GSME.hex(): "gsme"}), chf_ota.GSME_EUI: bytes(GSME)}
    image = fw.build_image(0x0102, b"\x02\x00\x00\x01", b"program", private_key_from_scalar(7))
    tx = _tx(nvm, T0)
    chf_ota.offer(tx, GSME, image, fw.FirmwareImage.decode(image))
    cd.track_image(tx, GSME, b"\x02\x00\x00\x01")
    _commit(nvm, tx)
    # the only deadline is the window's end: no Image Notify every few minutes to a radio
    # that is off
    assert tx.timers[-1].at == T0 + cd.GSME_TRANSFER_WINDOW
    tx = _tx(nvm, T0 + cd.GSME_TRANSFER_WINDOW - timedelta(seconds=1))
    assert cd.take_due(tx) == [] and tx.sends == []
    _commit(nvm, tx)
    tx = _tx(nvm, T0 + cd.GSME_TRANSFER_WINDOW)
    [late] = cd.take_due(tx)
    assert (late.kind, late.target_eui) == (cd.IMAGE, GSME)
    assert chf_ota.offer_of(tx, GSME) is None and tx.timers[-1].at is None
