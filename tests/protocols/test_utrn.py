"""UTRN tokens: every vector of gbcs-reference.md 6.3, the reference-set top-ups, properties."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.security import DirectoryKeyStore, KdfMode, message_key
from smemu.protocols.utrn import (
    MAX_VALUE,
    PPTD_OFFSET,
    UtrnToken,
    ValueClass,
    decode_utrn,
    encode_utrn,
    utrn_key,
    utrn_tag,
    verhoeff_check_digit,
    verhoeff_valid,
    verify_utrn,
)

SUPPLIER_HEX = "90B3D51F30010000"
ESME_HEX = "00DB1234567890A0"
SUPPLIER = bytes.fromhex(SUPPLIER_HEX)
ESME = bytes.fromhex(ESME_HEX)
GSME = bytes.fromhex("00DB1234567890A1")

digits = st.text(alphabet="0123456789", min_size=19, max_size=19)
secrets = st.binary(min_size=32, max_size=32)
euis = st.binary(min_size=8, max_size=8)
counters = st.integers(0, (1 << 64) - 1)
values = st.integers(0, MAX_VALUE)
classes = st.sampled_from(list(ValueClass))


@pytest.fixture(scope="module")
def store(keystore_dir: Path) -> DirectoryKeyStore:
    return DirectoryKeyStore.load(keystore_dir)


@pytest.fixture(scope="module")
def esme_secret(store: DirectoryKeyStore) -> bytes:
    secret = store.prepayment_secret(SUPPLIER, ESME)
    assert secret is not None
    return secret


# --- Verhoeff (gbcs-reference.md 6.2, 6.3) --------------------------------------------------

VERHOEFF_VECTORS = [
    "73943333457189043313",
    "74301825837596672005",
    "73946144332040217315",
    "73947252416745201637",
]


@pytest.mark.parametrize("utrn", VERHOEFF_VECTORS)
def test_verhoeff_vectors(utrn: str) -> None:
    assert verhoeff_check_digit(utrn[:19]) == utrn[19]
    assert verhoeff_valid(utrn)


@pytest.mark.parametrize("utrn", VERHOEFF_VECTORS)
def test_verhoeff_rejects_every_other_check_digit(utrn: str) -> None:
    for digit in "0123456789":
        if digit != utrn[19]:
            assert not verhoeff_valid(utrn[:19] + digit)


@pytest.mark.parametrize("text", ["", "7", "7394333345718904331a", "7394333345718904331 ", "٣٣"])
def test_verhoeff_valid_rejects_empty_short_and_non_digit_input(text: str) -> None:
    assert verhoeff_valid(text) is False


@pytest.mark.parametrize(("text", "offset"), [("", None), ("12x4", 2), ("١٢٣", 0)])
def test_verhoeff_check_digit_raises_on_empty_or_non_digits(text: str, offset: int | None) -> None:
    with pytest.raises(DecodeError) as caught:
        verhoeff_check_digit(text)
    assert caught.value.offset == offset


@given(digits, st.integers(0, 19), st.integers(1, 9))
def test_verhoeff_detects_every_single_digit_substitution(
    payload: str, position: int, delta: int
) -> None:
    utrn = payload + verhoeff_check_digit(payload)
    wrong = str((int(utrn[position]) + delta) % 10)
    assert not verhoeff_valid(utrn[:position] + wrong + utrn[position + 1 :])


@given(digits, st.integers(0, 18))
def test_verhoeff_detects_every_adjacent_transposition(payload: str, position: int) -> None:
    # Holds for all 19 adjacent pairs of a 20-digit UTRN, including the last payload digit
    # with the check digit (checked exhaustively while writing this: for payload length 19
    # the final permutation row is 6, for which no swap with the check digit goes unseen).
    utrn = payload + verhoeff_check_digit(payload)
    a, b = utrn[position], utrn[position + 1]
    if a == b:
        return
    swapped = utrn[:position] + b + a + utrn[position + 2 :]
    assert not verhoeff_valid(swapped)


# --- gbcs-reference.md 6.3 table ------------------------------------------------------------


@pytest.mark.shared
def test_row_1_pounds(esme_secret: bytes) -> None:
    utrn = encode_utrn(
        prepayment_secret=esme_secret,
        originator=SUPPLIER_HEX,
        target=ESME_HEX,
        counter=0x100000000,
        value=100,
        value_class=ValueClass.POUNDS,
    )
    assert utrn == "73943333457189043313"
    token = decode_utrn(utrn)
    assert token.ptut_high == 0x0000A064
    assert token.ptut == 0x0000A064D51CA60B
    assert token.ptut + PPTD_OFFSET == 7394333345718904331


@pytest.mark.shared
def test_row_1_intermediate_values(esme_secret: bytes) -> None:
    key = utrn_key(esme_secret, SUPPLIER, ESME, 0x100000000)
    assert key == bytes.fromhex("63ff76381818753a346645be7adac537")
    assert key == message_key(esme_secret, SUPPLIER, KdfMode.COMMAND, 0x100000000, ESME)
    tag = utrn_tag(key, SUPPLIER, ESME, 0x100000000, 0x0000A064)
    assert tag == bytes.fromhex("43fcb7edd806c2cacd81b0d6d51ca60b")


@pytest.mark.shared
@pytest.mark.parametrize(
    ("originator", "target"),
    [
        ("90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A0"),
        ("90 b3 d5 1f 30 01 00 00", "00db1234567890a0"),
        ("90b3-D51F 3001-0000", "00 DB 12 34 56 78 90 A0"),
        (SUPPLIER, ESME),
    ],
    ids=["hyphens", "spaces-lower", "mixed", "bytes"],
)
def test_row_2_identifier_spellings(esme_secret: bytes, originator: str, target: str) -> None:
    utrn = encode_utrn(
        prepayment_secret=esme_secret,
        originator=originator,
        target=target,
        counter=0x100000000,
        value=100,
        value_class=ValueClass.POUNDS,
    )
    assert utrn[:19] == "7394333345718904331"


@pytest.mark.shared
def test_row_3_pennies_differ(esme_secret: bytes) -> None:
    utrn = encode_utrn(
        prepayment_secret=esme_secret,
        originator=SUPPLIER_HEX,
        target=ESME_HEX,
        counter=0x100000000,
        value=100,
        value_class=ValueClass.PENNIES,
    )
    assert utrn[:19] != "7394333345718904331"
    assert decode_utrn(utrn).value_class is ValueClass.PENNIES


@pytest.mark.shared
def test_row_4_pennies(esme_secret: bytes) -> None:
    utrn = encode_utrn(
        prepayment_secret=esme_secret,
        originator=SUPPLIER_HEX,
        target=ESME_HEX,
        counter=0x400000000,
        value=1234,
        value_class=ValueClass.PENNIES,
    )
    assert utrn == "73947252416745201637"
    assert decode_utrn(utrn).ptut_high == 0x000204D2
    key = utrn_key(esme_secret, SUPPLIER, ESME, 0x400000000)
    assert key == bytes.fromhex("1461cf01ebdd28ce9634741b8901905f")
    tag = utrn_tag(key, SUPPLIER, ESME, 0x400000000, 0x000204D2)
    assert tag == bytes.fromhex("30ed431f2e0517663cb25cbe3855d663")


@pytest.mark.shared
def test_row_5_class_defaults_to_pennies(esme_secret: bytes) -> None:
    utrn = encode_utrn(
        prepayment_secret=esme_secret,
        originator=SUPPLIER_HEX,
        target=ESME_HEX,
        counter=0x400000000,
        value=1234,
    )
    assert utrn[:19] == "7394725241674520163"


@pytest.mark.parametrize("value", [-1, 8192], ids=["row-6", "row-7"])
def test_rows_6_and_7_value_out_of_range(value: int) -> None:
    with pytest.raises(LocalProtocolError, match="value out of range"):
        encode_utrn(
            prepayment_secret=bytes(32),
            originator=SUPPLIER_HEX,
            target=ESME_HEX,
            counter=0x100000000,
            value=value,
            value_class=ValueClass.POUNDS,
        )


@pytest.mark.shared
def test_row_8_largest_value(esme_secret: bytes) -> None:
    utrn = encode_utrn(
        prepayment_secret=esme_secret,
        originator=SUPPLIER_HEX,
        target=ESME_HEX,
        counter=0x100000000,
        value=8191,
        value_class=ValueClass.POUNDS,
    )
    assert utrn == "73943680956463432551"
    assert decode_utrn(utrn).ptut_high == 0x0000BFFF


@pytest.mark.parametrize(
    ("originator", "target", "message"),
    [
        ("90B3D51F30010000d", ESME_HEX, "unexpected originator format"),
        (SUPPLIER_HEX, "00DB12_34567890A0", "unexpected target format"),
        ("90B3D51F3001000", ESME_HEX, "unexpected originator format"),
        ("90B3D51F3001000g", ESME_HEX, "unexpected originator format"),
        (SUPPLIER_HEX, "", "unexpected target format"),
        (SUPPLIER_HEX, "00:DB:12:34:56:78:90:A0", "unexpected target format"),
    ],
    ids=["row-9", "row-10", "15-digits", "not-hex", "empty", "colons"],
)
def test_rows_9_and_10_identifier_format(originator: str, target: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        encode_utrn(
            prepayment_secret=bytes(32),
            originator=originator,
            target=target,
            counter=0x100000000,
            value=5,
        )


@pytest.mark.parametrize(
    ("originator", "target"), [(SUPPLIER[:7], ESME), (SUPPLIER, ESME + b"\x00")]
)
def test_identifier_bytes_of_the_wrong_size(originator: bytes, target: bytes) -> None:
    with pytest.raises(LocalProtocolError, match="8 bytes"):
        encode_utrn(
            prepayment_secret=bytes(32), originator=originator, target=target, counter=0, value=5
        )


@pytest.mark.parametrize("counter", [-1, 1 << 64])
def test_counter_out_of_range(counter: int) -> None:
    with pytest.raises(LocalProtocolError, match="counter"):
        encode_utrn(
            prepayment_secret=bytes(32),
            originator=SUPPLIER,
            target=ESME,
            counter=counter,
            value=5,
        )


# --- reference-set tokens (gbcs-reference.md 6.3) ------------------------------------------

RTDS_TOKENS = [
    # (target, counter, value, class, UTRN)
    (ESME, 0x300000000, 10, ValueClass.POUNDS, "73946144332040217315"),  # CS01a SUCCESS
    (ESME, 0x500000000, 10, ValueClass.POUNDS, "73948959061972833313"),  # CS01a ERROR
    (GSME, 0x600000000, 1250, ValueClass.PENNIES, "73950067887105178605"),  # CS01b SUCCESS
]


@pytest.mark.shared
@pytest.mark.parametrize(
    ("target", "counter", "value", "value_class", "expected"),
    RTDS_TOKENS,
    ids=["CS01a-success", "CS01a-error", "CS01b-success"],
)
def test_reference_set_tokens(
    *,
    store: DirectoryKeyStore,
    target: bytes,
    counter: int,
    value: int,
    value_class: ValueClass,
    expected: str,
) -> None:
    secret = store.prepayment_secret(SUPPLIER, target)
    assert secret is not None
    utrn = encode_utrn(
        prepayment_secret=secret,
        originator=SUPPLIER,
        target=target,
        counter=counter,
        value=value,
        value_class=value_class,
    )
    assert utrn == expected
    token = decode_utrn(expected)
    assert (token.value, token.value_class, token.counter_bits) == (
        value,
        value_class,
        counter >> 32,
    )
    assert verify_utrn(
        expected, prepayment_secret=secret, originator=SUPPLIER, target=target, counter=counter
    )


def _top_up_command(path: Path) -> tuple[int, bytes, bytes, str]:
    """(originator counter, originator, recipient, token) of a CS01a/CS01b command file."""
    message = bytes.fromhex("".join(path.read_text().split()))
    start = message.index(b"\xdf\x09")  # the general-signing grouping header
    header = message[start:]
    assert header[2] == 0x01, "CRA: command"
    counter = int.from_bytes(header[3:11], "big")
    assert header[11] == 0x08
    assert header[20] == 0x08
    originator, recipient = header[12:20], header[21:29]
    # CS01a: A-XDR octet-string 09 14 + 20 digits; CS01b: ZCL octet string 14 + 20 digits.
    (token,) = re.findall(rb"\x14([0-9]{20})", header[29:])
    return counter, originator, recipient, token.decode("ascii")


def _top_up_commands(rtds_dir: Path, folder_pattern: str) -> list[Path]:
    return sorted(
        path for folder in rtds_dir.glob(folder_pattern) for path in folder.glob("*_COMMAND_*")
    )


@pytest.mark.shared
@pytest.mark.parametrize("folder_pattern", ["2.2_CS01a", "*_CS01b"], ids=["CS01a", "CS01b"])
def test_reference_set_commands_carry_the_token_we_make(
    rtds_dir: Path, store: DirectoryKeyStore, folder_pattern: str
) -> None:
    paths = _top_up_commands(rtds_dir, folder_pattern)
    if not paths:
        pytest.skip(f"no {folder_pattern} folder in {rtds_dir}")
    made_count = 0
    for path in paths:
        counter, originator, recipient, token = _top_up_command(path)
        assert counter & 0xFFFFFFFF == 0, path.name
        if "_ERROR_" in path.name and not verhoeff_valid(token):
            # Some error cases carry a deliberately invalid token (a wrong check digit).
            with pytest.raises(DecodeError):
                decode_utrn(token)
            continue
        decoded = decode_utrn(token)
        secret = store.prepayment_secret(originator, recipient)
        assert secret is not None, path.name
        made = encode_utrn(
            prepayment_secret=secret,
            originator=originator,
            target=recipient,
            counter=counter,
            value=decoded.value,
            value_class=decoded.value_class,
        )
        assert made == token, path.name
        made_count += 1
    assert made_count >= 1


# --- decoding and verifying ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("", "utrn"),
        ("7394614433204021731", "utrn"),
        ("739461443320402173155", "utrn"),
        ("7394614433204021731x", "utrn"),
        ("73946144332040217316", "utrn.check_digit"),
    ],
    ids=["empty", "19-digits", "21-digits", "non-digit", "check-digit"],
)
def test_decode_rejects_malformed_tokens(text: str, path: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_utrn(text)
    assert caught.value.path == path


def _with_check_digit(number: int) -> str:
    pptd = f"{number:019d}"
    return pptd + verhoeff_check_digit(pptd)


@pytest.mark.parametrize(
    ("number", "path"),
    [
        (PPTD_OFFSET - 1, "utrn.pptd"),  # PTUT negative
        (PPTD_OFFSET + (1 << 57), "utrn.pptd"),  # PTUT-high bit 25 set
        (PPTD_OFFSET + (2 << 45), "utrn.value_class"),  # class 2
    ],
    ids=["below-offset", "high-bits", "class-2"],
)
def test_decode_rejects_impossible_fields(number: int, path: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_utrn(_with_check_digit(number))
    assert caught.value.path == path


def test_token_rejects_out_of_range_fields() -> None:
    with pytest.raises(LocalProtocolError, match="value out of range"):
        UtrnToken(value=8192, value_class=ValueClass.PENNIES, counter_bits=0, ptut_low=0)
    with pytest.raises(LocalProtocolError, match="counter bits"):
        UtrnToken(value=0, value_class=ValueClass.PENNIES, counter_bits=1024, ptut_low=0)
    with pytest.raises(LocalProtocolError, match="PTUT-low"):
        UtrnToken(value=0, value_class=ValueClass.PENNIES, counter_bits=0, ptut_low=1 << 32)


@pytest.mark.shared
def test_verify_rejects_other_counters_targets_and_tags(esme_secret: bytes) -> None:
    utrn = "73946144332040217315"  # CS01a SUCCESS, counter 0x300000000

    def check(token: str | UtrnToken, target: bytes, counter: int) -> bool:
        return verify_utrn(
            token,
            prepayment_secret=esme_secret,
            originator=SUPPLIER,
            target=target,
            counter=counter,
        )

    assert check(utrn, ESME, 0x300000000)
    assert not check(utrn, ESME, 0x400000000)  # other counter bits
    assert not check(utrn, ESME, 0x300000001)  # same bits, other key
    assert not check(utrn, ESME, 0x40300000000)  # same bits 41..32, other key
    assert not check(utrn, GSME, 0x300000000)
    token = decode_utrn(utrn)
    forged = UtrnToken(
        value=token.value + 1,
        value_class=token.value_class,
        counter_bits=token.counter_bits,
        ptut_low=token.ptut_low,
    )
    assert not check(forged, ESME, 0x300000000)


@given(
    secret=secrets,
    originator=euis,
    target=euis,
    counter=counters,
    value=values,
    value_class=classes,
)
def test_encode_decode_verify_round_trip(
    *,
    secret: bytes,
    originator: bytes,
    target: bytes,
    counter: int,
    value: int,
    value_class: ValueClass,
) -> None:
    utrn = encode_utrn(
        prepayment_secret=secret,
        originator=originator,
        target=target,
        counter=counter,
        value=value,
        value_class=value_class,
    )
    assert len(utrn) == 20
    assert verhoeff_valid(utrn)
    token = decode_utrn(utrn)
    assert token.value == value
    assert token.value_class == value_class
    assert token.counter_bits == (counter >> 32) & 0x3FF
    assert token.utrn == utrn
    assert verify_utrn(
        token, prepayment_secret=secret, originator=originator, target=target, counter=counter
    )
    assert verify_utrn(
        utrn,
        prepayment_secret=secret,
        originator=originator.hex("-"),
        target=target.hex(" ").upper(),
        counter=counter,
    )
