"""ESME firmware: the acceptance path, real responses, failures that change nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.devices.keys import Pki
from smemu.errors import SmemuError
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import DeviceType, MessageEvent
from smemu.firmware.common.security import OUTCOMES, Rejection
from smemu.firmware.esme import EsmeMachine
from smemu.hil.demo import action, dlms_request, get
from smemu.protocols.dlms import apdu, protection
from smemu.protocols.dlms.data import DoubleLongUnsigned, LongUnsigned, NullData, OctetString
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.types import Cra, Eui64
from tests.firmware._support import ESME, T0, booted, command, make_pki

ECS52, ECS17B, ECS43, ECS45, ECS01A = 0x0059, 0x0027, 0x0050, 0x0052, 0x0019
GCS01A = 0x006B  #: a gas meter's use case: no ESME handler, so the ECS100 alert


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _put(data: bytes) -> MessageEvent:
    return MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode())


def _answers(machine: EsmeMachine, data: bytes, *, at: timedelta = timedelta()) -> list[bytes]:
    step = machine.step(_put(data), T0 + at)
    return [decode_han(s.data).message for s in step.sends]


def test_firmware_version_read_gets_a_macd_response(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    [answer] = _answers(
        esme, command(pki, ESME, ECS52, 10, dlms_request(10, get(1, "0-0:0.2.1.255", 2)))
    )
    located = frame.locate(answer)
    assert secure.verify_mac(located, pki.keystore) is secure.Verdict.VALID
    inner = frame.signing_message(located.message)
    assert inner is not None
    assert inner.header.cra is Cra.RESPONSE
    assert inner.header.originator_counter == 10
    body = apdu.decode_exact(inner.payload)
    assert isinstance(body, apdu.AccessResponseMessage)
    assert body.list_of_data == (OctetString(bytes.fromhex("01000000")),)


def test_ecs17b_register_is_encrypted_for_the_supplier_and_grows(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    values = []
    for counter, hours in ((20, 0), (21, 10)):
        payload = dlms_request(counter, action(30, "0-0:43.2.8.255", 1, NullData()))
        [answer] = _answers(
            esme, command(pki, ESME, ECS17B, counter, payload), at=timedelta(hours=hours)
        )
        outcome, plaintexts = decrypt_payload(frame.locate(answer), pki.keystore)
        assert outcome == "decrypted"
        value = protection.decode_plaintext(plaintexts[0])
        while not isinstance(value, DoubleLongUnsigned):
            value = value.items[0]  # type: ignore[union-attr]
        values.append(value.value)
    assert values == [0, 4000]  # 400 W for 10 h


def test_critical_command_is_signed_and_replay_is_rejected_without_change(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    open_cmd = command(
        pki,
        ESME,
        ECS43,
        30,
        dlms_request(30, action(9, "0-0:10.0.106.255", 1, LongUnsigned(52))),
        sign=True,
    )
    [answer] = _answers(esme, open_cmd)
    assert secure.verify_signature(frame.locate(answer), pki.keystore) is secure.Verdict.VALID
    assert esme.nvm["esme/supply"][-1] == 0
    before = dict(esme.nvm)
    assert _answers(esme, open_cmd) == []
    older = command(
        pki,
        ESME,
        ECS43,
        29,
        dlms_request(29, action(9, "0-0:10.0.106.255", 1, LongUnsigned(51))),
        sign=True,
    )
    assert _answers(esme, older) == []
    assert dict(esme.nvm) == before


def test_critical_command_without_signature_is_rejected(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    unsigned = command(
        pki,
        ESME,
        ECS43,
        40,
        dlms_request(40, action(9, "0-0:10.0.106.255", 1, LongUnsigned(52))),
        sign=False,
    )
    before = dict(esme.nvm)
    step = esme.step(_put(unsigned), T0)
    assert step.sends == ()
    assert "rejected" in step.tallies
    assert any("not signed" in e.text for e in step.logs)
    assert dict(esme.nvm) == before


def test_bad_mac_wrong_recipient_and_unknown_originator_are_rejected(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    good = command(pki, ESME, ECS52, 50, dlms_request(50, get(1, "0-0:0.2.1.255", 2)))
    tampered = good[:-1] + bytes((good[-1] ^ 1,))
    other = _with_header(good, recipient=Eui64(bytes(8)))
    stranger = _with_header(good, originator=Eui64(b"\x11" * 8))
    before = dict(esme.nvm)
    for data, reason in ((tampered, "MAC"), (other, "recipient"), (stranger, "trusted")):
        step = esme.step(_put(data), T0)
        assert step.sends == ()
        assert any(reason in e.text for e in step.logs), reason
    assert dict(esme.nvm) == before


def _with_header(data: bytes, **changes: Eui64) -> bytes:
    message = frame.locate(data).message
    assert isinstance(message, frame.MacProtectedMessage)
    header = replace(message.inner.header, **changes)
    return frame.MacProtectedMessage(replace(message.inner, header=header), message.mac).encode()


def test_unsupported_command_gets_the_ecs100_alert(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    data = command(pki, ESME, GCS01A, 60, dlms_request(60, get(20, "0-0:13.0.0.255", 7)), sign=True)
    [answer] = _answers(esme, data)
    located = frame.locate(answer)
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.header.cra is Cra.ALERT
    assert inner.message_code == 0x0120
    assert inner.header.other_information.supplementary_remote_party_counter == 60
    assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
    body = apdu.decode_exact(inner.payload)
    assert isinstance(body, apdu.DataNotificationMessage)
    assert body.body.items[0] == LongUnsigned(0x8F85)  # type: ignore[union-attr]


def test_role_not_allowed_is_answered_with_8f30(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    data = command(
        pki,
        ESME,
        ECS43,
        70,
        dlms_request(70, action(9, "0-0:10.0.106.255", 1, LongUnsigned(52))),
        sign=True,
        role=Role.NETWORK_OPERATOR,
    )
    [answer] = _answers(esme, data)
    inner = frame.signing_message(frame.locate(answer).message)
    assert inner is not None and inner.header.cra is Cra.ALERT
    assert esme.nvm["esme/supply"][-1] == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200))
def test_random_bytes_raise_a_smemu_error_and_change_nothing(pki: Pki, data: bytes) -> None:
    esme = _SHARED.get("esme") or _SHARED.setdefault("esme", booted(pki, ESME, DeviceType.ESME))
    before = dict(esme.nvm)
    for event in (MessageEvent("han", data), _put(data) if data else MessageEvent("han", b"")):
        try:
            step = esme.step(event, T0)
        except SmemuError:
            continue
        assert step.sends == () or "rejected" in step.tallies
    assert dict(esme.nvm) == before


_SHARED: dict[str, EsmeMachine] = {}


def test_truncated_command_is_refused_as_malformed(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    good = command(pki, ESME, ECS52, 80, dlms_request(80, get(1, "0-0:0.2.1.255", 2)))
    before = dict(esme.nvm)
    for cut in (1, 10, len(good) // 2, len(good) - 1):
        step = esme.step(_put(good[:cut]), T0)
        assert [e.code for e in step.logs if e.log == "security"] == [
            OUTCOMES[Rejection.MALFORMED].log_code
        ]
        assert not step.sends
    assert dict(esme.nvm) == before


def test_switch_state_read(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    [answer] = _answers(
        esme, command(pki, ESME, ECS45, 90, dlms_request(90, get(70, "0-0:96.3.10.255", 3)))
    )
    inner = frame.signing_message(frame.locate(answer).message)
    assert inner is not None
    body = apdu.decode_exact(inner.payload)
    assert isinstance(body, apdu.AccessResponseMessage)
    assert body.specifications == (apdu.AccessResponseGet(0),)
