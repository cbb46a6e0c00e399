"""Fault states in NVM and how the COSEM server honours them (firmware/common/faults.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.firmware.common import faults
from smemu.firmware.common.cosem import CosemContext, CosemObject, ObjectTable, serve
from smemu.firmware.common.faults import Access, AccessPoint, Fault, FaultKind
from smemu.firmware.common.machine import Tx
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.data import DoubleLongUnsigned, NullData

NOW = datetime(2015, 1, 1, tzinfo=UTC)
LN_A = bytes((1, 0, 1, 8, 0, 255))
LN_B = bytes((0, 0, 96, 3, 10, 255))

points = st.builds(
    AccessPoint,
    st.sampled_from(list(Access)),
    st.integers(0, 0xFFFF),
    st.binary(min_size=6, max_size=6),
    st.integers(0, 0xFF),
)


@given(st.sampled_from(list(FaultKind)), points)
def test_a_fault_key_names_its_fault(kind: FaultKind, point: AccessPoint) -> None:
    fault = Fault(kind, point)
    assert Fault.parse(fault.key) == fault
    assert faults.active(faults.image([fault]), point) is kind
    assert faults.listed([fault.key, "other/key"]) == [fault]
    assert faults.clear({**faults.image([fault]), "keep": b"1"}) == {"keep": b"1"}


@pytest.mark.parametrize("key", ["fault/x", "fault/hardware/3/zz/get/2", "alert/counter"])
def test_a_non_fault_key_is_a_decode_error(key: str) -> None:
    with pytest.raises(DecodeError):
        Fault.parse(key)


def _table(tx_log: list[str]) -> ObjectTable:
    def write(name: str) -> Any:
        def setter(ctx: CosemContext, value: object) -> None:
            ctx.tx.put(f"obj/{name}", b"\x01")
            tx_log.append(name)

        return setter

    return {
        (3, LN_A): CosemObject(
            get={2: lambda ctx: DoubleLongUnsigned(7)},
            set={2: write("a")},
            act={1: lambda c, v: NullData()},
        ),
        (1, LN_B): CosemObject(get={2: lambda ctx: DoubleLongUnsigned(9)}, set={2: write("b")}),
    }


def _serve(
    nvm: dict[str, bytes], *specs: apdu.AccessRequestSpecification
) -> tuple[Tx, apdu.AccessResponseMessage, list[str]]:
    tx = Tx(NOW, nvm)
    log: list[str] = []
    ctx = CosemContext(tx, cast(Any, None), cast(Any, None))
    values = tuple(DoubleLongUnsigned(1) for _ in specs)
    request = apdu.AccessRequestMessage(0x20000001, b"", specs, values)
    return tx, serve(_table(log), ctx, request), log


SPECS = (
    apdu.AccessRequestSet(3, LN_A, 2),
    apdu.AccessRequestSet(1, LN_B, 2),
    apdu.AccessRequestGet(3, LN_A, 2),
)


def test_without_faults_every_instruction_runs() -> None:
    _, response, log = _serve({}, *SPECS)
    assert [s.result for s in response.specifications] == [0, 0, 0]
    assert log == ["a", "b"]
    assert response.list_of_data[2] == DoubleLongUnsigned(7)


@pytest.mark.parametrize(("kind", "code"), [(FaultKind.HARDWARE, 1), (FaultKind.TEMPORARY, 2)])
def test_a_faulted_instruction_answers_its_result_and_stops_the_rest(
    kind: FaultKind, code: int
) -> None:
    nvm = faults.image([Fault(kind, AccessPoint(Access.SET, 1, LN_B, 2))])
    tx, response, log = _serve(nvm, *SPECS)
    assert [s.result for s in response.specifications] == [0, code, 250]
    assert [type(s) for s in response.specifications] == [
        apdu.AccessResponseSet,
        apdu.AccessResponseSet,
        apdu.AccessResponseGet,
    ]
    assert log == ["a"]  # the faulted setter and everything after it did not run
    assert "obj/b" not in tx.writes
    assert all(isinstance(d, NullData) for d in response.list_of_data)


def test_a_fault_is_per_access_point() -> None:
    # a fault on reading LN_A leaves writing it and acting on it alone
    nvm = faults.image([Fault(FaultKind.HARDWARE, AccessPoint(Access.GET, 3, LN_A, 2))])
    _, response, log = _serve(
        nvm, apdu.AccessRequestSet(3, LN_A, 2), apdu.AccessRequestAction(3, LN_A, 1)
    )
    assert [s.result for s in response.specifications] == [0, 0]
    assert log == ["a"]
    _, response, _ = _serve(nvm, apdu.AccessRequestGet(3, LN_A, 2))
    assert [s.result for s in response.specifications] == [1]


def test_an_ordinary_failure_also_stops_the_rest() -> None:
    _, response, log = _serve({}, apdu.AccessRequestGet(3, bytes(6), 2), *SPECS)
    assert [s.result for s in response.specifications] == [4, 250, 250, 250]
    assert log == []


# ------------------------------------------------------------------------------------ ZCL

zcl_points = st.builds(
    faults.ZclPoint,
    st.sampled_from(list(faults.ZclAccess)),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.none() | st.integers(0, 20),
)


@given(st.sampled_from(list(FaultKind)), zcl_points)
def test_a_zcl_fault_key_names_its_fault(kind: FaultKind, point: faults.ZclPoint) -> None:
    fault = Fault(kind, point)
    assert Fault.parse(fault.key) == fault
    assert faults.active(faults.image([fault]), point) is kind


def test_a_hardware_fault_answers_zcl_hardware_failure_only_where_it_is() -> None:
    from smemu.firmware.gas_zcl import AttributeStore, serve
    from smemu.protocols.zigbee import gbz

    store = AttributeStore({(0x0705, 0x0000): (0x2B, bytes(4)), (0x0705, 0x0001): (0x2B, bytes(4))})
    message = gbz.GbzMessage(
        (
            gbz.GbzComponent(0, 0x0705, 0x00, 0, 0x00, b"\x00\x00\x01\x00"),  # read 0, 1
            gbz.GbzComponent(0, 0x0705, 0x01, 1, 0x02, b""),  # Change Debt, first
            gbz.GbzComponent(gbz.CONTROL_LAST, 0x0705, 0x01, 2, 0x02, b""),  # and second
        )
    )
    broken = faults.image(
        [
            Fault(FaultKind.HARDWARE, faults.ZclPoint(faults.ZclAccess.ATTRIBUTE, 0x0705, 1)),
            Fault(FaultKind.HARDWARE, faults.ZclPoint(faults.ZclAccess.COMMAND, 0x0705, 2, 1)),
            # a temporary fault has no ZCL status: not modelled, the command runs
            Fault(FaultKind.TEMPORARY, faults.ZclPoint(faults.ZclAccess.COMMAND, 0x0705, 2)),
        ]
    )
    healthy = serve(Tx(NOW, {}), message, store, {})
    faulty = serve(Tx(NOW, broken), message, store, {})
    assert [c.payload for c in healthy.components][1:] == [b"\x02\x00", b"\x02\x00"]
    read, first, second = (c.payload for c in faulty.components)
    assert read == b"\x00\x00\x00\x2b" + bytes(4) + b"\x01\x00\xc0"
    # a hardware failure stops the payload: the rest is "not processed" (0xFF, FAILURE),
    # as every reference GBZ ERROR response shows (gas_zcl.HALTING)
    assert (first, second) == (b"\xff\x01", b"\xff\x01")
    # without the attribute fault, only the faulted occurrence of the command fails
    commands = gbz.GbzMessage(message.components[1:])
    only_second = {k: v for k, v in broken.items() if "/attribute/" not in k}
    first, second = (c.payload for c in serve(Tx(NOW, only_second), commands, store, {}).components)
    assert (first, second) == (b"\x02\x00", b"\x02\xc0")


@given(st.sampled_from(list(FaultKind)), st.integers(0, 0xFFFF))
def test_a_use_case_fault_key_names_its_fault(kind: FaultKind, code: int) -> None:
    point = faults.UseCasePoint(code)
    fault = Fault(kind, point)
    assert fault.key == f"fault/{kind.value}/usecase/{code:04x}"
    assert Fault.parse(fault.key) == fault
    assert faults.active(faults.image([fault]), point) is kind
    assert faults.active(faults.image([fault]), faults.UseCasePoint(code ^ 1)) is None
    assert faults.listed([fault.key]) == [fault]


@pytest.mark.parametrize(
    "key", ["fault/hardware/usecase/zz", "fault/hardware/usecase/10000", "fault/odd/usecase/a"]
)
def test_a_bad_use_case_fault_key_is_a_decode_error(key: str) -> None:
    with pytest.raises(DecodeError):
        Fault.parse(key)


@given(st.text(max_size=40))
def test_any_text_parses_to_a_fault_or_a_decode_error(key: str) -> None:
    try:
        fault = Fault.parse("fault/" + key)
    except DecodeError:
        return
    assert Fault.parse(fault.key) == fault
