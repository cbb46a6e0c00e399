"""CS08 and GCS38 payloads, and reading the firmware version out of their answers."""

from __future__ import annotations

import pytest

from smemu.hil.commands_han import (
    CURRENT_METER_ID,
    METERING_CLUSTER,
    cs08_payload,
    gbz_firmware_version,
    gcs38_payload,
)
from smemu.protocols import asn1, zigbee
from smemu.protocols.asn1 import ReadFirmwareVersionCommand
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.datatypes import AttributeValue
from smemu.protocols.zigbee.zcl import AttributeStatusRecord, ReadAttributes, ReadAttributesResponse


def test_cs08_is_the_asn1_null_command() -> None:
    assert cs08_payload() == b"\x05\x00"
    typed = asn1.decode_typed(cs08_payload(), message_code=0x0129, cra=1)
    assert isinstance(typed, ReadFirmwareVersionCommand)


def test_gcs38_follows_the_use_case_template() -> None:
    # GCS38 template: profile 0109, one component, control 01, Metering 0702, length 0005,
    # ZCL frame control 00, sequence 00, Read Attributes 00, attribute 0x0206 (little-endian)
    assert gcs38_payload() == bytes.fromhex("0109 01 01 0702 0005 00 00 00 0602")
    typed = zigbee.decode_typed(gcs38_payload(), alert=False)
    (component,) = typed.components
    assert component.cluster_id == METERING_CLUSTER
    assert component.command == ReadAttributes((CURRENT_METER_ID,))


def _response(status: int, value: bytes | None) -> bytes:
    record = AttributeStatusRecord(
        CURRENT_METER_ID, status, None if value is None else AttributeValue(0x41, value)
    )
    command = ReadAttributesResponse((record,))
    header = command.header(0, direction=1)
    component = gbz.GbzComponent(
        gbz.CONTROL_LAST, METERING_CLUSTER, header.frame_control, 0, header.command_id,
        command.encode(),
    )  # fmt: skip
    return gbz.encode(gbz.GbzMessage((component,)))


@pytest.mark.parametrize(
    ("status", "value", "expected"),
    [
        (0, b"\x01\x02\x03\x04", b"\x01\x02\x03\x04"),
        (0, b"\x04\x01\x02\x03\x04", b"\x01\x02\x03\x04"),  # the length octet kept in the value
        (0x86, None, None),  # unsupported attribute
    ],
)
def test_gcs38_answer_gives_the_version(
    status: int, value: bytes | None, expected: bytes | None
) -> None:
    typed = zigbee.decode_typed(_response(status, value), alert=False)
    assert gbz_firmware_version(typed) == expected
