"""GBZ comparison field by field: the device's own fields may differ, statuses and types never."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from smemu.hil.compare import compare_responses
from smemu.hil.compare_rules import RULES
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import GeneralSigningMessage, MacProtectedMessage
from smemu.protocols.text import parse_message_text
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.datatypes import AttributeValue
from smemu.protocols.zigbee.zcl import AttributeStatusRecord, ReadAttributesResponse

#: Basic cluster ManufacturerName, Metering SupplyTamperState (GCS21m reads both)
_MANUFACTURER = (0x0000, 0x0004)
_TAMPER = (0x0702, 0x0607)
Edit = Callable[[AttributeStatusRecord], AttributeStatusRecord]


@pytest.fixture
def gcs21m(rtds_dir: Path) -> bytes:
    path = next(rtds_dir.glob("*_GCS21m/*_SUCCESS_RESPONSE_GBCS.HEX"))
    return parse_message_text(path.read_text())[0]


def _edit(data: bytes, target: tuple[int, int], edit: Edit) -> bytes:
    """``data`` with the read record of (cluster, attribute) ``target`` replaced by ``edit``."""
    located = frame.locate(data).message
    inner = frame.signing_message(located)
    assert isinstance(inner, GeneralSigningMessage)
    message = gbz.decode_exact(inner.payload)
    components = list(message.components)
    hits = 0
    for i, component in enumerate(components):
        if component.cluster_id != target[0] or component.command_id != 0x01:
            continue
        read = ReadAttributesResponse.decode_exact(component.payload)
        records = tuple(edit(r) if r.attribute_id == target[1] else r for r in read.records)
        hits += sum(r.attribute_id == target[1] for r in read.records)
        components[i] = replace(component, payload=replace(read, records=records).encode())
    assert hits == 1, "the reference no longer reads this attribute"
    payload = gbz.encode(replace(message, components=tuple(components)))
    changed = replace(inner, payload=payload)
    if isinstance(located, MacProtectedMessage):
        return replace(located, inner=changed).encode()
    return changed.encode()


def _value(record: AttributeStatusRecord, value: object) -> AttributeStatusRecord:
    assert record.value is not None
    return replace(record, value=AttributeValue(record.value.data_type, value))  # type: ignore[arg-type]


def test_a_constant_of_manufacture_may_differ(gcs21m: bytes) -> None:
    actual = _edit(gcs21m, _MANUFACTURER, lambda r: _value(r, b"other maker"))
    result = compare_responses(gcs21m, actual)
    assert result.passed, result.first_difference
    paths = [d.path for d in result.tolerated]
    assert "gbz.components[0].read_attributes_response.manufacturer_name" in paths


def test_configuration_data_must_equal(gcs21m: bytes) -> None:
    # SupplyTamperState is Configuration data in GCS21m: no rule lets it differ
    actual = _edit(gcs21m, _TAMPER, lambda r: _value(r, 0x7F))
    result = compare_responses(gcs21m, actual)
    assert not result.passed
    first = result.first_difference
    assert first is not None
    assert first.path.endswith("read_attributes_response.supply_tamper_state")


def test_a_rule_cannot_hide_a_status_difference(gcs21m: bytes) -> None:
    # the manufacturer name's value may differ, but not its status: an UNSUPPORTED_ATTRIBUTE
    # (0x86) where the reference read it successfully fails
    actual = _edit(gcs21m, _MANUFACTURER, lambda r: replace(r, status=0x86, value=None))
    result = compare_responses(gcs21m, actual)
    assert not result.passed
    first = result.first_difference
    assert first is not None
    assert first.path.endswith("manufacturer_name.status")
    assert (first.expected, first.actual) == ("0", "134")
    # the same the other way round: the reference's failure status may not become success
    failed = _edit(gcs21m, _MANUFACTURER, lambda r: replace(r, status=0xC0, value=None))
    assert not compare_responses(failed, gcs21m).passed


def test_a_rule_cannot_hide_a_type_difference(gcs21m: bytes) -> None:
    def retype(record: AttributeStatusRecord) -> AttributeStatusRecord:
        return replace(record, value=AttributeValue(0x41, b"1234"))  # octet string

    result = compare_responses(gcs21m, _edit(gcs21m, _MANUFACTURER, retype))
    assert not result.passed
    first = result.first_difference
    assert first is not None
    assert first.path.endswith("manufacturer_name.type")
    assert first.what == "type"


def test_gbz_rules_name_fields_never_the_whole_payload() -> None:
    for rule in RULES:
        if rule.family != "gbz":
            continue
        assert rule.path not in ("gbz.*", "gbz*"), rule
        assert not rule.path.endswith(("zcl_payload", "plaintext", ".*.*")), rule


def test_a_gbz_read_is_preceded_by_the_sets_configuring_command(rtds_dir: Path) -> None:
    from smemu.hil.conformance import discover, read_vector
    from smemu.hil.preconditions_state import CONFIGURED_BY, WriteIndex

    index = WriteIndex()
    for suite in discover(rtds_dir, pattern="GCS05"):
        for scenario in suite.scenarios:
            assert scenario.input is not None and scenario.response is not None
            command, response = read_vector(scenario.input), read_vector(scenario.response)
            index.add("gsme", scenario.id, command, response)
    gcs03 = next(rtds_dir.glob("*_GCS03/*_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX"))
    command = read_vector(gcs03)
    setups = index.setup_for("gsme", "GCS03", command)
    # only the immediate, all-success GCS05 qualifies (not the future-dated or failed ones)
    assert [w.key for w in setups] == ["2.1_GCS05/GCS05_2.1_IMMEDIATE_SUCCESS"]
    assert setups[0].message_code == 0x006F and 0x006F in CONFIGURED_BY[0x006D]
    # only when the set holds it for that device
    assert index.setup_for("gpf", "GCS03", command) == ()
    # a configuring command is never its own setup, and a use case nothing configures has none
    assert index.setup_for("gsme", setups[0].key, command) == ()
    gcs05 = read_vector(next(rtds_dir.glob("*_GCS05/*_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX")))
    assert index.setup_for("gsme", "other", gcs05) == ()
