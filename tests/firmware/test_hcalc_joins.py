"""The HCALCS's joins (CS03A2 method A responder, CS04AC) and its CS08 under a lab fault.

firmware/hcalc_joins.py, firmware/hcalc.py (handler table), firmware/ppmid_firmware.py (CS08
readFailure under a UseCasePoint fault, shared by the PPMID and the HCALCS).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import hcalc_joins, joins
from smemu.firmware.common import faults
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Step
from smemu.firmware.hcalc import HcalcMachine
from smemu.firmware.ppmid import PpmidMachine
from smemu.firmware.ppmid_firmware import CS08, FAULTABLE_USE_CASES
from smemu.protocols.asn1 import (
    Asn1Payload,
    JoinDeviceCommand,
    JoinDeviceResponse,
    ReadFirmwareVersionResponse,
    UnjoinDeviceCommand,
    UnjoinDeviceResponse,
    decode_typed,
)
from smemu.protocols.asn1.devices import JoinMethodAndRole, UnjoinResponseCode
from smemu.protocols.asn1.firmware import FirmwareReadResponseCode
from smemu.protocols.asn1.values import DeviceType as Kind
from smemu.protocols.asn1.values import JoinResponseCode
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.types import Cra, Eui64

from ._support import ESME, T0, command, make_pki

pytestmark = pytest.mark.timeout(60)

HCALC = Eui64.parse("00-DB-12-34-56-78-90-A5")
PPMID = Eui64.parse("00-DB-12-34-56-78-90-A4")
OTHER_ESME = Eui64.parse("00-DB-12-34-56-78-90-93")
GPF = Eui64.parse("00-DB-12-34-56-78-90-A3")
M, R = JoinMethodAndRole, JoinResponseCode


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder: Path = tmp_path_factory.mktemp("pki") / "keys"
    return make_pki(
        folder, {ESME: DeviceType.ESME, HCALC: DeviceType.HCALC, PPMID: DeviceType.PPMID}
    )


def _hcalc(pki: Pki, nvm: dict[str, bytes] | None = None) -> HcalcMachine:
    m = HcalcMachine(HCALC, {**pki.provisioning(HCALC), **(nvm or {})})
    m.step(BootEvent(), T0)
    return m


def _send(
    m: HcalcMachine | PpmidMachine,
    pki: Pki,
    code: int,
    counter: int,
    payload: bytes,
    *,
    sign: bool,
    role: Role,
) -> Step:
    data = command(pki, m.eui, code, counter, payload, sign=sign, role=role)
    return m.step(
        MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()),
        T0 + timedelta(seconds=counter),
    )


def _answer(step: Step, pki: Pki, code: int, *, signed: bool) -> Asn1Payload:
    [sent] = step.sends
    located = frame.locate(decode_han(sent.data).message)
    inner = frame.signing_message(located.message)
    assert inner is not None and inner.header.cra is Cra.RESPONSE
    assert inner.header.message_code == code
    if signed:
        assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
    return decode_typed(inner.payload, message_code=code, cra=int(Cra.RESPONSE))


def _join(m: HcalcMachine, pki: Pki, counter: int, code: int, cmd: JoinDeviceCommand) -> R:
    """A critical join, signed by the supplier (as the reference set's CS03A2Critical)."""
    step = _send(m, pki, code, counter, cmd.encode(), sign=True, role=Role.SUPPLIER)
    answer = _answer(step, pki, code, signed=True)
    assert isinstance(answer, JoinDeviceResponse)
    return answer.response_code


def test_the_hcalc_joins_its_esme_as_method_a_responder(pki: Pki) -> None:
    m = _hcalc(pki)
    cmd = JoinDeviceCommand(M.METHOD_A_RESPONDER, OTHER_ESME, Kind.ESME)
    assert _join(m, pki, 1300, joins.CS03A2, cmd) is R.SUCCESS
    assert joins.entry_type(m.nvm, OTHER_ESME) is Kind.ESME  # type: ignore[arg-type]
    # the same device again: success, nothing new
    assert _join(m, pki, 1301, joins.CS03A2, cmd) is R.SUCCESS
    assert len([k for k in m.nvm if k.startswith(joins.PREFIX)]) == 1


def test_the_hcalc_refuses_methods_and_partners_that_are_not_its_own(pki: Pki) -> None:
    m = _hcalc(pki)
    initiator = JoinDeviceCommand(M.METHOD_A_INITIATOR, OTHER_ESME, Kind.ESME)
    assert (
        _join(m, pki, 1300, joins.CS03A2, initiator)
        is R.INVALID_MESSAGE_CODE_FOR_JOIN_METHOD_AND_ROLE
    )
    # no GPF (it joins no HCALCS), no PPMID, no other HCALCS
    for n, (eui, kind) in enumerate(
        [
            (GPF, Kind.GPF),
            (PPMID, Kind.PPMID),
            (Eui64.parse("00-DB-12-34-56-78-90-AA"), Kind.HCALCS),
        ]
    ):
        cmd = JoinDeviceCommand(M.METHOD_A_RESPONDER, eui, kind)
        assert _join(m, pki, 1301 + n, joins.CS03A2, cmd) is R.INVALID_JOIN_METHOD_AND_ROLE
    assert not [k for k in m.nvm if k.startswith(joins.PREFIX)]  # refusals change nothing


def test_method_c_and_b_are_not_hcalc_use_cases(pki: Pki) -> None:
    """CS03C / CS03B / CS03A1 are not in the HCALCS's handler table: not answered as joins."""
    m = _hcalc(pki)
    for n, code in enumerate((joins.CS03C, joins.CS03B, joins.CS03A1)):
        cmd = JoinDeviceCommand(M.METHOD_A_RESPONDER, OTHER_ESME, Kind.ESME)
        step = _send(m, pki, code, 1300 + n, cmd.encode(), sign=True, role=Role.SUPPLIER)
        for sent in step.sends:
            message = decode_han(sent.data).message
            inner = frame.signing_message(frame.locate(message).message)
            assert inner is None or inner.header.cra is not Cra.RESPONSE
    assert not [k for k in m.nvm if k.startswith(joins.PREFIX)]


def test_unjoin_removes_the_esme(pki: Pki) -> None:
    m = _hcalc(pki)
    assert (
        _join(
            m,
            pki,
            1300,
            joins.CS03A2,
            JoinDeviceCommand(M.METHOD_A_RESPONDER, OTHER_ESME, Kind.ESME),
        )
        is R.SUCCESS
    )
    payload = UnjoinDeviceCommand(OTHER_ESME).encode()
    step = _send(m, pki, joins.CS04AC, 1301, payload, sign=True, role=Role.SUPPLIER)
    answer = _answer(step, pki, joins.CS04AC, signed=True)
    assert isinstance(answer, UnjoinDeviceResponse)
    assert answer.response_code is UnjoinResponseCode.SUCCESS
    assert joins.entry_type(m.nvm, OTHER_ESME) is None  # type: ignore[arg-type]
    step = _send(m, pki, joins.CS04AC, 1302, payload, sign=True, role=Role.SUPPLIER)
    again = _answer(step, pki, joins.CS04AC, signed=True)
    assert isinstance(again, UnjoinDeviceResponse)
    assert again.response_code is UnjoinResponseCode.NOT_IN_DEVICE_LOG


def test_partner_table_matches_the_meters_side() -> None:
    assert Kind.HCALCS in joins.METER_PARTNERS[M.METHOD_A_INITIATOR]
    assert hcalc_joins.HCALC_PARTNERS[M.METHOD_A_RESPONDER] == frozenset({Kind.ESME})


# -------------------------------------------------------------------------- CS08 faults


def _cs08(m: HcalcMachine | PpmidMachine, pki: Pki) -> ReadFirmwareVersionResponse:
    step = _send(m, pki, CS08, 1400, b"\x05\x00", sign=False, role=Role.ACCESS_CONTROL_BROKER)
    answer = _answer(step, pki, CS08, signed=False)
    assert isinstance(answer, ReadFirmwareVersionResponse)
    return answer


@pytest.mark.parametrize("kind", [DeviceType.HCALC, DeviceType.PPMID])
def test_cs08_fails_to_read_only_under_a_fault_of_the_use_case(pki: Pki, kind: DeviceType) -> None:
    assert CS08 in FAULTABLE_USE_CASES
    eui = HCALC if kind is DeviceType.HCALC else PPMID
    cls = HcalcMachine if kind is DeviceType.HCALC else PpmidMachine
    good = cls(eui, dict(pki.provisioning(eui)))
    good.step(BootEvent(), T0)
    assert _cs08(good, pki).response_code is FirmwareReadResponseCode.READ_SUCCESS
    flag = faults.image([faults.Fault(faults.FaultKind.HARDWARE, faults.UseCasePoint(CS08))])
    broken = cls(eui, {**pki.provisioning(eui), **flag})
    broken.step(BootEvent(), T0)
    answer = _cs08(broken, pki)
    assert answer == ReadFirmwareVersionResponse(
        b"\x00\x00\x00\x00", FirmwareReadResponseCode.READ_FAILURE
    )
    # a fault of another use case leaves CS08 alone
    other = faults.image([faults.Fault(faults.FaultKind.HARDWARE, faults.UseCasePoint(0x0013))])
    fine = cls(eui, {**pki.provisioning(eui), **other})
    fine.step(BootEvent(), T0)
    assert _cs08(fine, pki).response_code is FirmwareReadResponseCode.READ_SUCCESS
