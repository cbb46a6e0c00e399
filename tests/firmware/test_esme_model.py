"""The ESME's COSEM object model: defaults, SET validation, NVM persistence, range reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.firmware.common.cosem import CosemContext, select_range, serve
from smemu.firmware.common.machine import Tx
from smemu.firmware.cosem_model import (
    UNSPECIFIED_DATE_TIME,
    attribute_key,
    check_value,
    default_value,
    device_use_cases,
)
from smemu.firmware.esme import ESME_MODEL, EsmeMachine
from smemu.protocols.dlms import apdu, axdr
from smemu.protocols.dlms.apdu import ActionResult, DataAccessResult, parse_obis
from smemu.protocols.dlms.data import (
    Array,
    CompactArray,
    Data,
    DoubleLongUnsigned,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    TypeDescription,
)
from smemu.protocols.dlms.objects import objects_for
from smemu.protocols.gbcs.use_cases import Device

NOW = datetime(2025, 1, 6, tzinfo=UTC)
CONTACT = (9000, parse_obis("0-0:96.13.0.255"))  # ECS16 supplier contact, octet-string(18)
REGISTER = (3, parse_obis("1-0:1.8.0.255"))


def _ctx(base: dict[str, bytes] | None = None) -> CosemContext:
    # the generic handlers use only the Tx; command and credentials are for protected data
    return CosemContext(Tx(NOW, base or {}), cast("object", None), cast("object", None))  # type: ignore[arg-type]


def _request(*items: tuple[apdu.AccessRequestSpecification, Data]) -> apdu.AccessRequestMessage:
    return apdu.AccessRequestMessage(
        0x20000001, b"", tuple(i[0] for i in items), tuple(i[1] for i in items)
    )


def test_every_esme_use_case_object_is_modelled() -> None:
    for uc in device_use_cases(Device.ESME):
        for row in objects_for(uc) or ():
            if row.class_id == 0:
                continue
            key = (row.class_id, row.obis)
            where = ESME_MODEL.methods if row.method else ESME_MODEL.attributes
            assert row.index in where.get(key, {}), f"{uc}: {row.ref}"
            assert key in EsmeMachine.OBJECTS, f"{uc}: {row.ref}"


def test_defaults_have_the_volume_type_and_shape() -> None:
    for attrs in ESME_MODEL.attributes.values():
        for attribute in attrs.values():
            value = default_value(attribute.row)
            axdr.decode_exact(axdr.encode(value))  # encodable
            check_value(attribute, value)  # and of its own shape


def test_date_times_default_to_not_specified_and_buffers_to_empty_compact_arrays() -> None:
    clock = ESME_MODEL.attributes[(8, parse_obis("0-0:1.0.0.255"))][2]
    assert default_value(clock.row) == OctetString(UNSPECIFIED_DATE_TIME)
    buffers = [
        a for (cls, _), attrs in ESME_MODEL.attributes.items() if cls == 7
        for i, a in attrs.items() if i == 2 and a.row.fields
    ]  # fmt: skip
    assert buffers
    for buffer in buffers:
        value = default_value(buffer.row)
        assert isinstance(value, CompactArray) and value.values == ()


def test_set_stores_in_nvm_and_get_reads_it_back() -> None:
    ctx = _ctx()
    value = OctetString(b"0800 123 4567")
    spec = apdu.AccessRequestSet(*CONTACT, 2)
    got = apdu.AccessRequestGet(*CONTACT, 2)
    answer = serve(EsmeMachine.OBJECTS, ctx, _request((spec, value), (got, NullData())))
    assert [r.result for r in answer.specifications] == [0, 0]
    assert answer.list_of_data[1] == value
    assert ctx.tx.writes[attribute_key(*CONTACT, 2)] == axdr.encode(value)


@pytest.mark.parametrize(
    ("obj", "attribute", "value", "result"),
    [
        (CONTACT, 2, LongUnsigned(1), DataAccessResult.TYPE_UNMATCHED),
        (CONTACT, 2, OctetString(b"x" * 19), DataAccessResult.TYPE_UNMATCHED),
        (REGISTER, 2, DoubleLongUnsigned(5), DataAccessResult.READ_WRITE_DENIED),
        ((1, parse_obis("9-9:9.9.9.9")), 2, NullData(), DataAccessResult.OBJECT_UNDEFINED),
    ],
)
def test_bad_sets_answer_their_result_and_store_nothing(
    obj: tuple[int, bytes], attribute: int, value: Data, result: int
) -> None:
    ctx = _ctx()
    spec = apdu.AccessRequestSet(*obj, attribute)
    answer = serve(EsmeMachine.OBJECTS, ctx, _request((spec, value)))
    assert answer.specifications[0].result == result
    assert not any(k.startswith("cosem/") for k in ctx.tx.writes)


def test_methods_without_state_effect_succeed_and_unknown_methods_do_not() -> None:
    ctx = _ctx()
    for (cls, obis), methods in ESME_MODEL.methods.items():
        if cls in (8, 9, 30, 112, 113, 115):
            continue  # clock, scripts, data protection, credit, charges and tokens have
            # behaviour (test_esme_prepayment.py)
        for index in methods:
            act = apdu.AccessRequestAction(cls, obis, index)
            answer = serve(EsmeMachine.OBJECTS, ctx, _request((act, NullData())))
            assert answer.specifications[0].result == ActionResult.SUCCESS
    act = apdu.AccessRequestAction(*REGISTER, 99)
    answer = serve(EsmeMachine.OBJECTS, ctx, _request((act, NullData())))
    assert answer.specifications[0].result == ActionResult.OBJECT_UNAVAILABLE


_ENTRY = TypeDescription(2, 0, (TypeDescription(6), TypeDescription(18)))


@given(st.lists(st.integers(0, 2**32 - 1), max_size=20), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1))  # fmt: skip
def test_range_selection_keeps_exactly_the_entries_in_the_window(
    stamps: list[int], low: int, high: int
) -> None:
    entries = tuple(Structure((DoubleLongUnsigned(t), LongUnsigned(1))) for t in stamps)
    buffer = CompactArray(_ENTRY, entries)
    chosen = select_range(buffer, DoubleLongUnsigned(low), DoubleLongUnsigned(high))
    assert isinstance(chosen, CompactArray) and chosen.description == _ENTRY
    assert [e.items[0].value for e in chosen.values] == [t for t in stamps if low <= t <= high]  # type: ignore[union-attr]
    plain = select_range(Array(entries), DoubleLongUnsigned(low), DoubleLongUnsigned(high))
    assert isinstance(plain, Array) and len(plain.items) == len(chosen.values)


def test_get_with_selection_on_a_profile_buffer_answers_a_compact_array() -> None:
    ctx = _ctx()
    obis = parse_obis("0-0:98.1.4.255")
    everything = (DoubleLongUnsigned(0), DoubleLongUnsigned(2**32 - 1))
    params = Structure((NullData(), *everything, Array(())))
    spec = apdu.AccessRequestGetWithSelection(7, obis, 2, 1, params)
    answer = serve(EsmeMachine.OBJECTS, ctx, _request((spec, NullData())))
    assert answer.specifications[0].result == 0
    assert isinstance(answer.list_of_data[0], CompactArray)
