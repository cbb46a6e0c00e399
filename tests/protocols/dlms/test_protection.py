"""Ciphered blocks in DLMS payloads (GBCS ref. §4.5, §7.6): locate, parameters, plaintext view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.dlms import apdu, axdr, protection
from smemu.protocols.dlms.apdu import (
    AccessResponseAction,
    AccessResponseGet,
    AccessResponseMessage,
    DataNotificationMessage,
    DlmsMessage,
)
from smemu.protocols.dlms.axdr import (
    Array,
    Data,
    Enum,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.dlms.protection import ProtectedBlock, ProtectionParameters
from tests.protocols.dlms._payload import read_rtds
from tests.strategies.dlms import ciphered_blocks, data_values, protection_parameters

ESME = bytes.fromhex("00DB1234567890A0")
SUPPLIER = bytes.fromhex("90B3D51F30010000")

#: Use cases whose DLMS responses/alerts carry an encrypted block (§4.5, §7.6).
ENCRYPTING_USE_CASES = {
    "ECS17b", "ECS17d", "ECS17e", "ECS19", "ECS20b", "ECS20c", "ECS21a", "ECS21b", "ECS22b",
    "ECS66", "ECS68",
}  # fmt: skip

#: §4.5 example: the decrypted ECS17b SINGLE_SUCCESS block (two registers of 10, Wh / varh).
ECS17B_PLAINTEXT = bytes.fromhex("0201 0204 060000000A 02020F00161E 060000000A 02020F001620")

KEY_INFO = Structure((Enum(2), Structure((OctetString(b"\x02"), OctetString(b"")))))


def _use_case(path: Path) -> str:
    return path.parent.name.split("_", 1)[1]


def test_rtds_blocks_are_found_exactly_where_the_reference_says(rtds_dlms_file: Path) -> None:
    found = read_rtds(rtds_dlms_file)
    assert found.family == "dlms"
    message = apdu.decode_exact(found.payload)
    blocks = protection.find_blocks(message)
    encrypting = _use_case(rtds_dlms_file) in ENCRYPTING_USE_CASES
    name = rtds_dlms_file.name
    delivers_data = found.cra == 3 or re.search(r"SUCCESS_RESPONSE", name) is not None
    assert len(blocks) == (1 if encrypting and delivers_data else 0)
    for block in blocks:
        assert block.block in found.payload
        assert block.block[:5] == b"\x31\x00\x00\x00\x00"
        (params,) = block.parameters
        # §4.5: the parameters repeat the grouping header's parties and counter
        assert params.protection_type == 2
        assert params.mode == 0x04
        assert params.counter == found.counter
        assert params.originator == found.originator
        assert params.recipient == found.recipient
        assert params.key_info == KEY_INFO


def test_ecs17b_block_parameters_and_plaintext_view(rtds_dir: Path) -> None:
    found = read_rtds(rtds_dir / "4.1.1_ECS17b" / "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    message = apdu.decode_exact(found.payload)
    assert isinstance(message, AccessResponseMessage)
    (block,) = protection.find_blocks(message)
    assert block.location == (0, 1)
    assert block.path == "access_response.list_of_data[0].structure[1]"
    assert len(block.block) == 0x2B
    assert block.parameters == (
        ProtectionParameters(2, bytes.fromhex("0400000000000003E8"), ESME, SUPPLIER, b"", KEY_INFO),
    )
    assert block.parameters[0].counter == 1000

    plaintext = protection.decode_plaintext(ECS17B_PLAINTEXT)
    view = protection.replace_block(message, block, plaintext)
    assert isinstance(view, AccessResponseMessage)
    params_array, value = view.list_of_data[0].items  # type: ignore[union-attr]
    assert params_array == Array((block.parameters[0].to_data(),))
    assert value == plaintext
    assert view.specifications == message.specifications == (AccessResponseAction(0),)
    assert protection.find_blocks(view) == ()
    assert apdu.decode_exact(apdu.encode(view)) == view  # the view still encodes as A-XDR


def test_ecs68_alert_block_sits_in_the_notification_body(rtds_dir: Path) -> None:
    found = read_rtds(rtds_dir / "NA_ECS68" / "ECS68_NA_8F0A_SINGLE_ALERT_GBCS.HEX")
    message = apdu.decode_exact(found.payload)
    assert isinstance(message, DataNotificationMessage)
    (block,) = protection.find_blocks(message)
    assert block.location == (0, 3)
    assert block.path == "data_notification.body.structure[3]"
    assert block.parameters[0].counter == 2001 == found.counter
    view = protection.replace_block(message, block, NullData())
    assert isinstance(view, DataNotificationMessage)
    assert isinstance(view.body, Structure)
    assert view.body.items[0] == LongUnsigned(0x8F0A)
    assert view.body.items[3] == NullData()


def test_plaintext_must_be_one_data_value() -> None:
    assert protection.decode_plaintext(b"\x12\x00\x01") == LongUnsigned(1)
    with pytest.raises(DecodeError) as info:
        protection.decode_plaintext(b"\x12\x00\x01\x00")
    assert (info.value.path, info.value.offset) == ("plaintext", 3)
    with pytest.raises(DecodeError) as info:
        protection.decode_plaintext(b"\x02\x01\x12\x00")
    assert info.value.path == "plaintext.structure[0].long_unsigned"


def _params() -> Array:
    return Array(
        (ProtectionParameters(2, b"\x04" + bytes(8), ESME, SUPPLIER, b"", KEY_INFO).to_data(),)
    )


BLOCK = b"\x31" + bytes(4) + b"\xaa" * 3 + bytes(12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Structure((_params(), OctetString(BLOCK))), 1),  # the control case
        (Structure((NullData(), _params(), OctetString(BLOCK))), 1),  # ECS68 style, inline
        (Structure((_params(), OctetString(b"\x30" + BLOCK[1:]))), 0),  # not 0x31
        (Structure((_params(), OctetString(BLOCK[:16]))), 0),  # shorter than SC+IC+tag
        (Structure((Array(()), OctetString(BLOCK))), 0),  # no parameters
        (Structure((Array((Structure((Enum(2), NullData())),)), OctetString(BLOCK))), 0),
        (Structure((_params(), LongUnsigned(1), OctetString(BLOCK))), 0),  # not adjacent
        (Structure((OctetString(BLOCK), _params())), 0),  # wrong order
        (Array((_params(), OctetString(BLOCK))), 0),  # an array, not a structure
    ],
)
def test_only_the_protected_shape_is_a_block(value: Data, expected: int) -> None:
    message = AccessResponseMessage(0, b"", (value,), (AccessResponseGet(0),))
    assert len(protection.find_blocks(message)) == expected


def test_ciphered_block_frame_check() -> None:
    protection.check_ciphered_block(BLOCK)
    with pytest.raises(DecodeError, match="at least 17"):
        protection.check_ciphered_block(BLOCK[:16])
    with pytest.raises(DecodeError, match="0x31, got 0x30") as info:
        protection.check_ciphered_block(b"\x30" + BLOCK[1:])
    assert (info.value.path, info.value.offset) == ("security_control", 0)


def test_protection_parameters_shape_and_counter() -> None:
    params = ProtectionParameters(
        2, b"\x04" + (7).to_bytes(8, "big"), ESME, SUPPLIER, b"", KEY_INFO
    )
    assert ProtectionParameters.from_data(params.to_data()) == params
    assert ProtectionParameters.from_data(LongUnsigned(1)) is None
    assert ProtectionParameters.from_data(Structure((Enum(2), Structure(())))) is None
    assert (params.counter, params.mode) == (7, 4)
    with pytest.raises(DecodeError, match="9-byte transaction id"):
        _ = ProtectionParameters(2, b"\x04", ESME, SUPPLIER, b"", KEY_INFO).counter


def test_replace_data_rejects_locations_outside_the_message() -> None:
    response = AccessResponseMessage(0, b"", (Structure((NullData(),)),), ())
    notification = DataNotificationMessage(0, b"", Structure((NullData(),)))
    assert protection.replace_data(response, (0, 0), LongUnsigned(5)) == AccessResponseMessage(
        0, b"", (Structure((LongUnsigned(5),)),), ()
    )
    assert protection.replace_data(notification, (0,), NullData()).body == NullData()
    cases: list[tuple[DlmsMessage, tuple[int, ...]]] = [
        (response, ()),
        (response, (1,)),
        (response, (0, 1)),
        (response, (0, 0, 0)),  # into a null-data
        (notification, (1, 0)),
    ]
    for message, location in cases:
        with pytest.raises(LocalProtocolError):
            protection.replace_data(message, location, NullData())


@st.composite
def responses_with_blocks(
    draw: st.DrawFn,
) -> tuple[AccessResponseMessage, list[tuple[tuple[int, ...], bytes]]]:
    """A response holding plain values and protected pairs at known places."""
    items: list[Data] = []
    planted: list[tuple[tuple[int, ...], bytes]] = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["plain", "pair", "nested"]))
        if kind == "plain":
            items.append(draw(data_values))
            continue
        block = draw(ciphered_blocks)
        params = Array(
            tuple(
                p.to_data() for p in draw(st.lists(protection_parameters, min_size=1, max_size=2))
            )
        )
        pair = Structure((params, OctetString(block)))
        if kind == "pair":
            items.append(pair)
            planted.append(((i, 1), block))
        else:
            before = draw(st.lists(data_values, max_size=2))
            items.append(Structure((*before, Array((pair,)))))
            planted.append(((i, len(before), 0, 1), block))
    message = AccessResponseMessage(
        0x20000001, b"", tuple(items), (AccessResponseGet(0),) * len(items)
    )
    return message, planted


@given(responses_with_blocks())
def test_planted_blocks_are_found_in_order_and_replaceable(
    case: tuple[AccessResponseMessage, list[tuple[tuple[int, ...], bytes]]],
) -> None:
    built, planted = case
    message = apdu.decode_exact(apdu.encode(built))  # as a decoder would hand it over
    assert message == built
    blocks = protection.find_blocks(message)
    assert [(b.location, b.block) for b in blocks] == planted
    view = message
    for block in blocks:
        view = protection.replace_block(view, block, LongUnsigned(7))
    assert protection.find_blocks(view) == ()
    assert isinstance(view, AccessResponseMessage)
    for location, _ in planted:
        value: Data = view.list_of_data[location[0]]
        for index in location[1:]:
            assert isinstance(value, Structure | Array)
            value = value.items[index]
        assert value == LongUnsigned(7)


def test_blocks_record_paths_for_reports() -> None:
    pair = Structure((_params(), OctetString(BLOCK)))
    message = AccessResponseMessage(0, b"", (NullData(), Array((pair,))), ())
    (block,) = protection.find_blocks(message)
    assert isinstance(block, ProtectedBlock)
    assert block.path == "access_response.list_of_data[1].array[0].structure[1]"
    assert block.location == (1, 0, 1)
    assert axdr.encode(OctetString(block.block))[2:] == BLOCK
