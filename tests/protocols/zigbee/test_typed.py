"""Typed GBZ payloads: every RTDS GBZ payload fully typed, builders, alert details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.gbcs.frame import signing_message
from smemu.protocols.security.keystore import DirectoryKeyStore
from smemu.protocols.text import parse_message_text
from smemu.protocols.zigbee import calendar, decode_typed, gbz, price
from smemu.protocols.zigbee.gbz import GbzAlert
from smemu.protocols.zigbee.typed import (
    FutureDatedOutcome,
    GbzPayload,
    MeterIntegrityAlert,
    ZclComponent,
)
from smemu.protocols.zigbee.zcl import DefaultResponse, RawCommand, ReadAttributes
from tests.strategies.zigbee import gbz_alert_payloads, gbz_payloads


@pytest.fixture(scope="module")
def keystore(keystore_dir: Path) -> DirectoryKeyStore:
    return DirectoryKeyStore.load(keystore_dir)


def test_every_rtds_gbz_payload_is_fully_typed(
    rtds_gbz_file: Path, keystore: DirectoryKeyStore
) -> None:
    located = frame.locate(parse_message_text(rtds_gbz_file.read_text())[0])
    inner = signing_message(located.message)
    assert inner is not None
    outcome, plaintexts = decrypt_payload(located, keystore)
    assert outcome in ("not encrypted", "decrypted")
    typed = decode_typed(inner.payload, alert=int(inner.header.cra) == 3, plaintexts=plaintexts)
    assert typed.family == "gbz"
    assert typed.undecoded_bytes == 0
    assert typed.encode() == inner.payload
    encrypted = [c for c in typed.components if c.encryption is not None]
    assert len(encrypted) == len(plaintexts)
    for component, plaintext in zip(encrypted, plaintexts, strict=True):
        assert component.command is not None
        assert component.command.encode() == plaintext
    for component in typed.components:
        assert not isinstance(component.command, RawCommand)
    tree = typed.to_json()
    assert json.loads(json.dumps(tree))["undecoded_bytes"] == 0
    assert len(tree["components"]) == len(typed.components)


def test_encrypted_component_without_plaintext_counts_as_undecoded() -> None:
    block = bytes.fromhex("31 00000000 aa") + b"\xbb" * 12
    wire = bytes.fromhex("0109 01 03 0702 0019 00 00 18 00 01 0012") + block
    typed = decode_typed(wire, alert=False)
    assert typed.components[0].command is None
    assert typed.undecoded_bytes == len(block)
    assert typed.encode() == wire
    plain = decode_typed(wire, alert=False, plaintexts=[bytes.fromhex("0000 00 25 100000000000")])
    assert plain.undecoded_bytes == 0
    with pytest.raises(DecodeError):
        decode_typed(wire, alert=False, plaintexts=[b"", b""])


def test_builders_make_a_gcs01b_style_payload() -> None:
    tariff = price.PublishTariffInformation(
        0, 0x1C374A80, 1, 0, 0x10, b"", 0, 0, 0, 826, 0x50, 54794, 0xFF, 1, 1000
    )
    matrix = price.PublishPriceMatrix(
        0, 0x1C374A80, 0, 1, 0, 1, 0, (price.PriceMatrixEntry(0, 9600),)
    )
    payload = GbzPayload(
        (
            ZclComponent.build(tariff, 0, last=False),
            ZclComponent.build(matrix, 1, last=True),
        )
    )
    wire = payload.encode()
    assert wire == bytes.fromhex(
        "0109 02"
        "00 0700 0026 09 00 04"
        "00000000 804a371c 01000000 00000000 10 00 00 00 00 3a03 50 0ad60000 ff 010000 e80300"
        "01 0700 001b 09 01 05"
        "00000000 804a371c 00000000 01000000 00 01 00 00 80250000"
    )
    assert decode_typed(wire, alert=False) == payload


def test_builder_for_a_profile_wide_command_needs_the_cluster() -> None:
    with pytest.raises(LocalProtocolError):
        ZclComponent.build(ReadAttributes((0,)), 0, last=True)
    component = ZclComponent.build(
        DefaultResponse(0x05, 0), 0, last=True, cluster_id=0x0700, direction=0
    )
    assert component.to_component().frame_control == 0x00


def test_from_date_time_component_gcs05() -> None:
    wire = bytes.fromhex("0109 01 11 0705 000B FFFFFFFF 01 02 09 E8030000")
    typed = decode_typed(wire, alert=False)
    (component,) = typed.components
    assert component.from_date_time == 0xFFFFFFFF
    assert component.to_json()["from_date_time"] == "never"
    assert component.to_json()["command"] == "set_low_credit_warning_level"
    assert typed.encode() == wire


def test_future_dated_alert_detail() -> None:
    wire = bytes.fromhex("0109 01 8F66 1C374A80 0E 006B 00000000000003ED 0700 09 06")
    typed = decode_typed(wire, alert=True)
    assert typed.alert == GbzAlert(0x8F66, 0x1C374A80, b"", 1)
    assert typed.alert_detail == FutureDatedOutcome(14, 0x006B, 0x3ED, 0x0700, 0x09, 0x06)
    assert typed.to_json()["alert_detail"]["message_code"] == "0x006B"
    assert typed.encode() == wire


def test_meter_integrity_alert_detail() -> None:
    wire = bytes.fromhex("0109 00 81A0 1C374A80 0005")
    typed = decode_typed(wire, alert=True)
    assert typed.alert_detail == MeterIntegrityAlert(5)
    assert typed.encode() == wire


def test_unknown_alert_detail_is_raw_and_undecoded() -> None:
    wire = bytes.fromhex("0109 00 8123 1C374A80 ABCD")
    typed = decode_typed(wire, alert=True)
    assert typed.undecoded_bytes == 2
    assert typed.encode() == wire


def test_attribute_names_in_json() -> None:
    wire = bytes.fromhex("0109 01 01 0702 0007 00 00 00 0000 0003")
    tree = decode_typed(wire, alert=False).to_json()
    payload = tree["components"][0]["payload"]
    assert payload["attributes"] == ["current_summation_delivered", "unit_of_measure"]


def test_zcl_payload_errors_carry_the_command_path() -> None:
    # Publish Week Profile cut short
    wire = bytes.fromhex("0109 01 01 0707 0006 09 00 02 000000")
    with pytest.raises(DecodeError) as info:
        decode_typed(wire, alert=False)
    assert info.value.path == "gbz.component[0].zcl.PublishWeekProfile.provider_id"
    assert calendar.PublishWeekProfile.COMMAND_ID == 0x02


@settings(max_examples=200, deadline=None)
@given(gbz_payloads())
def test_typed_payload_decode_inverts_encode(payload: GbzPayload) -> None:
    assert decode_typed(payload.encode(), alert=False) == payload


@given(gbz_alert_payloads())
def test_typed_alert_decode_inverts_encode(payload: GbzPayload) -> None:
    assert decode_typed(payload.encode(), alert=True) == payload


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.binary(max_size=120))
def test_random_payloads_raise_only_decode_error(alert: bool, data: bytes) -> None:
    raw = b"\x01\x09" + data
    try:
        typed = decode_typed(raw, alert=alert)
    except DecodeError:
        return
    assert typed.encode() == raw
    assert gbz.decode_exact(raw, alert=alert) == typed.to_message()
