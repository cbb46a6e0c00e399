"""ECDH and the GBCS KDF: OtherInfo layout, GBCS 18.4 keys, reference-set key vectors."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import LocalProtocolError, SecurityError
from smemu.protocols.security import (
    ALGORITHM_ID,
    OTHER_INFO_LENGTH,
    DirectoryKeyStore,
    KdfMode,
    derive_key,
    ecdh,
    message_key,
    other_info,
    private_key_from_scalar,
    public_key_from_point,
)

# gbcs-reference.md 4.7 (GBCS 18.4 published test vector).
ACB_KA_PRIVATE = bytes.fromhex("E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFB")
DEVICE_A_KA_PUBLIC = bytes.fromhex(
    "2DB45A3F21889438B42C8F464C75292BACF5FDDB5DA0B492501B299CBFE92D8F"
    "DB90FC8FF4026129838B1BCAD1402CAE47FE7D8084E409A41AFCE16D63579C5F"
)
SUPPLIER_A = bytes.fromhex("123456789ABCDEF0")
DEVICE_A = bytes.fromhex("FFFFFFFFFFFFFFFE")

SUPPLIER = bytes.fromhex("90B3D51F30010000")
ACB = bytes.fromhex("90B3D51F30000002")
ESME = bytes.fromhex("00DB1234567890A0")


def test_algorithm_id_is_the_literal_bytes() -> None:
    assert bytes([0x60, 0x85, 0x74, 0x06, 0x08, 0x03, 0x00]) == ALGORITHM_ID


def test_other_info_layout() -> None:
    info = other_info(SUPPLIER, KdfMode.RESPONSE, 0x0102030405060708, ESME)
    assert len(info) == OTHER_INFO_LENGTH == 33
    assert info == bytes.fromhex(
        "6085740608030090B3D51F300100000902010203040506070800DB1234567890A0"
    )


def test_other_info_bytes_15_to_24_are_the_transaction_id() -> None:
    # gbcs-reference.md 4.4: bytes 15..24 equal the grouping header's "09 CRA counter".
    info = other_info(SUPPLIER, 1, 1000, ESME)
    assert info[15:25] == bytes.fromhex("0901") + (1000).to_bytes(8, "big")


@pytest.mark.parametrize(
    ("originator", "mode", "counter", "recipient", "match"),
    [
        (SUPPLIER[:7], 1, 0, ESME, "originator"),
        (SUPPLIER, 1, 0, ESME + b"\x00", "recipient"),
        (SUPPLIER, 256, 0, ESME, "mode"),
        (SUPPLIER, -1, 0, ESME, "mode"),
        (SUPPLIER, 1, 1 << 64, ESME, "counter"),
        (SUPPLIER, 1, -1, ESME, "counter"),
    ],
)
def test_other_info_rejects_out_of_range_fields(
    originator: bytes, mode: int, counter: int, recipient: bytes, match: str
) -> None:
    with pytest.raises(LocalProtocolError, match=match):
        other_info(originator, mode, counter, recipient)


def test_derive_key_rejects_a_secret_of_the_wrong_size() -> None:
    with pytest.raises(SecurityError, match="32 bytes"):
        derive_key(bytes(16), other_info(SUPPLIER, 1, 0, ESME))


def test_gbcs_18_4_ecs04b_mac_key() -> None:
    z = ecdh(private_key_from_scalar(ACB_KA_PRIVATE), public_key_from_point(DEVICE_A_KA_PUBLIC))
    assert len(z) == 32
    # ECS04b command: originator Supplier A, CRA 01, counter 1, recipient Device A.
    key = derive_key(z, other_info(SUPPLIER_A, KdfMode.COMMAND, 1, DEVICE_A))
    assert key == bytes.fromhex("859b846a24e1ea70a168409a1180676b")


def test_gbcs_18_4_ecs12_command_key() -> None:
    z = ecdh(private_key_from_scalar(ACB_KA_PRIVATE), public_key_from_point(DEVICE_A_KA_PUBLIC))
    key = message_key(z, SUPPLIER_A, KdfMode.COMMAND, 2, DEVICE_A)
    assert key == bytes.fromhex("f3332152ab0ef4cc34e08323b5689c41")


def test_ecdh_is_symmetric_and_rejects_mixed_curves() -> None:
    a = ec.generate_private_key(ec.SECP256R1())
    b = ec.generate_private_key(ec.SECP256R1())
    assert ecdh(a, b.public_key()) == ecdh(b, a.public_key())
    with pytest.raises(SecurityError, match="ECDH"):
        ecdh(a, ec.generate_private_key(ec.SECP384R1()).public_key())


@settings(max_examples=50)
@given(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=8, max_size=8),
    st.sampled_from(list(KdfMode)),
    st.integers(0, (1 << 64) - 1),
    st.binary(min_size=8, max_size=8),
)
def test_every_field_of_other_info_changes_the_key(
    z: bytes, originator: bytes, mode: KdfMode, counter: int, recipient: bytes
) -> None:
    key = message_key(z, originator, mode, counter, recipient)
    assert len(key) == 16
    assert message_key(z, originator, mode, counter ^ 1, recipient) != key
    assert message_key(z, recipient, mode, counter, originator) != key or originator == recipient
    assert message_key(z, originator, mode % 4 + 1, counter, recipient) != key


# --- keys from the reference keystore (gbcs-reference.md 4.4 and 4.7) ----------------------


@pytest.fixture(scope="module")
def store(keystore_dir: Path) -> DirectoryKeyStore:
    return DirectoryKeyStore.load(keystore_dir)


@pytest.mark.shared
@pytest.mark.parametrize(
    ("private_party", "originator", "mode", "counter", "recipient", "expected"),
    [
        # ACB KA private x ESME KA public, command from the supplier.
        (ACB, SUPPLIER, KdfMode.COMMAND, 0x100000000, ESME, "6A93E360717394015DF93E031218C9A6"),
        # Supplier KA private x ESME KA public, response and alert from the ESME.
        (
            SUPPLIER,
            ESME,
            KdfMode.RESPONSE,
            0x100000000,
            SUPPLIER,
            "03FD30815577C49EB7E3834B63EF8302",
        ),
        (SUPPLIER, ESME, KdfMode.ALERT, 0x7D1, SUPPLIER, "558FB1FA6660AF0D9E8365C47804B8FA"),
    ],
    ids=["command", "response", "alert"],
)
def test_reference_kdf_vectors(
    *,
    store: DirectoryKeyStore,
    private_party: bytes,
    originator: bytes,
    mode: KdfMode,
    counter: int,
    recipient: bytes,
    expected: str,
) -> None:
    private = store.ka_private(private_party)
    public = store.ka_public(ESME)
    assert private is not None
    assert public is not None
    key = derive_key(ecdh(private, public), other_info(originator, mode, counter, recipient))
    assert key == bytes.fromhex(expected)


@pytest.mark.shared
def test_gbcs_18_4_acb_key_is_the_keystore_acb_key(store: DirectoryKeyStore) -> None:
    private = store.ka_private(bytes.fromhex("ABABABABABABABAB"))
    assert private is not None
    assert private.private_numbers().private_value == int.from_bytes(ACB_KA_PRIVATE, "big")


@pytest.mark.shared
def test_gbcs_18_4_ecs12_response_key(store: DirectoryKeyStore) -> None:
    # Device A -> Supplier A: Supplier A's KA private key is only in the keystore.
    private = store.ka_private(SUPPLIER_A)
    assert private is not None
    z = ecdh(private, public_key_from_point(DEVICE_A_KA_PUBLIC))
    key = message_key(z, DEVICE_A, KdfMode.RESPONSE, 2, SUPPLIER_A)
    assert key == bytes.fromhex("4d32ac55f1bb5b7bbd813b111871b078")
