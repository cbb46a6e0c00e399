"""Device logs of the GSME and GPF: joins, unjoins, GCS28 clock, GCS59 restore, GCS62 backup."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import gas_joins, joins
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import BootEvent, DeviceType, MessageEvent, Step
from smemu.protocols.asn1 import (
    Asn1Payload,
    JoinDeviceCommand,
    JoinDeviceResponse,
    ReadDeviceJoinDetailsCommand,
    ReadDeviceJoinDetailsResponse,
    RestoreGpfDeviceLogCommand,
    RestoreGpfDeviceLogResponse,
    SetClockCommand,
    SetClockResponse,
    UnjoinDeviceCommand,
    UnjoinDeviceResponse,
    decode_typed,
)
from smemu.protocols.asn1.devices import (
    DeviceTimeStatus,
    GpfDeviceLogBackupAlert,
    JoinMethodAndRole,
    ReadResponseCode,
    UnjoinResponseCode,
)
from smemu.protocols.asn1.values import DeviceLogEntry, JoinResponseCode
from smemu.protocols.asn1.values import DeviceType as Kind
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.gbcs.types import Cra, Eui64

from ._support import GSME, T0, booted, command, make_pki

GPF = Eui64.parse("00-DB-12-34-56-78-90-A2")
OTHER_GPF = Eui64.parse("00-DB-12-34-56-78-90-9C")
PPMID = Eui64.parse("00-DB-12-34-56-78-90-97")
M, R = JoinMethodAndRole, JoinResponseCode


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder: Path = tmp_path_factory.mktemp("pki") / "keys"
    return make_pki(folder, {GSME: DeviceType.GSME, GPF: DeviceType.GPF})


def _send(
    machine: CommandMachine,
    pki: Pki,
    code: int,
    counter: int,
    payload: Asn1Payload,
    *,
    sign: bool = False,
    role: Role = Role.SUPPLIER,
    delta: timedelta = timedelta(0),
) -> Step:
    data = command(pki, machine.eui, code, counter, payload.encode(), sign=sign, role=role)
    event = MessageEvent(machine.UPLINK, HanFrame(TunnelCommand.PUT, data).encode())
    return machine.step(event, T0 + delta)


def _messages(step: Step, pki: Pki) -> list[GeneralSigningMessage]:
    """Every GBCS message sent, each with a valid signature or MAC."""
    out = []
    for sent in step.sends:
        han = decode_han(sent.data)
        if not han.message:
            continue
        located = frame.locate(han.message)
        inner = frame.signing_message(located.message)
        assert inner is not None
        if inner.header.other_information.message_code == 0xFFF0:
            continue  # a mirror refresh (test_gas_mirror)
        if inner.signature:
            assert secure.verify_signature(located, pki.keystore) is secure.Verdict.VALID
        else:
            assert secure.verify_mac(located, pki.keystore) is secure.Verdict.VALID
        out.append(inner)
    return out


def _typed(inner: GeneralSigningMessage) -> Asn1Payload:
    return decode_typed(inner.payload, message_code=inner.message_code, cra=int(inner.header.cra))


def _response(step: Step, pki: Pki) -> Asn1Payload:
    [inner] = [m for m in _messages(step, pki) if m.header.cra is Cra.RESPONSE]
    return _typed(inner)


def _join_code(
    machine: CommandMachine, pki: Pki, counter: int, code: int, cmd: JoinDeviceCommand
) -> JoinResponseCode:
    payload = _response(_send(machine, pki, code, counter, cmd, sign=True), pki)
    assert isinstance(payload, JoinDeviceResponse)
    return payload.response_code


def _log(machine: CommandMachine, pki: Pki, counter: int) -> list[DeviceLogEntry]:
    payload = _response(
        _send(machine, pki, joins.CS07, counter, ReadDeviceJoinDetailsCommand()), pki
    )
    assert isinstance(payload, ReadDeviceJoinDetailsResponse)
    return list(payload.device_log_entries or ())


def test_gsme_joins_its_gpf_by_method_b_only(pki: Pki) -> None:
    gsme = booted(pki, GSME, DeviceType.GSME)
    by_b = JoinDeviceCommand(M.METHOD_B, OTHER_GPF, Kind.GPF)
    assert _join_code(gsme, pki, 10, joins.CS03B, by_b) is R.SUCCESS
    # a PPMID is not a method B partner; method A is not the GSME's at all
    ppmid_b = JoinDeviceCommand(M.METHOD_B, PPMID, Kind.PPMID)
    assert _join_code(gsme, pki, 11, joins.CS03B, ppmid_b) is R.INVALID_JOIN_METHOD_AND_ROLE
    ppmid_a = JoinDeviceCommand(M.METHOD_A_INITIATOR, PPMID, Kind.PPMID)
    assert _join_code(gsme, pki, 12, joins.CS03A1, ppmid_a) is R.INVALID_JOIN_METHOD_AND_ROLE
    # the message code must carry the method of the payload
    assert (
        _join_code(gsme, pki, 13, joins.CS03C, by_b)
        is R.INVALID_MESSAGE_CODE_FOR_JOIN_METHOD_AND_ROLE
    )
    # method C needs the other device's certificate
    no_cert = JoinDeviceCommand(M.METHOD_C, PPMID, Kind.PPMID)
    assert _join_code(gsme, pki, 14, joins.CS03C, no_cert) is R.INVALID_OR_MISSING_CERTIFICATE
    # a GSME is not a GSME's method B partner either
    clash = JoinDeviceCommand(M.METHOD_B, OTHER_GPF, Kind.GSME)
    assert _join_code(gsme, pki, 15, joins.CS03B, clash) is R.INVALID_JOIN_METHOD_AND_ROLE
    assert _log(gsme, pki, 16) == [DeviceLogEntry(OTHER_GPF, Kind.GPF)]


def test_gsme_unjoin_removes_the_entry_once(pki: Pki) -> None:
    gsme = booted(pki, GSME, DeviceType.GSME)
    _join_code(gsme, pki, 10, joins.CS03B, JoinDeviceCommand(M.METHOD_B, OTHER_GPF, Kind.GPF))
    for counter, expected in (
        (11, UnjoinResponseCode.SUCCESS),
        (12, UnjoinResponseCode.NOT_IN_DEVICE_LOG),
    ):
        payload = _response(
            _send(gsme, pki, joins.CS04B, counter, UnjoinDeviceCommand(OTHER_GPF)), pki
        )
        assert isinstance(payload, UnjoinDeviceResponse)
        assert payload.response_code is expected
    assert _log(gsme, pki, 13) == []


def test_gsme_device_log_fills_up(pki: Pki) -> None:
    gsme = booted(pki, GSME, DeviceType.GSME)
    for i in range(joins.DEVICE_LOG_CAPACITY):
        eui = Eui64(bytes(7) + bytes((i + 1,)))
        cmd = JoinDeviceCommand(M.METHOD_B, eui, Kind.GPF)
        assert _join_code(gsme, pki, 10 + i, joins.CS03B, cmd) is R.SUCCESS
    extra = JoinDeviceCommand(M.METHOD_B, OTHER_GPF, Kind.GPF)
    assert _join_code(gsme, pki, 50, joins.CS03B, extra) is R.DEVICE_LOG_FULL


def _clock(
    gsme: CommandMachine, pki: Pki, counter: int, start: timedelta, end: timedelta
) -> SetClockResponse:
    step = _send(
        gsme, pki, gas_joins.GCS28, counter, SetClockCommand(T0 + start, T0 + end), sign=True
    )
    [inner] = _messages(step, pki)
    assert inner.signature  # a critical command gets a signed response
    payload = _typed(inner)
    assert isinstance(payload, SetClockResponse)
    return payload


def test_gcs28_sets_the_clock_only_inside_the_validity_interval(pki: Pki) -> None:
    gsme = booted(pki, GSME, DeviceType.GSME)
    hour = timedelta(hours=1)
    inside = _clock(gsme, pki, 10, -hour, hour)
    assert (inside.device_time, inside.device_time_status) == (T0, DeviceTimeStatus.RELIABLE)
    outside = _clock(gsme, pki, 11, hour, 2 * hour)
    assert (outside.device_time, outside.device_time_status) == (
        T0,
        DeviceTimeStatus.UNRELIABLE,
    )


def test_gpf_join_sends_the_gcs62_backup_to_the_acb(pki: Pki) -> None:
    gpf = booted(pki, GPF, DeviceType.GPF)
    cmd = JoinDeviceCommand(M.METHOD_B, GSME, Kind.GSME)
    step = _send(gpf, pki, joins.CS03B, 10, cmd)
    sent = _messages(step, pki)
    alerts = [m for m in sent if m.header.cra is Cra.ALERT]
    [alert] = alerts
    assert alert.header.recipient == pki.remote_parties[Role.ACCESS_CONTROL_BROKER]
    assert alert.header.other_information.message_code == gas_joins.GCS62
    assert not alert.signature  # SME.A.NC: MAC only
    backup = _typed(alert)
    assert isinstance(backup, GpfDeviceLogBackupAlert)
    assert backup.alert_code == gas_joins.GPF_LOG_CHANGED
    assert backup.device_log_entries == (DeviceLogEntry(GSME, Kind.GSME),)
    # joining the same device again changes nothing: no new backup
    again = _messages(_send(gpf, pki, joins.CS03B, 11, cmd), pki)
    assert [m.header.cra for m in again] == [Cra.RESPONSE]
    # an unjoin changes the log: backup of the empty log
    unjoined = _messages(_send(gpf, pki, joins.CS04B, 12, UnjoinDeviceCommand(GSME)), pki)
    [after] = [m for m in unjoined if m.header.cra is Cra.ALERT]
    backup = _typed(after)
    assert isinstance(backup, GpfDeviceLogBackupAlert)
    assert backup.device_log_entries == ()


def test_gcs59_restores_each_entry_with_its_outcome(pki: Pki) -> None:
    gpf = booted(pki, GPF, DeviceType.GPF)
    backup = (
        DeviceLogEntry(PPMID, Kind.PPMID),
        DeviceLogEntry(GSME, Kind.GSME),
        DeviceLogEntry(OTHER_GPF, Kind.ESME),  # a GPF has no ESME partner
        DeviceLogEntry(PPMID, Kind.TYPE2),  # the same identifier as another type
    )
    step = _send(
        gpf, pki, gas_joins.GCS59, 10, RestoreGpfDeviceLogCommand(backup),
        role=Role.ACCESS_CONTROL_BROKER,
    )  # fmt: skip
    payload = _response(step, pki)
    assert isinstance(payload, RestoreGpfDeviceLogResponse)
    assert [o.join_response_code for o in payload.restore_outcomes] == [
        R.SUCCESS,
        R.SUCCESS,
        R.INVALID_JOIN_METHOD_AND_ROLE,
        R.INCOMPATIBLE_WITH_EXISTING_ENTRY,
    ]
    assert [o.device_log_entry for o in payload.restore_outcomes] == list(backup)
    assert sorted(e.device_id for e in _log(gpf, pki, 11)) == sorted([PPMID, GSME])
    assert any(m.header.cra is Cra.ALERT for m in _messages(step, pki))


def test_a_failed_device_log_store_answers_cs07_read_failure(pki: Pki) -> None:
    from smemu.firmware.common import faults

    gsme = booted(pki, GSME, DeviceType.GSME)
    _join_code(gsme, pki, 10, joins.CS03B, JoinDeviceCommand(M.METHOD_B, OTHER_GPF, Kind.GPF))
    assert _log(gsme, pki, 11) == [DeviceLogEntry(OTHER_GPF, Kind.GPF)]
    point = faults.UseCasePoint(joins.CS07)
    assert joins.CS07 in gas_joins.FAULTABLE_USE_CASES
    nvm = {**gsme.nvm, **faults.image([faults.Fault(faults.FaultKind.HARDWARE, point)])}
    gsme = type(gsme)(gsme.eui, nvm)  # the lab breaks the store with the power off
    gsme.step(BootEvent(), T0)
    payload = _response(
        _send(gsme, pki, joins.CS07, 12, ReadDeviceJoinDetailsCommand()), pki
    )
    assert isinstance(payload, ReadDeviceJoinDetailsResponse)
    assert payload.response_code is ReadResponseCode.READ_FAILURE
    assert not payload.device_log_entries
