"""GBZ payloads (GBCS ref. §7.7, §7.9): golden vectors, every RTDS payload, properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee import gbz
from smemu.protocols.zigbee.gbz import GbzAlert, GbzComponent, GbzEncryption, GbzMessage
from tests.protocols.dlms._payload import read_rtds
from tests.strategies.zigbee import gbz_alerts, gbz_components, gbz_messages

EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)
TAG = bytes.fromhex("bb" * 12)
BLOCK = bytes.fromhex("31 00000000 aa") + TAG


def _roundtrip(wire: str, *, alert: bool = False) -> GbzMessage:
    raw = bytes.fromhex(wire)
    message = gbz.decode_exact(raw, alert=alert)
    assert gbz.encode(message) == raw
    return message


def test_generic_critical_alert() -> None:
    # §5.5: profile 0109, 0 components, alert 8F30, timestamp 2015-01-01 (big-endian)
    message = _roundtrip("0109 00 8F30 1C374A80", alert=True)
    assert message == GbzMessage((), GbzAlert(0x8F30, 0x1C374A80))
    assert message.alert is not None
    assert EPOCH_2000 + timedelta(seconds=message.alert.timestamp) == datetime(
        2015, 1, 1, tzinfo=UTC
    )
    assert message.component_count == 0


def test_future_dated_alert_keeps_its_alert_specific_part() -> None:
    # §7.9 8F66 layout: 0E | message code 0019 | counter 1000 | cluster 0700 | fc 09 |
    # command 05 (a hand-made Publish Price Matrix outcome)
    message = _roundtrip("0109 01 8F66 1C374A80 0E 0019 00000000000003E8 0700 09 05", alert=True)
    assert message.components == ()
    assert message.alert == GbzAlert(
        0x8F66, 0x1C374A80, bytes.fromhex("0E001900000000000003E807000905"), 1
    )
    assert message.component_count == 1


def test_default_response_component() -> None:
    # 1 component, last, Metering, 5 bytes: fc 08 seq 00 Default Response (to command
    # 0x07 Start Sampling, status SUCCESS)
    message = _roundtrip("0109 01  01 0702 0005  08 00 0B  07 00")
    assert message == GbzMessage((GbzComponent(0x01, 0x0702, 0x08, 0, 0x0B, b"\x07\x00"),))
    assert message.components[0].is_last
    assert not message.components[0].is_encrypted


def test_from_date_time_component() -> None:
    # control 0x10 (GCS05 style): Set Low Credit Warning Level 1000 (LE), From Date Time =
    # cancel; the command length counts the 4 date bytes
    message = _roundtrip("0109 01  10 0705 000B  FFFFFFFF  01 02 09  E8030000")
    (component,) = message.components
    assert component.from_date_time == 0xFFFFFFFF
    assert (component.frame_control, component.sequence, component.command_id) == (1, 2, 9)
    assert int.from_bytes(component.payload, "little") == 1000
    assert not component.is_last


def test_encrypted_component() -> None:
    # control 0x03 (last, encrypted), Metering, length 0x19: additional header 00 00,
    # ZCL 18 00 01 (Read Attributes Response), ciphered length 0x12, block 31|IC|ct|tag
    message = _roundtrip(f"0109 01  03 0702 0019  00 00  18 00 01  0012 {BLOCK.hex()}")
    (component,) = message.components
    assert component == GbzComponent(
        0x03, 0x0702, 0x18, 0, 0x01, b"", None, None, GbzEncryption(0, 0, BLOCK)
    )
    assert gbz.encrypted_components(message) == (0,)
    plain = gbz.with_plaintext(message, 0, b"\x00\x00\x00\x25\x10\x00\x00\x00\x00\x00")
    assert gbz.encode(plain) == bytes.fromhex(
        "0109 01  01 0702 000D  18 00 01  0000 00 25 100000000000"
    )
    assert gbz.encrypted_components(plain) == ()


def test_billing_data_log_alert_carries_an_encrypted_component() -> None:
    # GCS53 (8F0A): the use-case-specific part is one encrypted PublishSnapshot component
    wire = f"0109 01 8F0A 1C374A80  03 0702 0019  00 00  19 00 06  0012 {BLOCK.hex()}"
    message = _roundtrip(wire, alert=True)
    assert message.alert == GbzAlert(0x8F0A, 0x1C374A80)
    assert gbz.encrypted_components(message) == (0,)
    assert message.components[0].command_id == 0x06


def test_manufacturer_specific_zcl_header() -> None:
    message = _roundtrip("0109 01  01 0702 0006  05 3412 07 00  EE")
    (component,) = message.components
    assert (component.manufacturer_code, component.sequence, component.payload) == (
        0x1234,
        7,
        b"\xee",
    )


def test_with_plaintext_needs_an_encrypted_component() -> None:
    message = _roundtrip("0109 01  01 0702 0005  08 00 0B  07 00")
    with pytest.raises(LocalProtocolError, match="not encrypted"):
        gbz.with_plaintext(message, 0, b"")


@pytest.mark.parametrize(
    ("wire", "alert", "path", "offset", "reason"),
    [
        ("01", False, "gbz.header", 0, "3-byte GBZ header"),
        ("0104 00", False, "gbz.profile_id", 0, "got 0x0104"),
        ("0109 00 8F30 1C37", True, "gbz.alert", 3, "6-byte alert code"),
        ("0109 01 01 0705", False, "gbz.component[0].extended_header", 3, "5-byte"),
        (
            "0109 01 01 0705 0006 08 00 0B 00",
            False,
            "gbz.component[0].command_length",
            6,
            "6 command bytes",
        ),
        (
            "0109 02 01 0705 0005 08 00 0B 00 00",
            False,
            "gbz.component[1].extended_header",
            13,
            "got 0 bytes",
        ),
        ("0109 01 01 0705 0002 08 00", False, "gbz.component[0].zcl_header", 8, "3-byte"),
        ("0109 01 11 0705 0003 FFFFFF", False, "gbz.component[0].from_date_time", 8, "4-byte"),
        ("0109 01 01 0705 0004 04 34 12 07", False, "gbz.component[0].zcl_header", 8, "5-byte"),
        (
            "0109 01 03 0702 0004 00 00 18 00",
            False,
            "gbz.component[0].zcl_header",
            10,
            "got 2 bytes",
        ),
        (
            "0109 01 03 0702 0005 00 00 18 00 01",
            False,
            "gbz.component[0].ciphered_length",
            13,
            "2-byte",
        ),
        (
            f"0109 01 03 0702 0019 00 00 18 00 01 0013 {BLOCK.hex()}",
            False,
            "gbz.component[0].ciphered_length",
            13,
            "got 19",
        ),
        (
            "0109 01 03 0702 001A 00 00 18 00 01 0013 30 00000000 aaaa" + "bb" * 12,
            False,
            "gbz.component[0].ciphered_block.security_control",
            15,
            "0x31, got 0x30",
        ),
        (
            "0109 01 03 0702 000A 00 00 18 00 01 0003 31 0000",
            False,
            "gbz.component[0].ciphered_block",
            15,
            "at least 17",
        ),
        ("0109 00 00", False, "gbz", 3, "1 trailing"),
    ],
)
def test_malformed_payloads_raise_decode_error_with_path(
    wire: str, alert: bool, path: str, offset: int, reason: str
) -> None:
    with pytest.raises(DecodeError, match=reason) as info:
        gbz.decode_exact(bytes.fromhex(wire), alert=alert)
    assert (info.value.path, info.value.offset) == (path, offset)


@pytest.mark.parametrize(
    "message",
    [
        GbzMessage((GbzComponent(0x11, 0x0702, 0, 0, 0),)),  # bit 0x10 without a date
        GbzMessage((GbzComponent(0x01, 0x0702, 0, 0, 0, b"", 5),)),  # date without bit 0x10
        GbzMessage((GbzComponent(0x03, 0x0702, 0, 0, 0),)),  # bit 0x02 without encryption
        GbzMessage(
            (GbzComponent(0x01, 0x0702, 0, 0, 0, b"", None, None, GbzEncryption(0, 0, BLOCK)),)
        ),
        GbzMessage(
            (GbzComponent(0x03, 0x0702, 0, 0, 0, b"x", None, None, GbzEncryption(0, 0, BLOCK)),)
        ),
        GbzMessage((GbzComponent(0x01, 0x0702, 0x04, 0, 0),)),  # manufacturer bit, no code
        GbzMessage((GbzComponent(0x01, 0x10000, 0, 0, 0),)),
        GbzMessage((GbzComponent(0x01, 0x0702, 0, 256, 0),)),
        GbzMessage((), GbzAlert(0x8F0A, 0, b"x", 1)),  # 8F0A carries components
        GbzMessage((GbzComponent(0x01, 0x0702, 0, 0, 0),), GbzAlert(0x8F30, 0)),
        GbzMessage((), GbzAlert(0x8F30, 1 << 32)),
    ],
)
def test_unencodable_payloads_raise_local_protocol_error(message: GbzMessage) -> None:
    with pytest.raises(LocalProtocolError):
        gbz.encode(message)


# ----------------------------------------------------------------------------- RTDS corpus

#: Encrypted components per RTDS GBZ payload (GBCS ref. §4.5, §7.7 "enc" replies).
ENCRYPTED = {
    "GCS13b_4.1.4_ERROR_RESPONSE": 1,
    "GCS13b_4.1.4_SUCCESS_RELIABLE_GPF_RESPONSE": 1,
    "GCS13b_4.1.4_SUCCESS_RELIABLE_GSME_RESPONSE": 1,
    "GCS13b_4.1.4_SUCCESS_UNRELIABLE_RESPONSE": 1,
    "GCS13c_4.1.2_ERROR_RESPONSE": 1,
    "GCS13c_4.1.2_SUCCESS_RELIABLE_GPF_RESPONSE": 1,
    "GCS13c_4.1.2_SUCCESS_RELIABLE_GSME_RESPONSE": 1,
    "GCS13c_4.1.2_SUCCESS_UNRELIABLE_RESPONSE": 1,
    "GCS14_4.3_SUCCESS_RELIABLE_GPF_RESPONSE": 1,
    "GCS14_4.3_SUCCESS_RELIABLE_GSME_RESPONSE": 1,
    "GCS14_4.3_SUCCESS_UNRELIABLE_RESPONSE": 1,
    "GCS15b_4.4.2_ERROR_RESPONSE": 3,
    "GCS15b_4.4.2_SUCCESS_RESPONSE": 4,
    "GCS15c_4.4.3_ERROR_RESPONSE": 3,
    "GCS15c_4.4.3_SUCCESS_RESPONSE": 4,
    "GCS15d_4.4.4_SUCCESS_RESPONSE": 1,
    "GCS16a_4.6.1_ERROR_RESPONSE": 3,
    "GCS16a_4.6.1_SUCCESS_RESPONSE": 2,
    "GCS16b_4.14_KRP_ERROR_RESPONSE": 1,
    "GCS16b_4.14_KRP_SUCCESS_RESPONSE": 2,
    "GCS16b_4.14_URP_SUCCESS_RESPONSE": 2,
    "GCS17_4.8.1_SUCCESS_RESPONSE": 1,
    "GCS18_4.10_SUCCESS_RESPONSE": 1,
    "GCS61_4.17_SUCCESS_RESPONSE": 1,
}

#: (cluster, command) of cluster-specific replies that always travel encrypted (§7.7):
#: Publish Snapshot, Get Sampled Data Response, Publish Prepay Snapshot, Publish Debt Log.
ALWAYS_ENCRYPTED = {(0x0702, 0x06), (0x0702, 0x07), (0x0705, 0x01), (0x0705, 0x06)}
#: Read Attributes Response on Metering / Prepayment may be encrypted (GCS13x, GCS14).
MAY_BE_ENCRYPTED = {(0x0702, 0x01), (0x0705, 0x01)}


def test_every_rtds_gbz_payload_round_trips(rtds_gbz_file: Path) -> None:
    found = read_rtds(rtds_gbz_file)
    assert found.family == "gbz"
    message = gbz.decode_exact(found.payload, alert=found.cra == 3)
    assert gbz.encode(message) == found.payload
    assert message.component_count == found.payload[2]
    encrypted = gbz.encrypted_components(message)
    assert len(encrypted) == ENCRYPTED.get(rtds_gbz_file.name.removesuffix("_GBCS.HEX"), 0)
    for index, component in enumerate(message.components):
        # facts the decoder did not use: only the last component has the last bit
        assert component.is_last == (index == len(message.components) - 1)
        key = (component.cluster_id, component.command_id)
        cluster_specific = component.frame_control & 0x03 == 0x01
        if component.encryption is not None:
            assert found.cra in (2, 3)
            assert key in (ALWAYS_ENCRYPTED if cluster_specific else MAY_BE_ENCRYPTED)
            assert component.encryption.block[:5] == b"\x31\x00\x00\x00\x00"
            # observed: additional control 0, frame counter = rank among encrypted components
            assert (
                component.encryption.additional_control,
                component.encryption.frame_counter,
            ) == (0, encrypted.index(index))
        elif cluster_specific and component.frame_control & 0x08:
            assert key not in ALWAYS_ENCRYPTED


def test_rtds_gcs13b_read_attributes_response_is_encrypted(rtds_dir: Path) -> None:
    found = read_rtds(
        rtds_dir / "4.1.4_GCS13b" / "GCS13b_4.1.4_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX"
    )
    message = gbz.decode_exact(found.payload)
    (component,) = message.components
    assert (component.cluster_id, component.frame_control, component.command_id) == (
        0x0702,
        0x18,
        0x01,
    )
    assert component.encryption is not None
    assert len(component.encryption.block) == 0x4C
    plain = gbz.with_plaintext(message, 0, b"\x00" * (0x4C - 17))
    assert gbz.decode_exact(gbz.encode(plain)) == plain


@given(gbz_messages)
def test_decode_inverts_encode(message: GbzMessage) -> None:
    assert gbz.decode_exact(gbz.encode(message)) == message


@given(gbz_alerts())
def test_decode_inverts_encode_for_alerts(message: GbzMessage) -> None:
    assert gbz.decode_exact(gbz.encode(message), alert=True) == message


@given(st.lists(gbz_components(encrypted=True), min_size=1, max_size=3), st.data())
def test_with_plaintext_rebuilds_a_plain_component(
    components: list[GbzComponent], data: st.DataObject
) -> None:
    message = GbzMessage(tuple(components))
    index = data.draw(st.sampled_from(gbz.encrypted_components(message)))
    payload = data.draw(st.binary(max_size=40))
    plain = gbz.with_plaintext(message, index, payload)
    decoded = gbz.decode_exact(gbz.encode(plain))
    assert decoded.components[index].payload == payload
    assert not decoded.components[index].control & gbz.CONTROL_ENCRYPTED
    assert len(gbz.encrypted_components(decoded)) == len(components) - 1


@settings(deadline=500)
@given(st.booleans(), st.binary(max_size=200))
def test_random_bytes_raise_only_decode_error(alert: bool, data: bytes) -> None:
    raw = b"\x01\x09" + data
    try:
        message, rest = gbz.decode(raw, alert=alert)
    except DecodeError:
        return
    assert gbz.encode(message) + rest == raw


@pytest.fixture(scope="module")
def rtds_gbz_payloads(rtds_dir: Path) -> list[tuple[bool, bytes]]:
    found = [read_rtds(f) for f in sorted(rtds_dir.rglob("*.HEX"))]
    return sorted({(p.cra == 3, p.payload) for p in found if p.family == "gbz"})


@settings(deadline=1000, max_examples=300)
@given(st.data())
def test_mutated_rtds_payloads_raise_only_decode_error(
    rtds_gbz_payloads: list[tuple[bool, bytes]], data: st.DataObject
) -> None:
    alert, payload = data.draw(st.sampled_from(rtds_gbz_payloads))
    raw = bytearray(payload)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    mutated = bytes(raw[: data.draw(st.integers(0, len(raw)))])
    try:
        message, rest = gbz.decode(mutated, alert=alert)
    except DecodeError:
        return
    assert gbz.encode(message) + rest == mutated
