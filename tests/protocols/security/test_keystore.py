"""Key stores: the reference keystore, lookups, cached ECDH secrets, bad folders."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smemu.errors import LocalProtocolError, SecurityError
from smemu.protocols.security import (
    DirectoryKeyStore,
    InMemoryKeyStore,
    KeyKind,
    KeyStore,
    PrivateKey,
    PublicKey,
    ecdh,
    load_public_pem,
    private_scalar,
    public_point,
)
from smemu.protocols.security import keystore as keystore_module

SUPPLIER = bytes.fromhex("90B3D51F30010000")
ACB = bytes.fromhex("90B3D51F30000002")
ESME = bytes.fromhex("00DB1234567890A0")
GSME = bytes.fromhex("00DB1234567890A1")
SUPPLIER_A = bytes.fromhex("123456789ABCDEF0")
DEVICE_A = bytes.fromhex("FFFFFFFFFFFFFFFE")
KEY_FILE = re.compile(r"([0-9a-f]{16})-(ds|ka|pp-ka)\.(pem|key)")


@pytest.fixture(scope="module")
def store(keystore_dir: Path) -> DirectoryKeyStore:
    return DirectoryKeyStore.load(keystore_dir)


def counting_ecdh(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace the keystore's ECDH with one that counts its calls."""
    calls: list[int] = []

    def wrapper(private: PrivateKey, public: PublicKey) -> bytes:
        calls.append(1)
        return ecdh(private, public)

    monkeypatch.setattr(keystore_module, "ecdh", wrapper)
    return calls


