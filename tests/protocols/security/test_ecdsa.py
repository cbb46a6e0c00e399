"""ECDSA-SHA256 raw r||s: the GBCS 18.4 vector, the reference corpus and properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import SecurityError
from smemu.protocols.security import (
    SIGNATURE_LENGTH,
    DirectoryKeyStore,
    private_key_from_scalar,
    public_key_from_point,
    sign,
    verify,
)

# gbcs-reference.md 4.7 (GBCS 18.4 published test vector): ECS04b critical command.
ECS04B = bytes.fromhex(
    "DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE000200B335"
    "D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF020305000000000500000000"
    "05000000004059045AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9FE2E12E2DA3632478A8DF"
    "678E418895869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3"
)
SUPPLIER_A_DS_PRIVATE = bytes.fromhex(
    "3A6B2EAA0D9F25A9E455983FEB5BB947528121911BF3B76BE5661C89DBF24B26"
)
SUPPLIER_A_DS_PUBLIC = bytes.fromhex(
    "76628E1C84EF7935548AE5D62C7BB3AD28964CF794F0387A697EEC19CDD98F46"
    "0A4D5E19087EF7216ED89C29831A6EE838C8DE88EF34F11D3F41F36D80B2A5D5"
)
DEVICE_A_DS_PUBLIC = bytes.fromhex(
    "86FB5EB3CA0507226BE7197058B9EC041D3A3758D9D9C91902ACA3391F4E58AE"
    "F13AFF63CC4EF68942B9B94904DC1B890EDBEABD16B992110624968E894E560E"
)

# The signature element (40 + 64 bytes) sits just before the 12-byte MAC.
SIG_END = len(ECS04B) - 12
SIG_START = SIG_END - SIGNATURE_LENGTH
# Signed data: from the 09 after the DF tag (offset 15) up to the 40 length byte, exclusive.
SIGNED = ECS04B[15 : SIG_START - 1]
SIGNATURE = ECS04B[SIG_START:SIG_END]

_KEY = ec.generate_private_key(ec.SECP256R1())


def test_vector_layout_is_as_described() -> None:
    assert ECS04B[14] == 0xDF
    assert ECS04B[15] == 0x09
    assert ECS04B[SIG_START - 1] == 0x40


def test_gbcs_18_4_signature_verifies_with_supplier_a_ds_key() -> None:
    assert verify(public_key_from_point(SUPPLIER_A_DS_PUBLIC), SIGNED, SIGNATURE)


def test_gbcs_18_4_signature_fails_with_another_key() -> None:
    assert not verify(public_key_from_point(DEVICE_A_DS_PUBLIC), SIGNED, SIGNATURE)


def test_gbcs_18_4_signature_fails_if_the_df_tag_is_included() -> None:
    assert not verify(
        public_key_from_point(SUPPLIER_A_DS_PUBLIC), ECS04B[14 : SIG_START - 1], SIGNATURE
    )


def test_signing_with_the_published_private_key_verifies_with_the_published_public_key() -> None:
    private = private_key_from_scalar(SUPPLIER_A_DS_PRIVATE)
    signature = sign(private, SIGNED)
    assert len(signature) == SIGNATURE_LENGTH
    assert signature != SIGNATURE  # ECDSA is randomised
    assert verify(public_key_from_point(SUPPLIER_A_DS_PUBLIC), SIGNED, signature)


@pytest.mark.parametrize("length", [0, 1, 63, 65, 128])
def test_wrong_length_signature_is_false(length: int) -> None:
    signature = (SIGNATURE * 2)[:length]
    assert verify(public_key_from_point(SUPPLIER_A_DS_PUBLIC), SIGNED, signature) is False


@pytest.mark.parametrize(
    "signature",
    [bytes(64), bytes(32) + SIGNATURE[32:], SIGNATURE[:32] + bytes(32), b"\xff" * 64],
    ids=["zero", "r-zero", "s-zero", "out-of-range"],
)
def test_degenerate_signature_is_false(signature: bytes) -> None:
    assert verify(public_key_from_point(SUPPLIER_A_DS_PUBLIC), SIGNED, signature) is False


def test_sign_rejects_a_key_on_another_curve() -> None:
    with pytest.raises(SecurityError, match="secp256r1"):
        sign(ec.generate_private_key(ec.SECP384R1()), b"data")


def test_verify_with_a_key_on_another_curve_is_false() -> None:
    other = ec.generate_private_key(ec.SECP384R1()).public_key()
    assert verify(other, SIGNED, SIGNATURE) is False


@given(st.binary(max_size=512))
def test_sign_verify_round_trip(data: bytes) -> None:
    signature = sign(_KEY, data)
    assert len(signature) == SIGNATURE_LENGTH
    assert verify(_KEY.public_key(), data, signature)


@given(st.binary(min_size=1, max_size=256), st.data())
def test_flipped_bit_in_data_fails(data: bytes, draw: st.DataObject) -> None:
    signature = sign(_KEY, data)
    bit = draw.draw(st.integers(0, len(data) * 8 - 1))
    tampered = bytearray(data)
    tampered[bit // 8] ^= 1 << (bit % 8)
    assert not verify(_KEY.public_key(), bytes(tampered), signature)


@given(st.binary(max_size=64), st.integers(0, SIGNATURE_LENGTH * 8 - 1))
def test_flipped_bit_in_signature_fails(data: bytes, bit: int) -> None:
    signature = bytearray(sign(_KEY, data))
    signature[bit // 8] ^= 1 << (bit % 8)
    assert not verify(_KEY.public_key(), data, bytes(signature))


# --- the reference corpus ---------------------------------------------------------------


def _general_signing_apdu(message: bytes) -> bytes:
    """The DF... APDU of a message: inside the MAC header (dropping the MAC), or itself."""
    if message[0] == 0xDF:
        return message
    assert message[:2] == b"\xdd\x00", message[:2].hex()
    size = message[7]
    start = 8
    if size & 0x80:
        start += size & 0x7F
    # security control 11 + invocation counter 00000000, then the APDU, then the MAC
    return message[start + 5 : -12]


@pytest.fixture(scope="module")
def store(keystore_dir: Path) -> DirectoryKeyStore:
    return DirectoryKeyStore.load(keystore_dir)


@pytest.mark.shared
def test_ecs42_command_signature_from_the_reference_set(
    rtds_dir: Path, store: DirectoryKeyStore
) -> None:
    # gbcs-reference.md 5.1: the supplier's DS signature covers bytes 15..68.
    path = rtds_dir / "7.1_ECS42" / "ECS42_7.1_SUCCESS_COMMAND_GBCS.HEX"
    message = bytes.fromhex("".join(path.read_text().split()))
    public = store.ds_public(bytes.fromhex("90B3D51F30010000"))
    assert public is not None
    assert message[69] == 0x40
    assert verify(public, message[15:69], message[70:134])
    assert not verify(public, message[15:68], message[70:134])


@pytest.mark.shared
def test_every_signature_in_the_reference_set_verifies(
    rtds_dir: Path, store: DirectoryKeyStore
) -> None:
    checked = 0
    failed = []
    for path in sorted(rtds_dir.rglob("*.HEX")):
        if "PRECOMMAND" in path.name:
            continue  # pre-commands carry no signature element at all
        apdu = _general_signing_apdu(bytes.fromhex("".join(path.read_text().split())))
        if len(apdu) <= 65 or apdu[-65] != 0x40:
            continue  # signature element 00: not signed
        public = store.ds_public(apdu[12:20])  # the originator's DS certificate
        assert public is not None, path.name
        checked += 1
        if not verify(public, apdu[1:-65], apdu[-64:]):
            failed.append(path.name)
    assert checked > 100
    assert failed == []
