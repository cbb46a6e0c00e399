"""The per-use-case COSEM object table: coverage, request checks, typed responses, builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.protocols.dlms import apdu, axdr, views
from smemu.protocols.dlms.answers import object_view
from smemu.protocols.dlms.data import NullData
from smemu.protocols.dlms.objects import NO_OBJECTS, USE_CASE_OBJECTS, objects_for
from smemu.protocols.dlms.shapes import shape_of
from smemu.protocols.dlms.views import DlmsPayload
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.payload import decode_payload, dlms_use_case
from smemu.protocols.gbcs.use_case_types import PayloadFamily
from smemu.protocols.gbcs.use_cases import USE_CASES
from smemu.protocols.security.keystore import DirectoryKeyStore, KeyStore
from smemu.protocols.text import parse_message_text
from tests.strategies import dlms as dlms_st

_DLMS_IDS = sorted(u.id for u in USE_CASES.values() if PayloadFamily.DLMS in u.families)


@pytest.mark.parametrize("use_case", _DLMS_IDS)
def test_every_dlms_use_case_has_objects_or_a_reason(use_case: str) -> None:
    listed = use_case in USE_CASE_OBJECTS
    reason = NO_OBJECTS.get(use_case)
    assert listed != (reason is not None), f"{use_case}: list it, or say why it needs none"
    if listed:
        assert USE_CASE_OBJECTS[use_case]


def test_table_has_no_unknown_use_cases() -> None:
    assert set(USE_CASE_OBJECTS) <= set(_DLMS_IDS)
    assert set(NO_OBJECTS) <= set(_DLMS_IDS)


def test_every_object_with_fields_has_a_shape() -> None:
    for use_case, objects in USE_CASE_OBJECTS.items():
        for obj in objects:
            if obj.fields:
                assert shape_of(obj.fields) is not None, f"{use_case} {obj.ref}"


_SHAPED = sorted(
    {obj for objs in USE_CASE_OBJECTS.values() for obj in objs if shape_of(obj.fields)},
    key=lambda obj: obj.ref,
)


@given(st.sampled_from(_SHAPED).flatmap(
    lambda obj: st.tuples(st.just(obj), dlms_st.shaped_values(shape_of(obj.fields)))  # type: ignore[arg-type]
))  # fmt: skip
def test_object_view_build_then_read_is_identity(case: tuple[Any, axdr.Data]) -> None:
    obj, value = case
    spec = object_view(obj)
    assert spec is not None
    if spec.name not in ("record", "profile", "list", "alert"):
        return  # class-keyed views have their own round trip test
    typed = views.read(spec, value)
    assert views.build(spec, typed) == value
    assert views.read(spec, axdr.decode_exact(axdr.encode(views.build(spec, typed)))) == typed
    json.dumps(spec.show(typed))


def _get(class_id: int, obis: bytes, attribute: int) -> apdu.AccessRequestGet:
    return apdu.AccessRequestGet(class_id, obis, attribute)


def test_request_mismatch_is_a_note_not_an_error() -> None:
    (limiter, *_) = [o for o in USE_CASE_OBJECTS["ECS27"] if o.class_id == 71]
    good = apdu.AccessRequestMessage(
        0x20000001, b"", (_get(71, limiter.obis, 4),), (NullData(),)
    )
    raw = apdu.encode(good)
    assert DlmsPayload.decode(raw, use_case="ECS27").notes == ()
    bad = apdu.AccessRequestMessage(
        0x20000001, b"", (_get(3, bytes((1, 0, 1, 8, 0, 255)), 2),), (NullData(),)
    )
    payload = DlmsPayload.decode(apdu.encode(bad), use_case="ECS27")
    assert payload.notes and "not defined by the use case" in payload.notes[0]
    assert payload.encode() == apdu.encode(bad)


@pytest.fixture(scope="module")
def rtds_keys(keystore_dir: Path) -> KeyStore:
    return DirectoryKeyStore.load(keystore_dir)


def test_reference_items_are_typed_by_their_use_case(
    rtds_dlms_file: Path, rtds_keys: KeyStore
) -> None:
    (blob,) = parse_message_text(rtds_dlms_file.read_text())
    located = frame.locate(blob)
    inner = frame.signing_message(located.message)
    assert inner is not None
    _, plaintexts = decrypt_payload(located, rtds_keys)
    header = inner.header
    payload = decode_payload(
        inner.payload, message_code=header.message_code, cra=header.cra, plaintexts=plaintexts
    )
    assert isinstance(payload, DlmsPayload)
    assert payload.undecoded_bytes == 0
    assert payload.encode() == inner.payload
    json.dumps(payload.to_json())
    objects = objects_for(payload.use_case)
    if objects is None:
        assert dlms_use_case(header.message_code) is None
        return
    for item in payload.items:
        assert item.view_error is None, item.view_error
        if item.answers is None or isinstance(item.value, NullData):
            continue
        obj = next(o for o in objects if o.ref == item.answers)
        if object_view(obj) is not None:
            assert item.view is not None, f"{item.answers} not typed"
    if isinstance(payload.message, apdu.AccessRequestMessage):
        assert payload.notes == (), payload.notes


def test_register_collection_shows_scaled_units(rtds_dir: Path, rtds_keys: KeyStore) -> None:
    path = next(rtds_dir.glob("4.1.1_ECS17b/*SUCCESS_RESPONSE_GBCS.HEX"))
    (blob,) = parse_message_text(path.read_text())
    located = frame.locate(blob)
    inner = frame.signing_message(located.message)
    assert inner is not None
    _, plaintexts = decrypt_payload(located, rtds_keys)
    payload = decode_payload(
        inner.payload, message_code=0x0027, cra=inner.header.cra, plaintexts=plaintexts
    )
    shown = json.dumps(payload.to_json())
    assert '"active_import": "' in shown and 'Wh"' in shown