def pem_public(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pem_private(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# --- the reference keystore ----------------------------------------------------------------


@pytest.mark.shared
def test_every_key_file_is_filed_under_its_name(
    keystore_dir: Path, store: DirectoryKeyStore
) -> None:
    files = sorted(keystore_dir.iterdir())
    assert len(files) > 400
    for path in files:
        match = KEY_FILE.fullmatch(path.name)
        assert match is not None, path.name
        eui, kind = bytes.fromhex(match[1]), KeyKind(match[2])
        if match[3] == "pem":
            public = store.public_key(eui, kind)
            assert public is not None, path.name
            expected = load_public_pem(path.read_bytes()).public_key
            assert public_point(public) == public_point(expected), path.name
        else:
            assert store.private_key(eui, kind) is not None, path.name
    assert len(store.euis()) == len({p.name[:16] for p in files})


@pytest.mark.shared
def test_lookups_by_eui(store: DirectoryKeyStore) -> None:
    assert store.ds_public(SUPPLIER) is not None
    assert store.ds_private(SUPPLIER) is not None
    assert store.ka_private(SUPPLIER) is not None
    assert store.pp_ka_private(SUPPLIER) is not None
    assert store.pp_ka_public(SUPPLIER) is not None
    assert store.ds_public(ESME) is not None
    assert store.ka_public(ESME) is not None
    # Devices have certificates only; unknown parties have nothing.
    assert store.ds_private(ESME) is None
    assert store.ka_private(ESME) is None
    assert store.pp_ka_public(ESME) is None
    assert store.ka_public(bytes(8)) is None
    assert store.ka_public(b"short") is None


@pytest.mark.shared
def test_public_key_is_derived_when_only_the_private_key_is_filed(
    store: DirectoryKeyStore,
) -> None:
    # 123456789abcdef0 has a -ka.key file and no -ka.pem.
    private = store.ka_private(SUPPLIER_A)
    public = store.ka_public(SUPPLIER_A)
    assert private is not None
    assert public is not None
    assert public_point(public) == public_point(private)
    assert store.certificate_eui(SUPPLIER_A, KeyKind.KA) is None


@pytest.mark.shared
def test_private_and_public_halves_match(store: DirectoryKeyStore) -> None:
    private = store.ka_private(SUPPLIER)
    public = store.ka_public(SUPPLIER)
    assert private is not None
    assert public is not None
    assert public_point(private) == public_point(public)


@pytest.mark.shared
def test_certified_euis(store: DirectoryKeyStore) -> None:
    # Organisation: x500UniqueIdentifier. Device: subjectAltName hwSerialNum.
    assert store.certificate_eui(SUPPLIER, KeyKind.DS) == SUPPLIER
    assert store.certificate_eui(SUPPLIER, KeyKind.PP_KA) == SUPPLIER
    assert store.certificate_eui(ESME, KeyKind.KA) == ESME
    assert store.certificate_eui(GSME, KeyKind.DS) == GSME
    # A bare public key names nobody.
    assert store.certificate_eui(DEVICE_A, KeyKind.KA) is None
    # Test-data quirk: the WAN provider's KA file holds the second supplier's certificate.
    assert store.certificate_eui(bytes.fromhex("90B3D51F30000007"), KeyKind.KA) == bytes.fromhex(
        "90B3D51F30030000"
    )


@pytest.mark.shared
def test_shared_secret_is_symmetric_and_cached(
    keystore_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryKeyStore.load(keystore_dir)
    calls = counting_ecdh(monkeypatch)
    first = store.shared_secret(ACB, ESME)
    assert first is not None
    assert len(first) == 32
    assert store.shared_secret(ESME, ACB) == first
    assert store.shared_secret(ACB, ESME) is first
    assert len(calls) == 1
    private = store.ka_private(ACB)
    public = store.ka_public(ESME)
    assert private is not None
    assert public is not None
    assert first == ecdh(private, public)


@pytest.mark.shared
def test_shared_secret_without_private_keys_is_none_and_cached(
    keystore_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryKeyStore.load(keystore_dir)
    calls = counting_ecdh(monkeypatch)
    lookups: list[tuple[bytes, KeyKind]] = []
    original = store.private_key

    def spy(eui: bytes, kind: KeyKind) -> PrivateKey | None:
        lookups.append((eui, kind))
        return original(eui, kind)

    monkeypatch.setattr(store, "private_key", spy)
    assert store.shared_secret(ESME, GSME) is None
    count = len(lookups)
    assert store.shared_secret(GSME, ESME) is None
    assert len(lookups) == count
    assert calls == []


@pytest.mark.shared
def test_prepayment_secret_uses_the_pp_ka_key_and_is_cached(
    keystore_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryKeyStore.load(keystore_dir)
    calls = counting_ecdh(monkeypatch)
    secret = store.prepayment_secret(SUPPLIER, ESME)
    assert secret is not None
    assert store.prepayment_secret(SUPPLIER, ESME) == secret
    assert len(calls) == 1
    pp = store.pp_ka_private(SUPPLIER)
    device = store.ka_public(ESME)
    assert pp is not None
    assert device is not None
    assert secret == ecdh(pp, device)
    assert secret != store.shared_secret(SUPPLIER, ESME)


def test_prepayment_secret_from_the_device_side() -> None:
    supplier_side = InMemoryKeyStore()
    device_side = InMemoryKeyStore()
    pp_public = supplier_side.generate_key(SUPPLIER, KeyKind.PP_KA)
    device_public = device_side.generate_key(ESME, KeyKind.KA)
    supplier_side.add_public_key(ESME, KeyKind.KA, device_public)
    device_side.add_public_key(SUPPLIER, KeyKind.PP_KA, pp_public)
    secret = supplier_side.prepayment_secret(SUPPLIER, ESME)
    assert secret is not None
    assert device_side.prepayment_secret(SUPPLIER, ESME) == secret
    assert device_side.shared_secret(SUPPLIER, ESME) is None  # no ordinary KA key for SUPPLIER


# --- folders that do not load ----------------------------------------------------------------


def write_valid_pair(folder: Path) -> PrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    (folder / "0000000000000001-ka.key").write_bytes(pem_private(key))
    (folder / "0000000000000001-ka.pem").write_bytes(pem_public(key.public_key()))
    return key


def test_a_small_folder_loads(tmp_path: Path) -> None:
    key = write_valid_pair(tmp_path)
    (tmp_path / "README.txt").write_text("not a key")
    (tmp_path / "sub.pem").mkdir()
    store = DirectoryKeyStore.load(str(tmp_path))
    eui = bytes.fromhex("0000000000000001")
    assert store.euis() == {eui}
    private = store.ka_private(eui)
    assert private is not None
    assert private_scalar(private) == private_scalar(key)
    assert store.path == tmp_path
    assert "parties=1" in repr(store)


def test_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(SecurityError, match="not found"):
        DirectoryKeyStore.load(tmp_path / "absent")
    (tmp_path / "file").write_text("")
    with pytest.raises(SecurityError, match="not found"):
        DirectoryKeyStore.load(tmp_path / "file")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "0000000000000002-ka.pem",
            b"-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n",
        ),
        ("0000000000000002-ds.pem", b"not pem at all"),
        (
            "0000000000000002-ka.key",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
        ("0000000000000002-ka.key", b"a .key file that holds no private key"),
        ("0000000000000002.pem", b""),
        ("0000000000000002-xx.pem", b""),
    ],
    ids=["bad-certificate", "not-pem", "bad-private-key", "key-not-private", "no-kind", "bad-kind"],
)
def test_bad_file_raises_naming_the_file(tmp_path: Path, name: str, content: bytes) -> None:
    write_valid_pair(tmp_path)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SecurityError, match=re.escape(name)):
        DirectoryKeyStore.load(tmp_path)


def test_private_key_in_a_pem_file_raises(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "0000000000000003-ds.pem").write_bytes(pem_private(key))
    with pytest.raises(SecurityError, match=r"0000000000000003-ds\.pem"):
        DirectoryKeyStore.load(tmp_path)


def test_key_on_another_curve_raises(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / "0000000000000004-ka.pem").write_bytes(pem_public(key.public_key()))
    with pytest.raises(SecurityError, match="secp256r1"):
        DirectoryKeyStore.load(tmp_path)


def test_names_differing_only_in_case_raise(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "000000000000000a-ka.pem").write_bytes(pem_public(key.public_key()))
    (tmp_path / "000000000000000A-ka.pem").write_bytes(pem_public(key.public_key()))
    with pytest.raises(SecurityError, match="same key"):
        DirectoryKeyStore.load(tmp_path)


# --- the in-memory store ---------------------------------------------------------------------


def test_in_memory_store_is_a_key_store() -> None:
    assert isinstance(InMemoryKeyStore(), KeyStore)


def test_scalar_private_key_is_built_on_first_use() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    store = InMemoryKeyStore()
    store.add_private_key(ESME, KeyKind.KA, private_scalar(key))
    built = store.ka_private(ESME)
    assert built is not None
    assert built is store.ka_private(ESME)
    public = store.ka_public(ESME)
    assert public is not None
    assert public_point(public) == public_point(key)


def test_adding_a_key_clears_cached_secrets() -> None:
    store = InMemoryKeyStore()
    store.generate_key(ACB, KeyKind.KA)
    store.add_public_key(ESME, KeyKind.KA, ec.generate_private_key(ec.SECP256R1()).public_key())
    before = store.shared_secret(ACB, ESME)
    store.add_public_key(ESME, KeyKind.KA, ec.generate_private_key(ec.SECP256R1()).public_key())
    after = store.shared_secret(ACB, ESME)
    assert before is not None
    assert after is not None
    assert before != after


def test_replacing_a_private_key_replaces_its_derived_public_key() -> None:
    store = InMemoryKeyStore()
    first = store.generate_key(ESME, KeyKind.DS)
    found = store.ds_public(ESME)
    assert found is not None
    assert public_point(found) == public_point(first)
    second = store.generate_key(ESME, KeyKind.DS)
    found = store.ds_public(ESME)
    assert found is not None
    assert public_point(found) == public_point(second) != public_point(first)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda s: s.add_private_key(b"\x00" * 9, KeyKind.KA, bytes(32)), LocalProtocolError),
        (lambda s: s.add_private_key(ESME, KeyKind.KA, bytes(31)), SecurityError),
        (
            lambda s: s.add_private_key(ESME, KeyKind.KA, ec.generate_private_key(ec.SECP384R1())),
            SecurityError,
        ),
        (
            lambda s: s.add_public_key(
                ESME, KeyKind.KA, ec.generate_private_key(ec.SECP384R1()).public_key()
            ),
            SecurityError,
        ),
        (lambda s: s.generate_key(b"", KeyKind.DS), LocalProtocolError),
    ],
    ids=["long-eui", "short-scalar", "p384-private", "p384-public", "empty-eui"],
)
def test_bad_additions_raise(
    call: Callable[[InMemoryKeyStore], object], error: type[Exception]
) -> None:
    store = InMemoryKeyStore()
    with pytest.raises(error):
        call(store)
    assert store.euis() == frozenset()


def test_zero_scalar_raises_when_first_used() -> None:
    store = InMemoryKeyStore()
    store.add_private_key(ESME, KeyKind.KA, bytes(32))
    with pytest.raises(SecurityError, match="out of range"):
        store.ka_private(ESME)


def test_add_pem_accepts_public_and_private_keys() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    store = InMemoryKeyStore()
    store.add_pem(ESME, KeyKind.KA, pem_public(key.public_key()))
    store.add_pem(SUPPLIER, KeyKind.KA, pem_private(key))
    assert store.ka_private(ESME) is None
    found = store.ka_private(SUPPLIER)
    assert found is not None
    assert private_scalar(found) == private_scalar(key)
    assert store.euis() == {ESME, SUPPLIER}
