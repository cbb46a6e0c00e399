"""The CHF's waits: which answer settles which forwarded command or image, and the timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smemu.firmware import chf_delivery as cd
from smemu.firmware.common.machine import Tx
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.types import Cra, Eui64

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
