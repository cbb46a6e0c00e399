"""decode_payload over the reference corpus: every payload re-encodes, DLMS is fully typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.inspect import inspect_bytes
from smemu.protocols.gbcs.payload import TypedPayload, decode_payload
from smemu.protocols.gbcs.types import Cra
from smemu.protocols.security.keystore import DirectoryKeyStore, KeyStore
from smemu.protocols.text import parse_message_text


@pytest.fixture(scope="module")
def rtds_keys(keystore_dir: Path) -> KeyStore:
    return DirectoryKeyStore.load(keystore_dir)


def test_reference_payload_decodes_typed(rtds_file: Path, rtds_keys: KeyStore) -> None:
    (blob,) = parse_message_text(rtds_file.read_text())
    (result,) = inspect_bytes(blob, rtds_keys, typed=True)
    assert result.ok, result.errors
    inner = frame.signing_message(result.message) if result.message else None
    if inner is None:
        assert result.to_json()["undecoded_bytes"] is None
        return
    payload = result.payload
    assert isinstance(payload, TypedPayload)
    assert payload.family == frame.payload_family(inner.payload)
    assert payload.encode() == inner.payload
    shown = result.to_json()
    json.dumps(shown)
    assert shown["use_case_info"]["id"] == shown["use_case"]
    assert shown["undecoded_bytes"] == 0


def test_untyped_inspection_leaves_payload_out(rtds_dir: Path) -> None:
    path = next(rtds_dir.glob("7.1_ECS42/*_SUCCESS_COMMAND_GBCS.HEX"))
    (blob,) = parse_message_text(path.read_text())
    (result,) = inspect_bytes(blob, None)
    assert result.payload is None
    assert result.to_json()["payload"] is None


@given(st.binary(max_size=80), st.sampled_from(list(Cra)))
def test_random_payloads_raise_only_decode_error(raw: bytes, cra: Cra) -> None:
    try:
        payload = decode_payload(raw, message_code=0x0027, cra=cra)
    except DecodeError:
        return
    assert payload.encode() == raw
