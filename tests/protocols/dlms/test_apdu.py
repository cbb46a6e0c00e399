"""DLMS APDUs (GBCS ref. §7.2): annotated golden vectors, every RTDS payload, properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import (
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestGetWithSelection,
    AccessRequestMessage,
    AccessRequestSet,
    AccessResponseAction,
    AccessResponseGet,
    AccessResponseMessage,
    AccessResponseSet,
    ActionResult,
    DataAccessResult,
    DataNotificationMessage,
    DlmsMessage,
    format_obis,
    parse_obis,
)
from smemu.protocols.dlms.axdr import (
    Array,
    DateTime,
    DoubleLong,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from tests.protocols.dlms._payload import read_rtds
from tests.strategies.dlms import dlms_messages

NOW = bytes.fromhex("07DF0101FF000000008000FF")


def _roundtrip(wire: str) -> DlmsMessage:
    raw = bytes.fromhex(wire)
    message = apdu.decode_exact(raw)
    assert apdu.encode(message) == raw
    assert apdu.decode(raw + b"\x99") == (message, b"\x99")
    return message


def test_ecs42_access_request() -> None:
    # §5.1 bytes 48..68: D9 | invoke | no date-time | 1 spec: action 9/0-0:10.0.106.255/1 |
    # 1 datum: long-unsigned 51 (close the load switch)
    message = _roundtrip("D9 200003E8 00 01 03 0009 00000A006AFF 01 01 12 0033")
    assert message == AccessRequestMessage(
        0x200003E8,
        b"",
        (AccessRequestAction(9, bytes.fromhex("00000A006AFF"), 1),),
        (LongUnsigned(51),),
    )
    assert message.invoke_id == 1000
    assert format_obis(message.specifications[0].instance_id) == "0-0:10.0.106.255"


def test_ecs42_access_response() -> None:
    # §5.2: no request spec echo, 1 null datum, 1 action result success
    message = _roundtrip("DA 200003E8 00 00 01 00 01 03 00")
    assert message == AccessResponseMessage(
        0x200003E8, b"", (NullData(),), (AccessResponseAction(ActionResult.SUCCESS),)
    )
    error = _roundtrip("DA 200003E9 00 00 01 00 01 03 01")
    assert isinstance(error, AccessResponseMessage)
    assert error.specifications == (AccessResponseAction(ActionResult.HARDWARE_FAULT),)


def test_ecs52_access_response() -> None:
    # §5.3: firmware version octet-string(4), get result success
    message = _roundtrip("DA 200003E8 00 00 01 09 04 0123ABCD 01 01 00")
    assert isinstance(message, AccessResponseMessage)
    assert message.list_of_data == (OctetString(bytes.fromhex("0123ABCD")),)
    assert message.specifications == (AccessResponseGet(DataAccessResult.SUCCESS),)


def test_ecs80_data_notification() -> None:
    # §5.4: structure{alert code 8F36, alert timestamp, outage start, outage end}
    message = _roundtrip(
        "0F 200007D3 00 02 04 12 8F36 09 0C 07DF0101FF000000008000FF"
        " 09 0C 07DE0C1FFF173200008000FF 09 0C 07DE0C1FFF173B00008000FF"
    )
    assert isinstance(message, DataNotificationMessage)
    assert message.invoke_id == 2003
    body = message.body
    assert isinstance(body, Structure)
    code, stamp, start, end = body.items
    assert code == LongUnsigned(0x8F36)
    assert stamp == OctetString(NOW)
    assert isinstance(start, OctetString) and isinstance(end, OctetString)
    restored = DateTime.from_octets(end.value)
    assert (restored.year, restored.month, restored.day) == (2014, 12, 31)
    assert (restored.hour, restored.minute) == (23, 59)


def test_generic_critical_alert_dlms_form() -> None:
    # §5.5, NA_GCA-DLMS
    message = _roundtrip("0F 200007D0 00 02 02 12 8F30 09 0C 07DF0101FF000000008000FF")
    assert message == DataNotificationMessage(
        0x200007D0, b"", Structure((LongUnsigned(0x8F30), OctetString(NOW)))
    )


def test_ecs04b_three_credit_actions() -> None:
    # §4.7 GBCS §18.4 vector: action 112/0-0:19.10.{0,1,2}.255/2 with double-long 0 each
    message = _roundtrip(
        "D9 20000001 00 03"
        " 03 0070 0000130A00FF 02  03 0070 0000130A01FF 02  03 0070 0000130A02FF 02"
        " 03 05 00000000 05 00000000 05 00000000"
    )
    assert isinstance(message, AccessRequestMessage)
    assert [format_obis(s.instance_id) for s in message.specifications] == [
        "0-0:19.10.0.255",
        "0-0:19.10.1.255",
        "0-0:19.10.2.255",
    ]
    assert all(
        isinstance(s, AccessRequestAction) and (s.class_id, s.method_id) == (112, 2)
        for s in message.specifications
    )
    assert message.list_of_data == (DoubleLong(0),) * 3


def test_ecs12_set_and_its_response() -> None:
    # §4.7 second pair: set 1/0-0:94.44.3.2/2 := octet-string(12) date-time
    request = _roundtrip(
        "D9 20000002 00 01 02 0001 00005E2C0302 02 01 09 0C 07DF0105FF000000008000FF"
    )
    assert isinstance(request, AccessRequestMessage)
    assert request.specifications == (AccessRequestSet(1, parse_obis("0-0:94.44.3.2"), 2),)
    response = _roundtrip("DA 20000002 00 00 01 00 01 02 00")
    assert isinstance(response, AccessResponseMessage)
    assert response.specifications == (AccessResponseSet(0),)


def test_get_with_selection_range_descriptor() -> None:
    # §7.2 selective access: get-with-selection 7/0-0:98.1.4.255/2, selector 1, parameter
    # structure{restricting object, from, to, selected values = empty array}; list: null
    message = _roundtrip(
        "D9 200003E8 00 01"
        " 04 0007 0000620104FF 02 01"
        "   02 04 02 04 12 0001 09 06 00005E2C64FF 0F 02 12 0000"
        "         06 1C374A80 06 1C389C00 01 00"
        " 01 00"
    )
    assert isinstance(message, AccessRequestMessage)
    (spec,) = message.specifications
    assert isinstance(spec, AccessRequestGetWithSelection)
    assert (spec.class_id, format_obis(spec.instance_id), spec.attribute_id) == (
        7,
        "0-0:98.1.4.255",
        2,
    )
    assert spec.access_selector == 1
    assert spec.access_parameters == Structure(
        (
            Structure(
                (
                    LongUnsigned(1),
                    OctetString(parse_obis("0-0:94.44.100.255")),
                    Integer(2),
                    LongUnsigned(0),
                )
            ),
            DoubleLongUnsigned(0x1C374A80),
            DoubleLongUnsigned(0x1C389C00),
            Array(()),
        )
    )


def test_access_response_with_request_specification_echo() -> None:
    message = _roundtrip("DA 00000001 00 01 01 01 0003 0100010800FF 02 01 00 01 01 04")
    assert isinstance(message, AccessResponseMessage)
    assert message.request_specifications == (AccessRequestGet(3, parse_obis("1-0:1.8.0.255"), 2),)
    assert message.specifications == (AccessResponseGet(DataAccessResult.OBJECT_UNDEFINED),)


def test_date_time_field_is_kept() -> None:
    message = _roundtrip("0F 200007D0 0C 07DF0101FF000000008000FF 00")
    assert message == DataNotificationMessage(0x200007D0, NOW, NullData())


def test_obis_helpers() -> None:
    assert parse_obis("1-0:2.8.0.255") == bytes((1, 0, 2, 8, 0, 255))
    assert format_obis(bytes((0, 0, 94, 44, 100, 255))) == "0-0:94.44.100.255"
    with pytest.raises(ValueError, match="OBIS"):
        parse_obis("1.2.3")


@pytest.mark.parametrize(
    ("wire", "path", "offset", "reason"),
    [
        ("", "dlms", 0, "end of data"),
        ("C0 01", "dlms", 0, "got 0xC0"),
        ("D9 200003", "access_request", 0, "4-byte invoke id"),
        ("D9 200003E8 0C 07DF", "access_request.date_time", 6, "expected 12 date-time bytes"),
        (
            "D9 200003E8 00 01 07 0009 00000A006AFF 01 00",
            "access_request.specification[0]",
            7,
            "1..5",
        ),
        ("D9 200003E8 00 01 03 0009 00000A", "access_request.specification[0]", 7, "10-byte"),
        (
            "D9 200003E8 00 01 04 0007 0000620104FF 02",
            "access_request.specification[0].access_selector",
            17,
            "access selector",
        ),
        (
            "D9 200003E8 00 00 01 09 05 01",
            "access_request.list_of_data[0].octet_string",
            10,
            "5 bytes, got 1",
        ),
        ("D9 200003E8 00 00 05 00", "access_request.list_of_data", 8, "count 5"),
        ("DA 200003E8 00", "access_response.request_specification", 6, "presence flag"),
        ("DA 200003E8 00 02 00 00", "access_response.request_specification", 6, "0x02"),
        ("DA 200003E8 00 00 01 00 01 04 00", "access_response.specification[0]", 10, "1..3"),
        ("DA 200003E8 00 00 01 00 01 01", "access_response.specification[0]", 10, "2-byte"),
        ("0F 200007D0 00", "data_notification.body", 6, "end of data"),
        (
            "0F 200007D0 00 02 01 12 8F",
            "data_notification.body.structure[0].long_unsigned",
            9,
            "2 bytes, got 1",
        ),
        ("0F 200007D0 00 00 00", "dlms", 7, "1 trailing"),
    ],
)
def test_malformed_apdus_raise_decode_error_with_path(
    wire: str, path: str, offset: int, reason: str
) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        apdu.decode_exact(bytes.fromhex(wire))
    assert (info.value.path, info.value.offset) == (path, offset)


@pytest.mark.parametrize(
    "message",
    [
        AccessRequestMessage(1 << 32, b"", (), ()),
        AccessRequestMessage(0, b"", (AccessRequestGet(0x10000, bytes(6), 2),), ()),
        AccessRequestMessage(0, b"", (AccessRequestGet(1, bytes(5), 2),), ()),
        AccessRequestMessage(0, b"", (AccessRequestAction(1, bytes(6), 256),), ()),
        AccessResponseMessage(0, b"", (), (AccessResponseGet(256),)),
        DataNotificationMessage(0, b"", LongUnsigned(1 << 16)),
    ],
)
def test_unencodable_apdus_raise_local_protocol_error(message: DlmsMessage) -> None:
    with pytest.raises(LocalProtocolError):
        apdu.encode(message)


# ----------------------------------------------------------------------------- RTDS corpus


def test_every_rtds_dlms_payload_round_trips(rtds_dlms_file: Path) -> None:
    found = read_rtds(rtds_dlms_file)
    assert found.family == "dlms"
    message = apdu.decode_exact(found.payload)
    assert apdu.encode(message) == found.payload
    # facts of §7.2 the decoder did not use: the CRA flag picks the APDU, the invoke id is
    # 0x20 | the counter's low 24 bits, and one datum travels per specification
    expected = {1: AccessRequestMessage, 2: AccessResponseMessage, 3: DataNotificationMessage}
    assert type(message) is expected[found.cra]
    assert message.invoke_id_and_priority == 0x20000000 | (found.counter & 0xFFFFFF)
    if not isinstance(message, DataNotificationMessage):
        assert len(message.specifications) == len(message.list_of_data)
    else:
        assert isinstance(message.body, Structure)
        assert isinstance(message.body.items[0], LongUnsigned)  # the alert code


def test_rtds_ecs42_command_matches_the_walkthrough(rtds_dir: Path) -> None:
    found = read_rtds(rtds_dir / "7.1_ECS42" / "ECS42_7.1_SUCCESS_COMMAND_GBCS.HEX")
    assert (found.cra, found.message_code) == (1, 0x004F)
    message = apdu.decode_exact(found.payload)
    assert isinstance(message, AccessRequestMessage)
    assert message.specifications == (AccessRequestAction(9, parse_obis("0-0:10.0.106.255"), 1),)
    assert message.list_of_data == (LongUnsigned(51),)


@settings(deadline=1000)
@given(dlms_messages)
def test_decode_inverts_encode(message: DlmsMessage) -> None:
    raw = apdu.encode(message)
    assert apdu.decode_exact(raw) == message


@settings(deadline=500)
@given(st.sampled_from([b"\xd9", b"\xda", b"\x0f", b""]), st.binary(max_size=200))
def test_random_bytes_raise_only_decode_error(tag: bytes, data: bytes) -> None:
    try:
        message, rest = apdu.decode(tag + data)
    except DecodeError:
        return
    assert apdu.encode(message) + rest == tag + data


@pytest.fixture(scope="module")
def rtds_dlms_payloads(rtds_dir: Path) -> list[bytes]:
    payloads = [read_rtds(f) for f in sorted(rtds_dir.rglob("*.HEX"))]
    return sorted({p.payload for p in payloads if p.family == "dlms"})


@settings(deadline=1000, max_examples=300)
@given(st.data())
def test_mutated_rtds_payloads_raise_only_decode_error(
    rtds_dlms_payloads: list[bytes], data: st.DataObject
) -> None:
    raw = bytearray(data.draw(st.sampled_from(rtds_dlms_payloads)))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    mutated = bytes(raw[:cut])
    try:
        message, rest = apdu.decode(mutated)
    except DecodeError:
        return
    assert apdu.encode(message) + rest == mutated
