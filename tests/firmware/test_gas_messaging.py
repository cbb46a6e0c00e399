"""Gas supplier messages (gas_messaging): GCS07 stored with its validity, read back, relayed by
the GPF so that the PPMID shows it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.firmware import gas_messaging as msg
from smemu.firmware import gpf, gsme, joins, ppmid
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, TimerEvent, Tx
from smemu.firmware.common.registry import MACHINES
from smemu.firmware.gas_handlers import HANDLERS, STORE
from smemu.firmware.gas_zcl import ZclRefusedError, serve
from smemu.protocols.asn1.devices import JoinMethodAndRole
from smemu.protocols.asn1.values import DeviceType as LogType
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee._fields import EPOCH_2000
from smemu.protocols.zigbee.messaging import (
    CancelAllMessages,
    CancelMessage,
    DisplayMessage,
    GetLastMessage,
)
from smemu.protocols.zigbee.registry import decode_frame
from smemu.protocols.zigbee.zcl import ZclCommand, ZclStatus

from ._support import GSME, T0, command, make_pki

GPF = Eui64.parse("00-DB-12-34-56-78-90-A2")
PPMID = Eui64.parse("00-DB-12-34-56-78-90-A3")
GCS07 = 0x0071
S2C = 0x09


def _comp(command: ZclCommand, *, fc: int = S2C) -> gbz.GbzComponent:
    return gbz.GbzComponent(
        gbz.CONTROL_LAST, 0x0703, fc, 0, type(command).COMMAND_ID, command.encode()
    )


def _serve(tx: Tx, command: ZclCommand, *, fc: int = S2C) -> gbz.GbzComponent:
    reply = serve(tx, gbz.GbzMessage((_comp(command, fc=fc),)), STORE, HANDLERS)
    [comp] = reply.components
    return comp


def _seconds(delta: timedelta) -> int:
    return int((T0 + delta - EPOCH_2000).total_seconds())


def test_gcs07_message_is_stored_and_valid_for_its_duration() -> None:
    tx = Tx(T0, {})
    reply = _serve(tx, DisplayMessage(7, 0, 0, 60, b"Price change on Monday"))
    assert (reply.command_id, reply.payload) == (0x0B, bytes((0x00, ZclStatus.SUCCESS)))
    held = msg.current(tx, T0)
    assert held is not None and held.text == b"Price change on Monday"
    assert held.starts == T0  # start 0: when it arrived
    assert msg.current(tx, T0 + timedelta(minutes=59)) is not None
    assert msg.current(tx, T0 + timedelta(minutes=60)) is None


def test_until_changed_and_a_future_start() -> None:
    tx = Tx(T0, {})
    _serve(tx, DisplayMessage(1, 0, _seconds(timedelta(hours=1)), 0xFFFF, b"Later"))
    assert msg.current(tx, T0) is None
    assert msg.current(tx, T0 + timedelta(days=400)) is not None
    _serve(tx, DisplayMessage(2, 0, 0, 0xFFFF, b"Now"))  # replaces it
    found = msg.current(tx, T0)
    assert found is not None and found.message_id == 2


def test_get_last_message_reads_it_back_and_not_found_without_one() -> None:
    tx = Tx(T0, {})
    empty = _serve(tx, GetLastMessage(), fc=0x01)
    assert empty.payload == bytes((0x00, ZclStatus.NOT_FOUND))
    _serve(tx, DisplayMessage(7, 0x00, 0, 30, b"Hello"))
    read = _serve(tx, GetLastMessage(), fc=0x01)
    assert read.command_id == 0x00 and read.frame_control & 0x08  # server-to-client
    back = DisplayMessage.decode_exact(read.payload)
    assert (back.message_id, back.duration_in_minutes, back.message) == (7, 30, b"Hello")


@pytest.mark.parametrize("text", [b"", bytes(117)])
def test_a_message_outside_1_to_116_characters_is_refused(text: bytes) -> None:
    tx = Tx(T0, {})
    reply = _serve(tx, DisplayMessage(7, 0, 0, 30, text))
    assert reply.payload == bytes((0x00, ZclStatus.INVALID_VALUE))
    assert msg.held(tx) is None


def test_cancel_message_by_id_and_cancel_all() -> None:
    tx = Tx(T0, {})
    _serve(tx, DisplayMessage(7, 0, 0, 0xFFFF, b"Hello"))
    assert _serve(tx, CancelMessage(8, 0)).payload == bytes((0x01, ZclStatus.NOT_FOUND))
    assert msg.held(tx) is not None
    assert _serve(tx, CancelMessage(7, 0)).payload == bytes((0x01, ZclStatus.SUCCESS))
    assert msg.held(tx) is None
    _serve(tx, DisplayMessage(9, 0, 0, 0xFFFF, b"Again"))
    _serve(tx, CancelAllMessages(0))
    assert msg.held(tx) is None


def _shown(frame: bytes) -> ZclCommand | None:
    return decode_frame(int.from_bytes(frame[:2], "big"), frame[2:]).command


def test_relay_sends_the_message_once_then_its_cancellation_when_it_expires() -> None:
    nvm: dict[str, bytes] = {}
    tx = Tx(T0, nvm)
    _serve(tx, DisplayMessage(7, 0, 0, 30, b"Hello"))
    first = msg.relay(tx)
    assert first is not None
    shown = _shown(first)
    assert isinstance(shown, DisplayMessage) and shown.message == b"Hello"
    assert msg.relay(tx) is None  # nothing new
    nvm.update({k: v for k, v in tx.writes.items() if v is not None})
    later = Tx(T0 + timedelta(minutes=31), nvm)
    gone = msg.relay(later)
    assert gone is not None
    cancel = _shown(gone)
    assert isinstance(cancel, CancelMessage) and cancel.message_id == 7


@given(st.binary(max_size=140), st.sampled_from([0x00, 0x01, 0x03]))
def test_random_payloads_are_refused_with_a_status_never_an_exception(
    payload: bytes, command_id: int
) -> None:
    tx = Tx(T0, {})
    comp = gbz.GbzComponent(gbz.CONTROL_LAST, 0x0703, S2C, 0, command_id, payload)
    try:
        msg.HANDLERS[0x0703, command_id](tx, comp)
    except ZclRefusedError as refused:
        assert refused.status != ZclStatus.SUCCESS


# ------------------------------------------------------------------ end to end


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path, {GSME: DeviceType.GSME, GPF: DeviceType.GPF})


def _to_gpf(proxy: CommandMachine, sends: list, at: object) -> list:  # type: ignore[type-arg]
    out = []
    for sent in sends:
        if sent.port == "han":
            out.extend(proxy.step(MessageEvent("chf", sent.data), at).sends)  # type: ignore[arg-type]
    return out


def test_the_ppmid_shows_the_gas_message_the_gpf_relays(pki: Pki) -> None:
    meter = MACHINES[DeviceType.GSME](GSME, pki.provisioning(GSME))
    log = Tx(T0, {})
    joins.record(log, PPMID, LogType.PPMID, JoinMethodAndRole.METHOD_A_INITIATOR)
    proxy = MACHINES[DeviceType.GPF](
        GPF,
        {**pki.provisioning(GPF), gpf.GSME_EUI: bytes(GSME), **log.writes},  # type: ignore[dict-item]
    )
    proxy.step(BootEvent(), T0)
    _to_gpf(proxy, meter.step(BootEvent(), T0).sends, T0)
    display = DisplayMessage(11, 0, 0, 0xFFFF, b"Your gas tariff changes on 1 May")
    body = gbz.GbzMessage((_comp(display),))
    data = command(pki, GSME, GCS07, 70, gbz.encode(body))
    step = meter.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0)
    assert any(decode_han(s.data).message for s in step.sends)
    woke = T0 + timedelta(minutes=30)
    relayed = [
        s for s in _to_gpf(proxy, meter.step(TimerEvent(gsme.WAKE), woke).sends, woke)
        if s.port == msg.ZSE_PORT
    ]
    assert [s.to for s in relayed] == [PPMID]
    screen = MACHINES[DeviceType.PPMID](PPMID, {})
    screen.step(BootEvent(), woke)
    screen.step(MessageEvent(ppmid.ZSE_PORT, relayed[0].data), woke)
    assert ppmid.display(screen.nvm).message == "Your gas tariff changes on 1 May"
