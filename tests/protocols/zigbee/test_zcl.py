"""Typed ZCL commands (ZCL r8, ZigBee SE 1.4): golden vectors, registry, properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee import calendar, metering, prepayment, price, zcl
from smemu.protocols.zigbee._fields import ZclDate, ZclRecord
from smemu.protocols.zigbee.common import UnitOfMeasure, scaled
from smemu.protocols.zigbee.datatypes import AttributeValue
from smemu.protocols.zigbee.registry import (
    CLUSTER_COMMANDS,
    GENERAL_COMMANDS,
    command_class,
    decode_command,
)
from smemu.protocols.zigbee.zcl import (
    AttributeStatusRecord,
    DefaultResponse,
    ReadAttributes,
    ReadAttributesResponse,
    ZclHeader,
    ZclStatus,
)
from tests.strategies.zigbee import ALL_COMMAND_CLASSES, attribute_values, zcl_records


def _golden(record: type[ZclRecord], wire: str, expected: ZclRecord) -> None:
    raw = bytes.fromhex(wire)
    assert record.decode_exact(raw) == expected
    assert expected.encode() == raw
    assert expected.undecoded_bytes == 0
    json.dumps(expected.to_json())


def test_publish_block_thresholds_gcs01a() -> None:
    # GBCS ref. §10.2 item 7: tier 0 with 3 thresholds 1000000, 2000000, 3000000 (UINT48 LE)
    _golden(
        price.PublishBlockThresholds,
        "00000000 804a371c feffffff 01000000 00 01 01 03"
        "40420f000000 80841e000000 c0c62d000000",
        price.PublishBlockThresholds(
            0,
            0x1C374A80,
            0xFFFFFFFE,
            1,
            0,
            1,
            1,
            (price.BlockThresholdSet(0x03, (1_000_000, 2_000_000, 3_000_000)),),
        ),
    )


def test_publish_tariff_information_renders_currency_and_decimals() -> None:
    message = price.PublishTariffInformation(
        0, 0x1C374A80, 1, 0, 0x10, b"", 0, 3, UnitOfMeasure.M3, 826, 0x50, 54794, 0xFF, 1, 1000
    )
    _golden(
        price.PublishTariffInformation,
        "00000000 804a371c 01000000 00000000 10 00 00 03 01 3a03 50 0ad60000 ff 010000 e80300",
        message,
    )
    rendered = message.to_json()
    assert rendered["currency"] == "GBP (826)"
    assert rendered["unit_of_measure"] == "m3"
    assert rendered["start_time"] == "now"
    assert rendered["price_trailing_digit"]["decimal_places"] == 5
    assert rendered["standing_charge_readable"] == "0.54794"


def test_publish_price_without_and_with_optional_tail() -> None:
    head = "00000000 00 804a371c 804a371c 01 3a03 51 41 00000000 a005 80250000"
    short = price.PublishPrice(0, b"", 0x1C374A80, 0x1C374A80, 1, 826, 0x51, 0x41, 0, 1440, 9600)
    _golden(price.PublishPrice, head, short)
    assert short.to_json()["price_readable"] == "0.09600"
    assert short.to_json()["current_time"] == "2015-01-01T00:00:00Z"
    longer = price.PublishPrice.decode_exact(bytes.fromhex(head + "ff" + "00" * 18))
    assert longer.price_ratio == 0xFF
    assert longer.extended_register_tier == 0
    with pytest.raises(DecodeError) as info:
        price.PublishPrice.decode_exact(bytes.fromhex(head + "ff 0000"))
    assert info.value.path == "generation_price"


def test_publish_snapshot_block_tier_no_billing() -> None:
    payload = (
        "0c000000 006c0e1c 02 00 01 08000000 06 900000000000 04"
        + "6c0000000000 ea0000000000 840000000000 840000000000 14"
        + "4a0000000000 300000000000 b10000000000 b30000000000"
    )
    snapshot = metering.PublishSnapshot.decode_exact(bytes.fromhex(payload))
    body = snapshot.snapshot_payload
    assert isinstance(body, metering.BlockTierNoBilling)
    assert body.tier_summations == (0x6C, 0xEA, 0x84, 0x84)
    assert body.tier_block_summations == (0x4A, 0x30, 0xB1, 0xB3)
    assert snapshot.to_json()["snapshot_payload_type"] == "block_tier_delivered_no_billing"
    assert snapshot.encode() == bytes.fromhex(payload)


def test_publish_snapshot_unknown_type_keeps_raw_bytes_as_undecoded() -> None:
    snapshot = metering.PublishSnapshot.decode_exact(
        bytes.fromhex("00000000 00000000 01 00 01 00000000 44 abcdef")
    )
    assert snapshot.snapshot_payload == b"\xab\xcd\xef"
    assert snapshot.undecoded_bytes == 3


def test_switch_payload_must_match_its_selector() -> None:
    body = metering.TouNoBilling(1, (2,))
    with pytest.raises(LocalProtocolError, match="does not match"):
        metering.PublishSnapshot(0, 0, 1, 0, 1, 0, 6, body).encode()


def test_consumer_top_up_cs01b() -> None:
    # GBCS ref. §6: originating device 02, octet string of the 20-digit UTRN
    utrn = b"73394165688095080448"
    _golden(
        prepayment.ConsumerTopUp,
        "02 14" + utrn.hex(),
        prepayment.ConsumerTopUp(prepayment.OriginatingDevice.IN_HOME_DISPLAY, utrn),
    )


def test_publish_seasons_dates() -> None:
    message = calendar.PublishSeasons.decode_exact(
        bytes.fromhex("00000000 804a371c 804a371c 00 01 ff0314ff 01 73031dff 02")
    )
    assert message.seasons == (
        calendar.SeasonEntry(ZclDate(0xFF, 3, 20, 0xFF), 1),
        calendar.SeasonEntry(ZclDate(115, 3, 29, 0xFF), 2),
    )
    assert [s["season_start_date"] for s in message.to_json()["seasons"]] == [
        "*-03-20",
        "2015-03-29",
    ]


def test_read_attributes_response_values_and_statuses() -> None:
    wire = "0400 c0 0500 00 42 08 3132333435363738"
    message = ReadAttributesResponse.decode_exact(bytes.fromhex(wire))
    assert message.records == (
        AttributeStatusRecord(0x0004, ZclStatus.HARDWARE_FAILURE),
        AttributeStatusRecord(0x0005, 0, AttributeValue(0x42, b"12345678")),
    )
    assert message.encode() == bytes.fromhex(wire)
    rendered = message.to_json()["records"]
    assert rendered[0]["status"] == "hardware_failure"
    assert rendered[1]["value"] == {"type": "character_string", "value": "12345678"}


def test_attribute_status_record_refuses_value_with_failure_status() -> None:
    with pytest.raises(LocalProtocolError):
        AttributeStatusRecord(1, 0x86, AttributeValue(0x20, 1)).encode()


@pytest.mark.parametrize(
    ("wire", "value", "rendered"),
    [
        ("25 a08601000000", 100000, 100000),
        ("2b c0b4b3ff", -5000000, -5000000),
        ("e2 804a371c", 0x1C374A80, "2015-01-01T00:00:00Z"),
        ("18 05", 5, "0x05"),
        ("39 0000803f", 0x3F800000, 1.0),
        ("e1 73051fff", ZclDate(115, 5, 31, 0xFF), "2015-05-31"),
        ("48 20 0200 0102", (0x20, 1, 2), [1, 2]),
    ],
)
def test_attribute_value_types(wire: str, value: object, rendered: object) -> None:
    raw = bytes.fromhex("0000 00" + wire)
    (record,) = ReadAttributesResponse.decode_exact(raw).records
    assert record.value is not None
    assert record.value.value == value
    assert record.value.to_json()["value"] == rendered
    assert ReadAttributesResponse((record,)).encode() == raw


def test_header_round_trip_and_properties() -> None:
    header, rest = ZclHeader.decode(bytes.fromhex("1d 3412 07 00 ee"))
    assert header == ZclHeader(0x1D, 7, 0, 0x1234)
    assert (header.frame_type, header.direction, header.disable_default_response) == (1, 1, True)
    assert rest == b"\xee"
    assert header.encode() == bytes.fromhex("1d 3412 07 00")
    with pytest.raises(LocalProtocolError):
        ZclHeader(0x04, 0, 0).encode()
    with pytest.raises(DecodeError):
        ZclHeader.decode(b"\x04\x00\x00")


def test_builder_headers_follow_the_command_class() -> None:
    assert price.PublishPriceMatrix(0, 0, 0, 0, 0, 1, 0, ()).header(3).frame_control == 0x09
    assert metering.GetSnapshot(0, 0, 0, 0).header(0).frame_control == 0x01
    assert DefaultResponse(5, 0).header(0, direction=1).frame_control == 0x08
    got = ReadAttributes((0,)).header(1, disable_default_response=True)
    assert got == ZclHeader(0x10, 1, 0x00)


def test_registry_keys_agree_with_the_classes() -> None:
    for (cluster, direction, command_id), record in CLUSTER_COMMANDS.items():
        assert (
            cluster,
            direction,
            command_id,
        ) == (record.CLUSTER_ID, record.DIRECTION, record.COMMAND_ID)
    for command_id, record in GENERAL_COMMANDS.items():
        assert (None, None, command_id) == (record.CLUSTER_ID, record.DIRECTION, record.COMMAND_ID)
    assert len(set(CLUSTER_COMMANDS.values())) == len(CLUSTER_COMMANDS)


def test_unknown_commands_stay_raw_and_count_as_undecoded() -> None:
    header = ZclHeader(0x09, 0, 0x7F)
    assert command_class(0x0702, header) is None
    command = decode_command(0x0702, header, b"\x01\x02")
    assert isinstance(command, zcl.RawCommand)
    assert command.undecoded_bytes == 2


def test_scaled() -> None:
    assert scaled(9600, 0x50) == "0.09600"
    assert scaled(-5, 0x20) == "-0.05"
    assert scaled(12, 0x00) == "12"


@settings(max_examples=400)
@given(st.sampled_from(ALL_COMMAND_CLASSES).flatmap(zcl_records))
def test_every_command_decode_inverts_encode(command: zcl.ZclCommand) -> None:
    raw = command.encode()
    assert type(command).decode_exact(raw) == command
    assert command.undecoded_bytes == 0 or isinstance(command, zcl.RawCommand)
    json.dumps(command.to_json())


@given(attribute_values())
def test_attribute_values_round_trip(value: AttributeValue) -> None:
    message = zcl.WriteAttributes((zcl.AttributeRecord(0x0102, value),))
    assert zcl.WriteAttributes.decode_exact(message.encode()) == message
    json.dumps(message.to_json())


@settings(max_examples=400)
@given(st.sampled_from(ALL_COMMAND_CLASSES), st.binary(max_size=60))
def test_random_bytes_raise_only_decode_error(
    record: type[zcl.ZclCommand], data: bytes
) -> None:
    try:
        command = record.decode_exact(data)
    except DecodeError:
        return
    assert command.encode() == data
