"""Every DER payload of the reference set decodes fully typed and re-encodes byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smemu.protocols.asn1 import SCHEMAS, decode_typed, schema_for
from smemu.protocols.gbcs import frame
from smemu.protocols.text import parse_message_text
from tests.conftest import find_shared, rtds_files


def _signed(path: Path) -> frame.GeneralSigningMessage | None:
    message = frame.decode_exact(parse_message_text(path.read_text())[0])
    return frame.signing_message(message)


def _is_asn1(path: Path) -> bool:
    inner = _signed(path)
    return inner is not None and frame.payload_family(inner.payload) == "asn1"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `rtds_asn1_file`: once per reference message with a DER payload; with no reference
    # set, once, skipped with where we looked (never a silent zero-test pass).
    if "rtds_asn1_file" not in metafunc.fixturenames:
        return
    files = [f for f in rtds_files(metafunc.config) if _is_asn1(f)]
    if files:
        base = files[0].parents[1]
        metafunc.parametrize(
            "rtds_asn1_file", files, ids=[str(f.relative_to(base)) for f in files]
        )
    else:
        shared = find_shared(metafunc.config)
        reason = (
            "reference vectors not found; pass --shared DIR or set SMEMU_SHARED"
            if shared is None
            else f"no DER payloads under {shared}"
        )
        skip = pytest.mark.skip(reason=reason)
        metafunc.parametrize("rtds_asn1_file", [pytest.param(None, marks=skip)])


def test_reference_payload_decodes_typed_and_re_encodes(rtds_asn1_file: Path) -> None:
    inner = _signed(rtds_asn1_file)
    assert inner is not None
    code = inner.header.other_information.message_code
    cra = int(inner.header.cra)
    payload = decode_typed(inner.payload, message_code=code, cra=cra)
    assert payload.family == "asn1"
    assert payload.schema == schema_for(code, cra)
    assert isinstance(payload, SCHEMAS[payload.schema])
    assert payload.undecoded_bytes == 0
    assert payload.encode() == inner.payload
    # the readable tree is JSON, and names no raw asn1tools value
    text = json.dumps(payload.to_json())
    assert "bytearray" not in text


def test_reference_set_has_the_der_use_cases(pytestconfig: pytest.Config) -> None:
    # Guards the parametrisation above: the DER family is found, with every kind of schema
    # the reference set exercises (133 messages in RTDS 4.5.0).
    if find_shared(pytestconfig) is None:
        pytest.skip("reference vectors not found; pass --shared DIR or set SMEMU_SHARED")
    schemas = set()
    count = 0
    for path in rtds_files(pytestconfig):
        inner = _signed(path)
        if inner is None or frame.payload_family(inner.payload) != "asn1":
            continue
        count += 1
        schemas.add(schema_for(inner.header.other_information.message_code, int(inner.header.cra)))
    assert count >= 133
    # every schema but the GPF device log backup alert (GCS62), which it does not exercise
    assert len(schemas) == len(SCHEMAS) - 1
