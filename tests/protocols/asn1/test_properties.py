"""Properties of the DER payload codecs: round trips, byte identity, only DecodeError."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.asn1 import SCHEMA_TABLE, SCHEMAS, Asn1Payload, decode_typed
from tests.strategies.asn1 import PAYLOADS, asn1_payloads

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = sorted(SCHEMAS)
WHOLE_CERTIFICATE = {
    "UpdateDeviceCertificateCommand",
    "IssueSecurityCredentialsResponse",
    "ProvideDeviceCertificateResponse",
}


def _code_and_cra(schema: str) -> tuple[int, int]:
    return next(
        (code, cra + 1)
        for code, row in sorted(SCHEMA_TABLE.items())
        for cra, name in enumerate(row)
        if name == schema
    )


def test_every_schema_has_a_strategy() -> None:
    assert set(PAYLOADS) == set(SCHEMAS)


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data())
def test_decode_of_encode_is_identity(name: str, data: st.DataObject) -> None:
    payload = data.draw(PAYLOADS[name])
    wire = payload.encode()
    assert type(payload).decode_exact(wire) == payload
    code, cra = _code_and_cra(name)
    decoded = decode_typed(wire, message_code=code, cra=cra)
    assert decoded == payload
    assert decoded.undecoded_bytes == 0
    json.dumps(decoded.to_json())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(asn1_payloads, st.integers(1, 4))
def test_long_outer_length_is_reproduced(payload: Asn1Payload, octets: int) -> None:
    wire = payload.encode()
    length = wire[1] if wire[1] < 0x80 else int.from_bytes(wire[2 : 2 + (wire[1] & 0x7F)], "big")
    if length >> (8 * octets):
        return  # does not fit in that many length octets
    head = 2 if wire[1] < 0x80 else 2 + (wire[1] & 0x7F)
    stretched = wire[:1] + bytes((0x80 | octets,)) + length.to_bytes(octets, "big") + wire[head:]
    if stretched == wire:
        return  # already in that form
    decoded = type(payload).decode_exact(stretched)
    assert decoded.encode() == stretched
    if stretched[0] == 0x30 and payload.schema in WHOLE_CERTIFICATE:
        # the payload is one opaque certificate or request: its bytes keep their own form
        assert decoded.der_length_octets == ()
    else:
        assert decoded.der_length_octets == ((0, octets),)


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.binary(max_size=80))
def test_random_bytes_raise_only_decode_error(name: str, data: bytes) -> None:
    try:
        payload = SCHEMAS[name].decode_exact(data)
    except DecodeError:
        return
    assert payload.encode() == data  # whatever is accepted is given back byte for byte


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(asn1_payloads, st.data())
def test_corrupted_payloads_raise_only_decode_error(
    payload: Asn1Payload, data: st.DataObject
) -> None:
    wire = bytearray(payload.encode())
    action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    where = data.draw(st.integers(0, len(wire)))
    if action == "flip" and where < len(wire):
        wire[where] ^= data.draw(st.integers(1, 255))
    elif action == "cut":
        del wire[where:]
    else:
        wire[where:where] = data.draw(st.binary(min_size=1, max_size=3))
    try:
        decoded = type(payload).decode_exact(bytes(wire))
    except DecodeError:
        return
    assert decoded.encode() == bytes(wire)
