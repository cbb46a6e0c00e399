"""GMAC and ciphered blocks: GBCS 18.4 and ECS12 MACs, the GCM sanity vector, ECS17b, properties."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError, SecurityError
from smemu.protocols.security import (
    BLOCK_HEADER,
    MAC_AAD_PREFIX,
    TAG_LENGTH,
    AuthenticationFailed,
    DirectoryKeyStore,
    KdfMode,
    decrypt_block,
    ecdh,
    encrypt_block,
    gmac,
    gmac_full,
    gmac_verify,
    message_key,
    private_key_from_scalar,
    public_key_from_point,
)

# gbcs-reference.md 4.7 (GBCS 18.4 published test vector).
ECS04B = bytes.fromhex(
    "DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE000200B335"
    "D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF020305000000000500000000"
    "05000000004059045AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9FE2E12E2DA3632478A8DF"
    "678E418895869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3"
)
ECS12_COMMAND = bytes.fromhex(
    "DD000000000000541100000000DF0901000000000000000208123456789ABCDEF008FFFFFFFFFFFFFFFE0002002220"
    "D920000002000102000100005E2C03020201090C07DF0105FF000000008000FF000F1DD00D6745EBD8E0A663A4"
)
ECS12_RESPONSE = bytes.fromhex(
    "DD000000000000401100000000DF0902000000000000000208FFFFFFFFFFFFFFFE08123456789ABCDEF0000200220C"
    "DA2000000200000100010200000B3C1B312CEAE9C130060E29"
)
ACB_KA_PRIVATE = bytes.fromhex("E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFB")
DEVICE_A_KA_PUBLIC = bytes.fromhex(
    "2DB45A3F21889438B42C8F464C75292BACF5FDDB5DA0B492501B299CBFE92D8F"
    "DB90FC8FF4026129838B1BCAD1402CAE47FE7D8084E409A41AFCE16D63579C5F"
)
SUPPLIER_A = bytes.fromhex("123456789ABCDEF0")
DEVICE_A = bytes.fromhex("FFFFFFFFFFFFFFFE")

keys = st.binary(min_size=16, max_size=16)
euis = st.binary(min_size=8, max_size=8)


def mac_aad(message: bytes) -> bytes:
    """AAD of a 'DD 00' message with a one-byte length: prefix + DF... up to the MAC."""
    assert message[7] < 0x80 or message[7] == 0x81
    start = 13 if message[7] < 0x80 else 14
    return MAC_AAD_PREFIX + message[start:-TAG_LENGTH]


def acb_device_a_secret() -> bytes:
    return ecdh(private_key_from_scalar(ACB_KA_PRIVATE), public_key_from_point(DEVICE_A_KA_PUBLIC))


# --- GBCS 18.4 and the ECS12 pair (gbcs-reference.md 4.7) ---------------------------------


def test_gbcs_18_4_ecs04b_mac() -> None:
    key = message_key(acb_device_a_secret(), SUPPLIER_A, KdfMode.COMMAND, 1, DEVICE_A)
    assert key == bytes.fromhex("859b846a24e1ea70a168409a1180676b")
    aad = mac_aad(ECS04B)
    assert aad[6] == 0xDF
    assert gmac_full(key, SUPPLIER_A, aad) == bytes.fromhex("5d832d15b57a56d620f198b3ab4893cc")
    assert gmac(key, SUPPLIER_A, aad) == ECS04B[-TAG_LENGTH:]
    assert gmac_verify(key, SUPPLIER_A, aad, ECS04B[-TAG_LENGTH:])


def test_gbcs_18_4_mac_fails_on_a_changed_byte() -> None:
    key = message_key(acb_device_a_secret(), SUPPLIER_A, KdfMode.COMMAND, 1, DEVICE_A)
    aad = bytearray(mac_aad(ECS04B))
    aad[40] ^= 0x01
    assert not gmac_verify(key, SUPPLIER_A, bytes(aad), ECS04B[-TAG_LENGTH:])


@pytest.mark.parametrize("length", [0, 4, 11, 13, 16])
def test_gmac_verify_is_false_for_a_tag_of_the_wrong_length(length: int) -> None:
    key = message_key(acb_device_a_secret(), SUPPLIER_A, KdfMode.COMMAND, 1, DEVICE_A)
    full = gmac_full(key, SUPPLIER_A, mac_aad(ECS04B))
    assert gmac_verify(key, SUPPLIER_A, mac_aad(ECS04B), full[:length]) is False


def test_gbcs_18_4_ecs12_command_mac() -> None:
    key = message_key(acb_device_a_secret(), SUPPLIER_A, KdfMode.COMMAND, 2, DEVICE_A)
    assert key == bytes.fromhex("f3332152ab0ef4cc34e08323b5689c41")
    assert gmac(key, SUPPLIER_A, mac_aad(ECS12_COMMAND)) == bytes.fromhex(
        "0F1DD00D6745EBD8E0A663A4"
    )
    assert ECS12_COMMAND.endswith(bytes.fromhex("0F1DD00D6745EBD8E0A663A4"))


@pytest.fixture(scope="module")
def store(keystore_dir: Path) -> DirectoryKeyStore:
    return DirectoryKeyStore.load(keystore_dir)


@pytest.mark.shared
def test_gbcs_18_4_ecs12_command_mac_from_the_keystore(store: DirectoryKeyStore) -> None:
    # 'ABABABABABABABAB' stands for the ACB; Device A's KA key is a bare public key file.
    z = store.shared_secret(bytes.fromhex("ABABABABABABABAB"), DEVICE_A)
    assert z is not None
    key = message_key(z, SUPPLIER_A, KdfMode.COMMAND, 2, DEVICE_A)
    assert gmac_verify(key, SUPPLIER_A, mac_aad(ECS12_COMMAND), ECS12_COMMAND[-TAG_LENGTH:])


@pytest.mark.shared
def test_gbcs_18_4_ecs12_response_mac(store: DirectoryKeyStore) -> None:
    z = store.shared_secret(DEVICE_A, SUPPLIER_A)
    assert z is not None
    key = message_key(z, DEVICE_A, KdfMode.RESPONSE, 2, SUPPLIER_A)
    assert key == bytes.fromhex("4d32ac55f1bb5b7bbd813b111871b078")
    tag = gmac(key, DEVICE_A, mac_aad(ECS12_RESPONSE))
    assert tag == bytes.fromhex("0B3C1B312CEAE9C130060E29") == ECS12_RESPONSE[-TAG_LENGTH:]


# --- GCM sanity vector (gbcs-reference.md 4.4) ---------------------------------------------

SANITY_KEY = bytes(range(16))
SANITY_ORIGINATOR = bytes.fromhex("90B3D51F30030000")


def test_gcm_sanity_vector_gmac() -> None:
    tag = gmac(SANITY_KEY, SANITY_ORIGINATOR, b"helloworld")
    assert tag == bytes.fromhex("fb3afed43b78508864f00da3")


def test_gcm_sanity_vector_ciphertext() -> None:
    # The GCM ciphertext does not depend on the AAD, so the block's ciphertext part matches
    # the vector's even though a ciphered block authenticates AAD 31, not "helloworld".
    block = encrypt_block(SANITY_KEY, SANITY_ORIGINATOR, b"one two three")
    assert block[:5] == BLOCK_HEADER
    assert block[5:-TAG_LENGTH] == bytes.fromhex("584fa806b24491178829d46c38")
    assert decrypt_block(SANITY_KEY, SANITY_ORIGINATOR, block) == b"one two three"


# --- ciphered blocks ---------------------------------------------------------------------


@given(keys, euis, st.binary(max_size=600))
def test_encrypt_decrypt_round_trip(key: bytes, originator: bytes, plaintext: bytes) -> None:
    block = encrypt_block(key, originator, plaintext)
    assert len(block) == len(plaintext) + 5 + TAG_LENGTH
    assert block.startswith(BLOCK_HEADER)
    assert decrypt_block(key, originator, block) == plaintext


@given(keys, euis, st.binary(max_size=300))
def test_block_matches_the_cipher_gcm_api(key: bytes, originator: bytes, plaintext: bytes) -> None:
    # Differential check against cryptography's streaming GCM with a 12-byte tag.
    block = encrypt_block(key, originator, plaintext)
    decryptor = Cipher(
        algorithms.AES(key),
        modes.GCM(originator + bytes(4), block[-TAG_LENGTH:], min_tag_length=TAG_LENGTH),
    ).decryptor()
    decryptor.authenticate_additional_data(b"\x31")
    assert decryptor.update(block[5:-TAG_LENGTH]) + decryptor.finalize() == plaintext


@given(keys, euis, st.binary(max_size=100), st.data())
def test_any_flipped_bit_after_the_header_fails(
    key: bytes, originator: bytes, plaintext: bytes, data: st.DataObject
) -> None:
    block = bytearray(encrypt_block(key, originator, plaintext))
    bit = data.draw(st.integers(5 * 8, len(block) * 8 - 1))
    block[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(AuthenticationFailed):
        decrypt_block(key, originator, bytes(block))


def test_wrong_key_or_originator_fails() -> None:
    block = encrypt_block(SANITY_KEY, SANITY_ORIGINATOR, b"register values")
    with pytest.raises(AuthenticationFailed):
        decrypt_block(bytes(16), SANITY_ORIGINATOR, block)
    with pytest.raises(AuthenticationFailed):
        decrypt_block(SANITY_KEY, bytes(8), block)


def test_authentication_failed_is_a_security_error() -> None:
    assert issubclass(AuthenticationFailed, SecurityError)


@pytest.mark.parametrize(
    ("block", "path"),
    [
        (bytes.fromhex("3100000000") + bytes(11), "ciphered_block"),
        (bytes.fromhex("1100000000") + bytes(12), "ciphered_block.security_control"),
        (bytes.fromhex("3100000001") + bytes(12), "ciphered_block.invocation_counter"),
    ],
    ids=["short", "security-control", "invocation-counter"],
)
def test_malformed_block_is_a_decode_error(block: bytes, path: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decrypt_block(SANITY_KEY, SANITY_ORIGINATOR, block)
    assert caught.value.path == path


def test_empty_plaintext_block() -> None:
    block = encrypt_block(SANITY_KEY, SANITY_ORIGINATOR, b"")
    assert len(block) == 17
    assert decrypt_block(SANITY_KEY, SANITY_ORIGINATOR, block) == b""


def test_key_and_originator_sizes_are_checked() -> None:
    with pytest.raises(SecurityError, match="16 bytes"):
        gmac(bytes(15), SANITY_ORIGINATOR, b"")
    with pytest.raises(SecurityError, match="16 bytes"):
        encrypt_block(bytes(32), SANITY_ORIGINATOR, b"")
    with pytest.raises(LocalProtocolError, match="8 bytes"):
        gmac(SANITY_KEY, bytes(9), b"")


# --- reference set: ECS17b encrypted register read (gbcs-reference.md 4.5) -----------------

ECS17B_PLAINTEXT = bytes.fromhex(
    "020102040600 00000A02020F00161E0600 00000A02020F001620".replace(" ", "")
)
ESME = bytes.fromhex("00DB1234567890A0")
SUPPLIER = bytes.fromhex("90B3D51F30010000")


@pytest.mark.shared
def test_ecs17b_response_decrypts(rtds_dir: Path, store: DirectoryKeyStore) -> None:
    (path,) = (rtds_dir / "4.1.1_ECS17b").glob("*SINGLE_SUCCESS_RESPONSE*")
    message = bytes.fromhex("".join(path.read_text().split()))
    # The ciphered block is an A-XDR octet-string (09, length) starting 31 00000000.
    found = re.search(rb"\x09([\x11-\x7f])\x31\x00\x00\x00\x00", message)
    assert found is not None
    block = message[found.start() + 2 : found.start() + 2 + found[1][0]]
    given_key = bytes.fromhex("12cb821c471ec2144c68e12a5657f9fd")
    assert decrypt_block(given_key, ESME, block) == ECS17B_PLAINTEXT
    # The same key from the keystore: ESME -> supplier, mode 04, the response's counter.
    counter = int.from_bytes(message[17:25], "big")
    assert counter == 1000
    z = store.shared_secret(SUPPLIER, ESME)
    assert z is not None
    assert message_key(z, ESME, KdfMode.ENCRYPTION, counter, SUPPLIER) == given_key
    with pytest.raises(AuthenticationFailed):
        decrypt_block(message_key(z, ESME, KdfMode.RESPONSE, counter, SUPPLIER), ESME, block)


# --- reference set: every MAC (gbcs-reference.md 4.2, 4.8) ---------------------------------

ACB = bytes.fromhex("90B3D51F30000002")
# HAN-only PPMID -> GSME commands need device private keys, which the keystore lacks.
HAN_ONLY = ("PCS01", "PCS02")


@pytest.mark.shared
def test_every_mac_in_the_reference_set_verifies(rtds_dir: Path, store: DirectoryKeyStore) -> None:
    checked = 0
    failed = []
    for path in sorted(rtds_dir.rglob("*.HEX")):
        message = bytes.fromhex("".join(path.read_text().split()))
        if message[:2] != b"\xdd\x00" or path.name.startswith(HAN_ONLY):
            continue
        size = message[7]
        start = 8 + (size & 0x7F if size & 0x80 else 0)
        assert message[start : start + 5] == bytes.fromhex("1100000000"), path.name
        apdu = message[start + 5 : -TAG_LENGTH]
        cra, counter = apdu[2], int.from_bytes(apdu[3:11], "big")
        originator, recipient = apdu[12:20], apdu[21:29]
        # Commands are MAC'd with the ACB key; responses and alerts by the device.
        z = store.shared_secret(ACB if cra == 1 else originator, recipient)
        assert z is not None, path.name
        key = message_key(z, originator, cra, counter, recipient)
        checked += 1
        if not gmac_verify(key, originator, MAC_AAD_PREFIX + apdu, message[-TAG_LENGTH:]):
            failed.append(path.name)
    assert checked > 100
    assert failed == []
