"""Typed COSEM views: build/read round trips, readable rendering, and the reference corpus."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.dlms import apdu, axdr, cosem, views
from smemu.protocols.dlms.views import DlmsPayload
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import decrypt_payload
from smemu.protocols.security.keystore import DirectoryKeyStore, KeyStore
from smemu.protocols.text import parse_message_text
from tests.strategies import dlms as dlms_st


@given(dlms_st.typed_views)
def test_view_build_then_read_is_identity(case: tuple[str, Any]) -> None:
    name, typed = case
    data = views.build(name, typed)
    assert views.read(name, axdr.decode_exact(axdr.encode(data))) == typed


@given(dlms_st.data_values)
def test_reading_any_value_raises_only_view_mismatch(value: axdr.Data) -> None:
    for name in ("season_profiles", "day_profiles", "special_days", "unit_charge", "date_time"):
        try:
            typed = views.read(name, value)
        except cosem.ViewMismatchError:
            continue
        assert views.build(name, typed) == value or name == "date_time"


@given(dlms_st.access_requests)
def test_typed_payload_reencodes_any_request(message: Any) -> None:
    raw = apdu.encode(message)
    payload = DlmsPayload.decode(raw)
    assert payload.encode() == raw
    json.dumps(payload.to_json())


def test_date_time_rendering() -> None:
    assert cosem.format_date_time(bytes(9) + b"\x80\x00\xff") == "now"
    assert cosem.format_date_time(b"\xff" * 9 + b"\x80\x00\xff") == "cancel"
    assert cosem.format_date_time(bytes.fromhex("07EE010FFF090000008000FF")) == (
        "2030-01-15T09:00:00"
    )
    assert cosem.format_date_time(bytes.fromhex("07EE010FFF0900000000 00FF".replace(" ", ""))) == (
        "2030-01-15T09:00:00Z"
    )
    assert cosem.format_date(bytes.fromhex("FFFF0C19FF")) == "****-12-25"


def test_price_and_unit_rendering() -> None:
    charge = cosem.UnitCharge(
        3, -5, 3, bytes((1, 0, 1, 8, 0, 255)), 2,
        (cosem.ChargeTableEntry(b"\x01", 2121), cosem.ChargeTableEntry(b"\xb2", 2289)),
    )  # fmt: skip
    shown = charge.to_json()
    assert shown["commodity"]["obis"] == "1-0:1.8.0.255"
    assert [(p["label"], p["price"]) for p in shown["prices"]] == [
        ("TOU rate 1", "0.02121"),
        ("block 2 of set 2", "0.02289"),
    ]
    assert cosem.ScalerUnit(-3, 30).scale(12345) == "12.345 Wh"


@pytest.fixture(scope="module")
def rtds_keys(keystore_dir: Path) -> KeyStore:
    return DirectoryKeyStore.load(keystore_dir)


def test_reference_dlms_payload_is_fully_typed(rtds_dlms_file: Path, rtds_keys: KeyStore) -> None:
    (blob,) = parse_message_text(rtds_dlms_file.read_text())
    located = frame.locate(blob)
    inner = frame.signing_message(located.message)
    assert inner is not None
    outcome, plaintexts = decrypt_payload(located, rtds_keys)
    assert outcome in ("decrypted", "not encrypted")
    payload = DlmsPayload.decode(inner.payload, plaintexts)
    assert payload.encode() == inner.payload
    assert payload.undecoded_bytes == 0
    json.dumps(payload.to_json())
    if outcome == "decrypted":
        assert any(item.plaintext is not None for item in payload.items)


def test_reference_tariff_is_read_through_views(rtds_dir: Path) -> None:
    path = next(rtds_dir.glob("1.1.1_ECS01a/*IMMEDIATE_TOU_SUCCESS_COMMAND_GBCS.HEX"))
    (blob,) = parse_message_text(path.read_text())
    inner = frame.signing_message(frame.decode_exact(blob))
    assert inner is not None
    payload = DlmsPayload.decode(inner.payload)
    by_view = {item.view: item for item in payload.items if item.view}
    seasons = by_view["season_profiles"].typed
    assert [s.to_json()["name"] for s in seasons] == ["winter", "summer"]
    assert seasons[0].to_json()["start"] == "2014-10-27T00:00:00"
    prices = [i.typed for i in payload.items if i.view == "unit_charge"]
    tou = next(p for p in prices if len(p.entries) == 80)
    assert [e.charge for e in tou.entries[:3]] == [2121, 3127, 4744]


def test_undecoded_counts_ciphered_bytes_without_plaintext(rtds_dir: Path) -> None:
    path = next(rtds_dir.glob("4.1.1_ECS17b/*SUCCESS_RESPONSE_GBCS.HEX"))
    (blob,) = parse_message_text(path.read_text())
    inner = frame.signing_message(frame.decode_exact(blob))
    assert inner is not None
    assert DlmsPayload.decode(inner.payload).undecoded_bytes > 17


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        DlmsPayload.decode(raw)
