"""PPMID joins: CS03A2 (method A responder), CS03C (method C with the GSME), CS04AC."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smemu.devices.keys import Pki, issue_certificate
from smemu.firmware import joins, ppmid_joins
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Step
from smemu.firmware.ppmid import ESME_KEY, GSME_KEY, PEER_KA, PpmidMachine
from smemu.protocols.asn1 import (
    Asn1Payload,
    JoinDeviceCommand,
    JoinDeviceResponse,
    UnjoinDeviceCommand,
    UnjoinDeviceResponse,
    decode_typed,
)
from smemu.protocols.asn1.devices import JoinMethodAndRole, UnjoinResponseCode
from smemu.protocols.asn1.values import DeviceType as Kind
from smemu.protocols.asn1.values import JoinResponseCode
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keys import private_key_from_scalar

from ._support import ESME, GSME, T0, command, make_pki

PPMID = Eui64.parse("00-DB-12-34-56-78-90-A4")
GPF = Eui64.parse("00-DB-12-34-56-78-90-A3")
OTHER_ESME = Eui64.parse("00-DB-12-34-56-78-90-93")
M, R = JoinMethodAndRole, JoinResponseCode


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder: Path = tmp_path_factory.mktemp("pki") / "keys"
    return make_pki(folder, {ESME: DeviceType.ESME, GSME: DeviceType.GSME, PPMID: DeviceType.PPMID})


def _ppmid(pki: Pki) -> PpmidMachine:
    m = PpmidMachine(PPMID, dict(pki.provisioning(PPMID)))
    m.step(BootEvent(), T0)
    return m


def _send(m: PpmidMachine, pki: Pki, code: int, counter: int, payload: Asn1Payload) -> Step:
    data = command(
        pki, PPMID, code, counter, payload.encode(), sign=True, role=Role.ACCESS_CONTROL_BROKER
    )
    return m.step(
        MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()),
        T0 + timedelta(seconds=counter),
    )


def _answer(step: Step, pki: Pki, code: int) -> Asn1Payload:
    [sent] = step.sends
    located = frame.locate(decode_han(sent.data).message)
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.header.cra is Cra.RESPONSE
    assert inner.header.message_code == code
    # answering a signed command: the response is signed, and verifies
    assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
    return decode_typed(inner.payload, message_code=code, cra=int(Cra.RESPONSE))


def _join(m: PpmidMachine, pki: Pki, counter: int, code: int, cmd: JoinDeviceCommand) -> R:
    answer = _answer(_send(m, pki, code, counter, cmd), pki, code)
    assert isinstance(answer, JoinDeviceResponse)
    return answer.response_code


def _unjoin(m: PpmidMachine, pki: Pki, counter: int, eui: Eui64) -> UnjoinResponseCode:
    answer = _answer(_send(m, pki, joins.CS04AC, counter, UnjoinDeviceCommand(eui)), pki, 0x000F)
    assert isinstance(answer, UnjoinDeviceResponse)
    return answer.response_code


def _gsme_ka_certificate(pki: Pki, eui: Eui64 = GSME) -> bytes:
    key = pki.keystore.ka_public(eui)
    assert key is not None
    return issue_certificate(private_key_from_scalar(7), key, eui, key_agreement=True)


def test_the_ppmid_joins_an_esme_as_method_a_responder_and_serves_it(pki: Pki) -> None:
    m = _ppmid(pki)
    cmd = JoinDeviceCommand(M.METHOD_A_RESPONDER, OTHER_ESME, Kind.ESME)
    assert _join(m, pki, 1300, joins.CS03A2, cmd) is R.SUCCESS
    assert joins.entry_type(m.nvm, OTHER_ESME) is Kind.ESME  # type: ignore[arg-type]
    assert m.nvm[ESME_KEY] == bytes(OTHER_ESME)
    # the same device again: success, nothing new
    assert _join(m, pki, 1301, joins.CS03A2, cmd) is R.SUCCESS
    assert len([k for k in m.nvm if k.startswith(joins.PREFIX)]) == 1


def test_method_and_partner_checks(pki: Pki) -> None:
    m = _ppmid(pki)
    as_initiator = JoinDeviceCommand(M.METHOD_A_INITIATOR, OTHER_ESME, Kind.ESME)
    # CS03A2 carries method A responder only
    assert (
        _join(m, pki, 1300, joins.CS03A2, as_initiator)
        is R.INVALID_MESSAGE_CODE_FOR_JOIN_METHOD_AND_ROLE
    )
    # a PPMID does not join another PPMID, nor an HCALCS, by method A
    ppmid = JoinDeviceCommand(
        M.METHOD_A_RESPONDER, Eui64.parse("00-DB-12-34-56-78-90-AA"), Kind.PPMID
    )
    assert _join(m, pki, 1301, joins.CS03A2, ppmid) is R.INVALID_JOIN_METHOD_AND_ROLE
    # the GPF is a method A partner too; the GSME only by method C, with its certificate
    assert (
        _join(m, pki, 1302, joins.CS03A2, JoinDeviceCommand(M.METHOD_A_RESPONDER, GPF, Kind.GPF))
        is R.SUCCESS
    )
    gsme_by_a = JoinDeviceCommand(M.METHOD_A_RESPONDER, GSME, Kind.GSME)
    assert _join(m, pki, 1303, joins.CS03A2, gsme_by_a) is R.INVALID_JOIN_METHOD_AND_ROLE
    no_cert = JoinDeviceCommand(M.METHOD_C, GSME, Kind.GSME)
    assert _join(m, pki, 1304, joins.CS03C, no_cert) is R.INVALID_OR_MISSING_CERTIFICATE
    # the GPF again, now claimed to be an ESME
    clash = JoinDeviceCommand(M.METHOD_A_RESPONDER, GPF, Kind.ESME)
    assert _join(m, pki, 1305, joins.CS03A2, clash) is R.INCOMPATIBLE_WITH_EXISTING_ENTRY
    assert ESME_KEY not in m.nvm and GSME_KEY not in m.nvm  # no meter served by refusals


def test_method_c_gsme_join_brings_its_key_for_pcs01(pki: Pki) -> None:
    m = _ppmid(pki)
    cert = _gsme_ka_certificate(pki)
    cmd = JoinDeviceCommand(M.METHOD_C, GSME, Kind.GSME, cert)
    assert _join(m, pki, 1300, joins.CS03C, cmd) is R.SUCCESS
    assert m.nvm[GSME_KEY] == bytes(GSME)
    key = pki.keystore.ka_public(GSME)
    assert key is not None
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    stored = m.nvm[PEER_KA + bytes(GSME).hex()]
    assert stored == point[1:]  # X||Y
    assert m.credentials.keystore.ka_public(GSME) is not None
    # a certificate naming another device is refused
    other = JoinDeviceCommand(M.METHOD_C, Eui64.parse("00-DB-12-34-56-78-90-B1"), Kind.GSME, cert)
    assert _join(m, pki, 1301, joins.CS03C, other) is R.INVALID_OR_MISSING_CERTIFICATE


def test_unjoin_removes_the_entry_and_the_meter_served(pki: Pki) -> None:
    m = _ppmid(pki)
    cert = _gsme_ka_certificate(pki)
    assert (
        _join(m, pki, 1300, joins.CS03C, JoinDeviceCommand(M.METHOD_C, GSME, Kind.GSME, cert))
        is R.SUCCESS
    )
    assert (
        _join(
            m,
            pki,
            1301,
            joins.CS03A2,
            JoinDeviceCommand(M.METHOD_A_RESPONDER, OTHER_ESME, Kind.ESME),
        )
        is R.SUCCESS
    )
    assert _unjoin(m, pki, 1302, GSME) is UnjoinResponseCode.SUCCESS
    assert GSME_KEY not in m.nvm and PEER_KA + bytes(GSME).hex() not in m.nvm
    assert m.nvm[ESME_KEY] == bytes(OTHER_ESME)  # the other meter is still served
    assert _unjoin(m, pki, 1303, GSME) is UnjoinResponseCode.NOT_IN_DEVICE_LOG


def test_unjoin_of_a_device_not_in_the_log_keeps_a_commissioned_pairing(pki: Pki) -> None:
    m = _ppmid(pki)
    m.nvm[ESME_KEY] = bytes(ESME)  # commissioned pairing, no device log entry
    assert _unjoin(m, pki, 1300, ESME) is UnjoinResponseCode.NOT_IN_DEVICE_LOG
    assert m.nvm[ESME_KEY] == bytes(ESME)


def test_partner_table_matches_the_meters_side() -> None:
    # whoever a meter joins a PPMID with, the PPMID joins it back by the paired role
    assert Kind.PPMID in joins.METER_PARTNERS[M.METHOD_A_INITIATOR]
    assert Kind.ESME in ppmid_joins.PPMID_PARTNERS[M.METHOD_A_RESPONDER]
    assert not ppmid_joins.PPMID_PARTNERS[M.METHOD_B]
