"""Response comparison: the reference corpus against itself, and mutations that fail or pass."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from smemu.hil.compare import Substitutions, compare_responses
from smemu.hil.compare_rules import RULES, Allow
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.axdr import DoubleLong, DoubleLongUnsigned, Structure
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GeneralSigningMessage, MacProtectedMessage
from smemu.protocols.security.keystore import DirectoryKeyStore
from smemu.protocols.text import parse_message_text


def _read(path: Path) -> bytes:
    return parse_message_text(path.read_text())[0]


def _answers(rtds_dir: Path) -> list[Path]:
    files = rtds_dir.rglob("*.HEX")
    return sorted(p for p in files if "_RESPONSE_" in p.name or "_ALERT_" in p.name)


def _with_inner(data: bytes, inner: GeneralSigningMessage) -> bytes:
    # Re-encode with a changed grouping header or payload; security is not compare's concern.
    message = frame.locate(data).message
    if isinstance(message, MacProtectedMessage):
        return replace(message, inner=inner).encode()
    return inner.encode()


def _inner(data: bytes) -> GeneralSigningMessage:
    inner = frame.signing_message(frame.locate(data).message)
    assert inner is not None
    return inner


def test_every_reference_answer_equals_itself(rtds_dir: Path, keystore_dir: Path) -> None:
    keys = DirectoryKeyStore.load(keystore_dir)
    files = _answers(rtds_dir)
    failed = []
    for path in files:
        data = _read(path)
        result = compare_responses(data, data, expected_keys=keys, actual_keys=keys)
        if not result.passed:
            failed.append((path.name, str(result.first_difference)))
    assert not failed, failed[:5]
    assert len(files) > 400


@pytest.fixture
def ecs70(rtds_dir: Path) -> bytes:
    return _read(next(rtds_dir.glob("*_ECS70Commission/*_SUCCESS_RESPONSE_GBCS.HEX")))


def _mutate_dlms(data: bytes, **changes: object) -> bytes:
    inner = _inner(data)
    message = apdu.decode_exact(inner.payload)
    payload = apdu.encode(replace(message, **changes))  # type: ignore[type-var]
    return _with_inner(data, replace(inner, payload=payload))


def test_flipped_result_code_fails_at_the_result(ecs70: bytes) -> None:
    message = apdu.decode_exact(_inner(ecs70).payload)
    assert isinstance(message, apdu.AccessResponseMessage)
    specs = list(message.specifications)
    specs[1] = apdu.AccessResponseAction(1)
    result = compare_responses(ecs70, _mutate_dlms(ecs70, specifications=tuple(specs)))
    assert not result.passed
    first = result.first_difference
    assert first is not None
    assert first.path == "dlms.access_response.specifications[1].result"
    assert (first.expected, first.actual) == ("0", "1")


def test_changed_type_fails_with_both_types(rtds_dir: Path) -> None:
    data = _read(next(rtds_dir.glob("*_ECS17a/*SUCCESS_RESPONSE_GBCS.HEX")))
    message = apdu.decode_exact(_inner(data).payload)
    assert isinstance(message, apdu.AccessResponseMessage)
    items = list(message.list_of_data)
    value = items[0]
    assert isinstance(value, DoubleLongUnsigned)
    items[0] = DoubleLong(value.value)
    result = compare_responses(data, _mutate_dlms(data, list_of_data=tuple(items)))
    first = result.first_difference
    assert first is not None and first.what == "type"
    assert first.path == "dlms.access_response.list_of_data[0]"
    assert (first.expected, first.actual) == ("double-long-unsigned", "double-long")


def test_readings_may_differ_but_not_in_a_write_response(rtds_dir: Path) -> None:
    data = _read(next(rtds_dir.glob("*_ECS17a/*SUCCESS_RESPONSE_GBCS.HEX")))
    message = apdu.decode_exact(_inner(data).payload)
    assert isinstance(message, apdu.AccessResponseMessage)
    items = list(message.list_of_data)
    items[0] = DoubleLongUnsigned(123456)
    result = compare_responses(data, _mutate_dlms(data, list_of_data=tuple(items)))
    assert result.passed
    assert any("meter's own" in t.reason for t in result.tolerated)


def test_removed_element_fails_at_its_structure(rtds_dir: Path) -> None:
    data = _read(next(rtds_dir.glob("*_ECS17a/*SUCCESS_RESPONSE_GBCS.HEX")))
    message = apdu.decode_exact(_inner(data).payload)
    assert isinstance(message, apdu.AccessResponseMessage)
    items = list(message.list_of_data)
    scaler_unit = items[1]
    assert isinstance(scaler_unit, Structure)
    items[1] = Structure(scaler_unit.items[:1])
    result = compare_responses(data, _mutate_dlms(data, list_of_data=tuple(items)))
    first = result.first_difference
    assert first is not None and first.what == "length"
    assert first.path == "dlms.access_response.list_of_data[1].count"


def test_changed_timestamp_and_counter_pass(rtds_dir: Path) -> None:
    data = _read(next(rtds_dir.glob("*_ECS17b/*SINGLE_SUCCESS_RESPONSE_GBCS.HEX")))
    inner = _inner(data)
    assert inner.header.date_time is not None
    header = replace(
        inner.header,
        date_time=bytes.fromhex("07E80203FF0A0B0C008000FF"),
        originator_counter=inner.header.originator_counter + 99,
    )
    result = compare_responses(data, _with_inner(data, replace(inner, header=header)))
    assert result.passed, result.first_difference
    assert {t.path for t in result.tolerated} >= {"header.date_time", "header.counter"}


def test_alert_timestamp_passes_but_alert_code_fails(rtds_dir: Path) -> None:
    data = _read(next(rtds_dir.glob("*_GCA-DLMS/*.HEX")))
    inner = _inner(data)
    message = apdu.decode_exact(inner.payload)
    assert isinstance(message, apdu.DataNotificationMessage)
    body = message.body
    assert isinstance(body, Structure)
    code, stamp, *rest = body.items
    later = type(stamp)(bytes.fromhex("07E80203FF0A0B0C008000FF"))  # type: ignore[call-arg]
    moved = _mutate_dlms(data, body=Structure((code, later, *rest)))
    assert compare_responses(data, moved).passed
    recoded = _mutate_dlms(data, body=Structure((type(code)(0x8F31), stamp, *rest)))  # type: ignore[call-arg]
    first = compare_responses(data, recoded).first_difference
    assert first is not None and first.path == "dlms.data_notification.body.structure[0]"


def test_substitutions_let_replayed_identities_through(rtds_dir: Path) -> None:
    data = _read(next(rtds_dir.glob("*_ECS52/*_SUCCESS_RESPONSE_GBCS.HEX")))
    inner = _inner(data)
    dut = bytes.fromhex("0011223344556677")
    moved = _with_inner(data, replace(inner, header=replace(inner.header, originator=dut)))
    failing = compare_responses(data, moved).first_difference
    assert failing is not None and failing.path == "header.originator"
    subs = Substitutions(euis={bytes(inner.header.originator): dut})
    assert compare_responses(data, moved, substitutions=subs).passed


def test_gbz_and_asn1_structure_differences_fail(rtds_dir: Path) -> None:
    gbz_data = _read(next(rtds_dir.glob("*_GCS38/*_SUCCESS_RESPONSE_GBCS.HEX")))
    inner = _inner(gbz_data)
    changed = bytearray(inner.payload)
    changed[4] ^= 0x01  # the first component's cluster id (low byte)
    first = compare_responses(
        gbz_data, _with_inner(gbz_data, replace(inner, payload=bytes(changed)))
    ).first_difference
    assert first is not None and first.path == "gbz.components[0].cluster_id"
    asn1 = _read(next(rtds_dir.glob("*_CS04ACCritical/*SUCCESS_RESPONSE_GBCS.HEX")))
    inner = _inner(asn1)
    assert inner.payload[:1] == b"\x02"  # INTEGER result
    enumerated = b"\x0a" + inner.payload[1:]
    first = compare_responses(
        asn1, _with_inner(asn1, replace(inner, payload=enumerated))
    ).first_difference
    assert first is not None and first.path == "asn1[0].type"
    assert (first.expected, first.actual) == ("INTEGER", "ENUMERATED")


def test_the_rules_table_is_reviewed() -> None:
    families = {"header", "dlms", "gbz", "asn1"}
    for rule in RULES:
        assert rule.family in families and rule.reason and rule.path.startswith(rule.family)
        assert rule.allow in set(Allow)
