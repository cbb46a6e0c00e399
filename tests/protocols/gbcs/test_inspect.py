"""The reference corpus through the whole inspection: decode, verify, decrypt, re-encode.

This is issue 2's acceptance test: every message decodes, every signature verifies, every
MAC the keys allow verifies (only PPMID-to-GSME PCS01/PCS02 lack keys), every encrypted
payload the keys allow decrypts, and every message re-encodes byte-identically.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.decrypt import ciphered_blocks
from smemu.protocols.gbcs.inspect import inspect_bytes
from smemu.protocols.security.keystore import DirectoryKeyStore, KeyStore
from smemu.protocols.text import parse_message_text

HAN_ONLY = ("PCS01_", "PCS02_")


@pytest.fixture(scope="module")
def rtds_keys(keystore_dir: Path) -> KeyStore:
    return DirectoryKeyStore.load(keystore_dir)


def test_reference_message_inspects_clean(rtds_file: Path, rtds_keys: KeyStore) -> None:
    (blob,) = parse_message_text(rtds_file.read_text())
    (result,) = inspect_bytes(blob, rtds_keys, source=rtds_file.name)
    assert result.ok, result.errors
    assert result.reencode == "identical"
    inner = frame.signing_message(result.message) if result.message else None
    assert inner is not None
    if inner.signature:
        assert result.signature == "valid"
    else:
        assert result.signature == "absent"
    if isinstance(result.message, frame.MacProtectedMessage):
        expected = "no key" if rtds_file.name.startswith(HAN_ONLY) else "valid"
        assert result.mac == expected
    else:
        assert result.mac == "absent"
    if ciphered_blocks(inner):
        assert result.decryption == "decrypted"
        assert result.plaintexts and all(result.plaintexts)
    else:
        assert result.decryption == "not encrypted"


def test_a_tampered_reference_message_is_caught(rtds_dir: Path, rtds_keys: KeyStore) -> None:
    path = next(rtds_dir.glob("7.1_ECS42/*_SUCCESS_COMMAND_GBCS.HEX"))
    (blob,) = parse_message_text(path.read_text())
    tampered = bytearray(blob)
    tampered[-20] ^= 0x01  # inside the signature
    (result,) = inspect_bytes(bytes(tampered), rtds_keys)
    assert (result.signature, result.mac) == ("invalid", "invalid")


def test_malformed_input_reports_field_and_offset() -> None:
    (result,) = inspect_bytes(bytes.fromhex("DF0907"), None, source="x")
    assert not result.ok
    assert "grouping_header.cra at byte 2" in result.errors[0]
    assert result.to_json()["message_code"] is None


def test_the_corpus_exercises_every_decryption_key_rule(
    rtds_dir: Path, rtds_keys: KeyStore
) -> None:
    """Encrypted payloads for the recipient, for a supplementary remote party (DCC-relayed),
    and for an unknown remote party (URP, supplementary originator counter) all decrypt."""
    seen: set[str] = set()
    for path in sorted(rtds_dir.rglob("*_RESPONSE_GBCS.HEX")) + sorted(rtds_dir.rglob("*ALERT*")):
        (blob,) = parse_message_text(path.read_text())
        (result,) = inspect_bytes(blob, rtds_keys)
        if result.decryption != "decrypted":
            continue
        inner = frame.signing_message(result.message) if result.message else None
        assert inner is not None
        oi = inner.header.other_information
        if oi.supplementary_originator_counter is not None:
            seen.add("urp")
        elif oi.supplementary_remote_party_id is not None:
            seen.add("relayed")
        else:
            seen.add("recipient")
    assert seen == {"recipient", "relayed", "urp"}
