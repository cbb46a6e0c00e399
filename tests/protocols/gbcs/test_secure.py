"""Message-level security: building and checking signatures and MACs, and tamper detection."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import SecurityError
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage, GroupingHeader, OtherInformation
from smemu.protocols.gbcs.secure import Verdict
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.security.keystore import InMemoryKeyStore, KeyKind

SUPPLIER = Eui64.parse("90B3D51F30010000")
ACB = Eui64.parse("90B3D51F30000002")
ESME = Eui64.parse("00DB1234567890A0")
PPMID = Eui64.parse("00DB1234567890A4")


@pytest.fixture(scope="module")
def store() -> InMemoryKeyStore:
    keys = InMemoryKeyStore()
    for eui in (SUPPLIER, ACB, ESME, PPMID):
        keys.generate_key(eui, KeyKind.DS)
        keys.generate_key(eui, KeyKind.KA)
    return keys


def _message(
    cra: Cra, originator: Eui64, recipient: Eui64, code: int = 0x004F
) -> GeneralSigningMessage:
    header = GroupingHeader(cra, 1000, originator, recipient, None, OtherInformation(code))
    return GeneralSigningMessage(header, b"\xd9\x20\x00\x03\xe8\x00\x01\x03", None)


def _check(data: bytes, store: InMemoryKeyStore) -> tuple[Verdict, Verdict]:
    located = frame.locate(data)
    return secure.verify_signature(located, store), secure.verify_mac(located, store)


def test_critical_command_is_signed_and_macd_by_the_acb(store: InMemoryKeyStore) -> None:
    command = secure.protect(secure.sign(_message(Cra.COMMAND, SUPPLIER, ESME), store), store)
    assert _check(command.encode(), store) == (Verdict.VALID, Verdict.VALID)
    # the MAC is the ACB's, not the supplier's own key agreement key
    assert secure.mac_key_pairs(command.inner) == [(a, ESME) for a in secure.DEFAULT_ACBS]


def test_response_mac_pairs_device_with_recipient(store: InMemoryKeyStore) -> None:
    response = secure.protect(_message(Cra.RESPONSE, ESME, SUPPLIER), store)
    assert secure.mac_key_pairs(response.inner) == [(ESME, SUPPLIER)]
    assert _check(response.encode(), store) == (Verdict.ABSENT, Verdict.VALID)


def test_ppmid_to_gsme_command_is_macd_by_the_ppmid(store: InMemoryKeyStore) -> None:
    command = secure.protect(_message(Cra.COMMAND, PPMID, ESME, code=0x009B), store)
    assert secure.mac_key_pairs(command.inner) == [(PPMID, ESME)]
    assert _check(command.encode(), store)[1] is Verdict.VALID


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_flipped_bit_breaks_signature_or_mac(
    store: InMemoryKeyStore, data: st.DataObject
) -> None:
    raw = bytearray(
        secure.protect(secure.sign(_message(Cra.COMMAND, SUPPLIER, ESME), store), store).encode()
    )
    index = data.draw(st.integers(14, len(raw) - 1))  # inside the secured part
    raw[index] ^= 1 << data.draw(st.integers(0, 7))
    try:
        verdicts = _check(bytes(raw), store)
    except Exception as exc:  # a flip may break the framing instead
        assert type(exc).__name__ == "DecodeError"
        return
    assert Verdict.INVALID in verdicts or Verdict.NO_KEY in verdicts


def test_without_keys_the_verdict_is_no_key(store: InMemoryKeyStore) -> None:
    command = secure.protect(secure.sign(_message(Cra.COMMAND, SUPPLIER, ESME), store), store)
    assert _check(command.encode(), InMemoryKeyStore()) == (Verdict.NO_KEY, Verdict.NO_KEY)


def test_sign_needs_the_private_key() -> None:
    with pytest.raises(SecurityError, match="no DS private key"):
        secure.sign(_message(Cra.COMMAND, SUPPLIER, ESME), InMemoryKeyStore())


def test_protect_turns_an_omitted_signature_element_into_empty(store: InMemoryKeyStore) -> None:
    command = secure.protect(_message(Cra.COMMAND, SUPPLIER, ESME), store)
    assert command.inner.signature == b""
    assert replace(command.inner, signature=None) == _message(Cra.COMMAND, SUPPLIER, ESME)
