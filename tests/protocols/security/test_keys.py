"""Raw P-256 key forms: scalars and X||Y points, checked against GBCS 18.4 (reference 4.7)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from smemu.errors import SecurityError
from smemu.protocols.security import (
    generate_private_key,
    private_key_from_scalar,
    private_scalar,
    public_key_from_point,
    public_point,
)

ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SUPPLIER_A_DS_PRIVATE = bytes.fromhex(
    "3A6B2EAA0D9F25A9E455983FEB5BB947528121911BF3B76BE5661C89DBF24B26"
)
SUPPLIER_A_DS_PUBLIC = bytes.fromhex(
    "76628E1C84EF7935548AE5D62C7BB3AD28964CF794F0387A697EEC19CDD98F46"
    "0A4D5E19087EF7216ED89C29831A6EE838C8DE88EF34F11D3F41F36D80B2A5D5"
)


def test_published_private_key_gives_the_published_public_key() -> None:
    key = private_key_from_scalar(SUPPLIER_A_DS_PRIVATE)
    assert public_point(key) == SUPPLIER_A_DS_PUBLIC
    assert public_point(key.public_key()) == SUPPLIER_A_DS_PUBLIC
    assert private_scalar(key) == SUPPLIER_A_DS_PRIVATE


def test_point_forms() -> None:
    key = public_key_from_point(SUPPLIER_A_DS_PUBLIC)
    assert public_point(public_key_from_point(b"\x04" + SUPPLIER_A_DS_PUBLIC)) == public_point(key)


@settings(max_examples=25)
@given(st.integers(1, ORDER - 1))
def test_scalar_round_trip(value: int) -> None:
    key = private_key_from_scalar(value)
    scalar = private_scalar(key)
    assert len(scalar) == 32
    assert private_key_from_scalar(scalar).private_numbers().private_value == value
    assert public_point(public_key_from_point(public_point(key))) == public_point(key)


@pytest.mark.parametrize(
    "scalar",
    [0, ORDER, -1, bytes(32), bytes(31), b"\xff" * 32],
    ids=["zero", "order", "negative", "zero-bytes", "short", "above-order"],
)
def test_bad_scalars_raise(scalar: int | bytes) -> None:
    with pytest.raises(SecurityError):
        private_key_from_scalar(scalar)


@pytest.mark.parametrize(
    "point",
    [b"", bytes(64), SUPPLIER_A_DS_PUBLIC[:-1] + b"\x00", b"\x05" + SUPPLIER_A_DS_PUBLIC],
    ids=["empty", "zero", "off-curve", "bad-prefix"],
)
def test_bad_points_raise(point: bytes) -> None:
    with pytest.raises(SecurityError):
        public_key_from_point(point)


def test_generated_keys_are_p256() -> None:
    key = generate_private_key()
    assert isinstance(key.curve, ec.SECP256R1)
