"""Join and unjoin as the meter sees them (CS03, CS04, CS07)."""

from __future__ import annotations

import pytest

from smemu.devices.keys import Pki
from smemu.firmware import joins
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.asn1 import (
    JoinDeviceCommand,
    JoinDeviceResponse,
    ReadDeviceJoinDetailsCommand,
    ReadDeviceJoinDetailsResponse,
    UnjoinDeviceCommand,
    UnjoinDeviceResponse,
)
from smemu.protocols.asn1.devices import JoinMethodAndRole, UnjoinResponseCode
from smemu.protocols.asn1.values import DeviceLogEntry, JoinResponseCode
from smemu.protocols.asn1.values import DeviceType as Kind
from smemu.protocols.gbcs.types import Eui64
from tests.firmware._asn1 import answer, send
from tests.firmware._support import ESME, booted, make_pki

HCALCS = Eui64.parse("00-DB-12-34-56-78-90-9A")
PPMID = Eui64.parse("00-DB-12-34-56-78-90-97")
A_INIT = JoinMethodAndRole.METHOD_A_INITIATOR
M, R = JoinMethodAndRole, JoinResponseCode


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki") / "keys")


def _join(
    machine: object, pki: Pki, counter: int, cmd: JoinDeviceCommand, code: int = joins.CS03A1
) -> JoinResponseCode:
    step = send(machine, pki, code, counter, cmd)  # type: ignore[arg-type]
    _, payload = answer(step, pki.keystore)
    assert isinstance(payload, JoinDeviceResponse)
    return payload.response_code


def test_join_read_unjoin(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    assert (
        _join(esme, pki, 10, JoinDeviceCommand(A_INIT, HCALCS, Kind.HCALCS))
        is JoinResponseCode.SUCCESS
    )
    assert (
        _join(esme, pki, 11, JoinDeviceCommand(A_INIT, PPMID, Kind.PPMID))
        is JoinResponseCode.SUCCESS
    )
    # the same device again is no change
    assert (
        _join(esme, pki, 12, JoinDeviceCommand(A_INIT, PPMID, Kind.PPMID))
        is JoinResponseCode.SUCCESS
    )
    _, read = answer(
        send(esme, pki, joins.CS07, 13, ReadDeviceJoinDetailsCommand(), sign=False), pki.keystore
    )
    assert isinstance(read, ReadDeviceJoinDetailsResponse)
    assert read.device_log_entries == (
        DeviceLogEntry(PPMID, Kind.PPMID),
        DeviceLogEntry(HCALCS, Kind.HCALCS),
    )
    _, out = answer(send(esme, pki, joins.CS04AC, 14, UnjoinDeviceCommand(HCALCS)), pki.keystore)
    assert out == UnjoinDeviceResponse(UnjoinResponseCode.SUCCESS)
    _, again = answer(send(esme, pki, joins.CS04AC, 15, UnjoinDeviceCommand(HCALCS)), pki.keystore)
    assert again == UnjoinDeviceResponse(UnjoinResponseCode.NOT_IN_DEVICE_LOG)
    assert [k for k in esme.nvm if k.startswith(joins.PREFIX)] == [joins.PREFIX + PPMID.hex()]


# ruff: noqa: E501 - one refusal per table row
@pytest.mark.parametrize(
    ("code", "cmd", "expected"),
    [
        (joins.CS03A1, JoinDeviceCommand(A_INIT, HCALCS, Kind.PPMID), R.INCOMPATIBLE_WITH_EXISTING_ENTRY),
        (joins.CS03A1, JoinDeviceCommand(M.METHOD_B, PPMID, Kind.PPMID), R.INVALID_MESSAGE_CODE_FOR_JOIN_METHOD_AND_ROLE),
        (joins.CS03A1, JoinDeviceCommand(A_INIT, PPMID, Kind.GSME), R.INVALID_JOIN_METHOD_AND_ROLE),
        (joins.CS03C, JoinDeviceCommand(M.METHOD_C, PPMID, Kind.TYPE2), R.INVALID_OR_MISSING_CERTIFICATE),
    ],
)  # fmt: skip
def test_refused_joins_change_nothing(
    pki: Pki, code: int, cmd: JoinDeviceCommand, expected: JoinResponseCode
) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    assert (
        _join(esme, pki, 10, JoinDeviceCommand(A_INIT, HCALCS, Kind.HCALCS))
        is JoinResponseCode.SUCCESS
    )
    before = {k: v for k, v in esme.nvm.items() if k.startswith(joins.PREFIX)}
    assert _join(esme, pki, 11, cmd, code) is expected
    assert {k: v for k, v in esme.nvm.items() if k.startswith(joins.PREFIX)} == before


def test_device_log_full(pki: Pki) -> None:
    esme = booted(pki, ESME, DeviceType.ESME)
    for n in range(joins.DEVICE_LOG_CAPACITY):
        other = Eui64(bytes(7) + bytes((n + 1,)))
        assert (
            _join(esme, pki, 10 + n, JoinDeviceCommand(A_INIT, other, Kind.PPMID))
            is JoinResponseCode.SUCCESS
        )
    assert (
        _join(esme, pki, 99, JoinDeviceCommand(A_INIT, PPMID, Kind.PPMID))
        is JoinResponseCode.DEVICE_LOG_FULL
    )


def test_handler_table_covers_the_join_codes() -> None:
    assert set(joins.HANDLERS) == {0x000D, 0x00AB, 0x000E, 0x00AF, 0x000F, 0x0010, 0x0013}
