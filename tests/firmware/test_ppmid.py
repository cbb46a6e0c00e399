"""PPMID behaviour: the typed display, keypad requests to the ESME (ZSE) and GSME (GBCS), CS08."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.errors import DecodeError
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Step, Tx
from smemu.firmware.ppmid import (
    KEYPAD_PORT,
    PCS01,
    PCS02,
    ZSE_PORT,
    PpmidMachine,
    display,
    display_history,
    zse_frame,
)
from smemu.firmware.ppmid_keypad import Action, Fuel, KeypadEntry, decode_exact
from smemu.protocols.asn1 import ReadFirmwareVersionResponse, decode_typed
from smemu.protocols.asn1.firmware import FirmwareReadResponseCode
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.zigbee import messaging, metering, prepayment
from smemu.protocols.zigbee.registry import decode_frame
from smemu.protocols.zigbee.typed import decode_typed as gbz_typed

from ._support import ESME, GSME, T0, command, make_pki

PPMID = Eui64.parse("00-DB-12-34-56-78-90-A4")
UTRN = "73941656880950804485"


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(
        tmp_path,
        {ESME: DeviceType.ESME, GSME: DeviceType.GSME, PPMID: DeviceType.PPMID},
    )


def _ppmid(pki: Pki, paired: bool = True) -> PpmidMachine:
    nvm = dict(pki.provisioning(PPMID))
    if paired:
        tx = Tx(T0, nvm)
        gsme_ka = pki.keystore.ka_public(GSME)
        point = gsme_ka.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        PpmidMachine.pair(tx, esme=ESME, gsme=GSME, gsme_ka_point=point)
        nvm.update({k: v for k, v in tx.writes.items() if v is not None})
    m = PpmidMachine(PPMID, nvm)
    m.step(BootEvent(), T0)
    return m


def _key(m: PpmidMachine, entry: KeypadEntry, minutes: int = 1) -> Step:
    return m.step(MessageEvent(KEYPAD_PORT, entry.encode()), T0 + timedelta(minutes=minutes))


def test_top_up_for_electricity_goes_to_the_esme_as_zse(pki: Pki) -> None:
    m = _ppmid(pki)
    step = _key(m, KeypadEntry(Action.TOP_UP, Fuel.ELECTRICITY, UTRN))
    (out,) = step.sends
    assert out.port == ZSE_PORT and out.to == ESME
    decoded = decode_frame(int.from_bytes(out.data[:2], "big"), out.data[2:])
    assert decoded.command == prepayment.ConsumerTopUp(
        prepayment.OriginatingDevice.IN_HOME_DISPLAY, UTRN.encode()
    )
    assert display(m.nvm).status == "Top up sent"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (Action.EMERGENCY_CREDIT, prepayment.SelectAvailableEmergencyCredit),
        (Action.SUPPLY_ENABLE, metering.LocalChangeSupply),
    ],
)
def test_emergency_credit_and_supply_enable_to_the_esme(
    pki: Pki, action: Action, expected: type
) -> None:
    m = _ppmid(pki)
    (out,) = _key(m, KeypadEntry(action)).sends
    decoded = decode_frame(int.from_bytes(out.data[:2], "big"), out.data[2:])
    assert isinstance(decoded.command, expected)


@pytest.mark.parametrize(
    ("action", "code"), [(Action.TOP_UP, PCS01), (Action.EMERGENCY_CREDIT, PCS02)]
)
def test_gas_requests_are_macd_gbcs_commands_to_the_gsme(
    pki: Pki, action: Action, code: int
) -> None:
    m = _ppmid(pki)
    utrn = UTRN if action is Action.TOP_UP else ""
    counters = []
    for minute in (1, 2):
        (out,) = _key(m, KeypadEntry(action, Fuel.GAS, utrn), minute).sends
        assert out.port == "han"
        han = decode_han(out.data)
        assert han.command is TunnelCommand.PUT
        located = frame.locate(han.message)
        header = frame.signing_message(located.message).header  # type: ignore[union-attr]
        assert (header.cra, header.originator, header.recipient) == (Cra.COMMAND, PPMID, GSME)
        assert header.message_code == code
        assert secure.verify_mac(located, pki.keystore) is secure.Verdict.VALID
        payload = gbz_typed(frame.signing_message(located.message).payload, alert=False)  # type: ignore[union-attr]
        command = payload.components[0].command
        if action is Action.TOP_UP:
            assert command == prepayment.ConsumerTopUp(
                prepayment.OriginatingDevice.IN_HOME_DISPLAY, UTRN.encode()
            )
        else:
            assert isinstance(command, prepayment.SelectAvailableEmergencyCredit)
        counters.append(header.originator_counter)
    assert counters[1] > counters[0]


def test_unpaired_ppmid_says_so_and_sends_nothing(pki: Pki) -> None:
    m = _ppmid(pki, paired=False)
    step = _key(m, KeypadEntry(Action.TOP_UP, Fuel.GAS, UTRN))
    assert step.sends == ()
    assert display(m.nvm).status == "No gas meter"


def test_display_shows_balance_debt_emergency_credit_and_messages_with_history(pki: Pki) -> None:
    m = _ppmid(pki)
    snapshot = prepayment.PublishPrepaySnapshot(
        1, 0, 1, 0, 1, 0, 0, prepayment.DebtCreditStatus(-250, 0, 0, 0, 500, 1234)
    )
    m.step(MessageEvent(ZSE_PORT, zse_frame(snapshot)), T0 + timedelta(minutes=1))
    shown = display(m.nvm)
    assert (shown.credit, shown.emergency_credit, shown.debt) == (1234, 500, -250)
    assert shown.lines[:3] == ("Credit £12.34", "Emergency £5.00", "Debt -£2.50")
    msg = messaging.DisplayMessage(7, 0, 0, 0xFFFF, b"Price change on Monday")
    m.step(MessageEvent(ZSE_PORT, zse_frame(msg)), T0 + timedelta(minutes=2))
    assert display(m.nvm).message == "Price change on Monday"
    assert "Price change on Monday" in display(m.nvm).lines
    answer = prepayment.ConsumerTopUpResponse(
        prepayment.TopUpResult.REJECTED_DUPLICATE_TOP_UP, 0, 2, 1234
    )
    m.step(MessageEvent(ZSE_PORT, zse_frame(answer)), T0 + timedelta(minutes=3))
    assert display(m.nvm).status == "Top up rejected"
    history = display_history(m.nvm)
    assert [h.at for h in history][-3:] == [T0 + timedelta(minutes=i) for i in (1, 2, 3)]
    assert history[-3].message == "" and history[-1].message == "Price change on Monday"


def test_cs08_answers_the_firmware_version(pki: Pki) -> None:
    m = _ppmid(pki)
    data = command(pki, PPMID, 0x0129, 1300, b"\x05\x00", role=Role.ACCESS_CONTROL_BROKER)
    step = m.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), T0)
    (out,) = step.sends
    located = frame.locate(decode_han(out.data).message)
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.header.cra is Cra.RESPONSE
    answer = decode_typed(inner.payload, message_code=0x0129, cra=2)
    assert answer == ReadFirmwareVersionResponse(
        bytes.fromhex("03000000"), FirmwareReadResponseCode.READ_SUCCESS
    )


@given(st.binary(max_size=30))
def test_random_keypad_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        entry = decode_exact(data)
    except DecodeError:
        return
    assert entry.encode() == data


@given(st.sampled_from(list(Fuel)), st.text("0123456789", min_size=20, max_size=20))
def test_keypad_round_trip(fuel: Fuel, utrn: str) -> None:
    entry = KeypadEntry(Action.TOP_UP, fuel, utrn)
    assert decode_exact(entry.encode()) == entry


def test_malformed_zse_frame_changes_nothing(pki: Pki) -> None:
    m = _ppmid(pki)
    before = dict(m.nvm)
    with pytest.raises(DecodeError):
        m.step(MessageEvent(ZSE_PORT, b"\x07"), T0)
    assert dict(m.nvm) == before
