"""GBCS framing: golden vectors annotated field by field, the reference corpus, and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from smemu.errors import DecodeError
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.frame import (
    GeneralSigningMessage,
    MacProtectedMessage,
    OtherInformation,
)
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.text import parse_message_text

# gbcs-reference.md 5.1: ECS42 "Remotely close the load switch" command (signed and MAC'd).
ECS42_COMMAND = bytes.fromhex(
    "DD00000000000081891100000000DF090100000000000003E80890B3D51F300100000800DB1234567890A0"
    "0002004F15D9200003E8000103000900000A006AFF010112003340A76D84F6E53D8D1B7B58B8B4A69C06A1"
    "C449C48B2742AE7D9C96D24BA8E4E7C9D7FBF0595F1DFCE16F42AE59167191D02B8E5C67A50EC442A30A0A"
    "5B701D0E58EFD36E695298259FADF662FA"
)
# gbcs-reference.md 5.3: ECS52 firmware version response (non-critical: MAC, no signature).
ECS52_RESPONSE = bytes.fromhex(
    "DD000000000000451100000000DF090200000000000003E80800DB1234567890A00890B3D51F3001000000"
    "020059 11 DA200003E80000010904 0123ABCD 010100 00 3BA27AAC07F946BFD463702F".replace(" ", "")
)
SUPPLIER = Eui64.parse("90B3D51F30010000")
ESME = Eui64.parse("00DB1234567890A0")


def test_ecs42_command_fields() -> None:
    message = frame.decode_exact(ECS42_COMMAND)
    assert isinstance(message, MacProtectedMessage)
    header = message.inner.header
    assert header.cra is Cra.COMMAND
    assert header.originator_counter == 1000
    assert header.originator == SUPPLIER
    assert header.recipient == ESME
    assert header.date_time is None
    assert header.other_information == OtherInformation(0x004F)
    assert message.inner.payload.hex().upper() == "D9200003E8000103000900000A006AFF0101120033"
    assert message.inner.signature is not None and len(message.inner.signature) == 64
    assert message.mac.hex().upper() == "EFD36E695298259FADF662FA"
    assert message.security_control == 0x11 and message.invocation_counter == 0
    assert frame.encode(message) == ECS42_COMMAND


def test_ecs42_located_regions_are_the_secured_bytes() -> None:
    located = frame.locate(ECS42_COMMAND)
    # 5.1: the signature covers bytes 15..68; the MAC input is the APDU from DF (offset 14)
    # through the signature element; the pre-command is bytes 14..68.
    assert located.signed_data == ECS42_COMMAND[15:69]
    assert located.signing_apdu == ECS42_COMMAND[14:-12]
    assert located.rest == b""


def test_ecs42_precommand_is_the_unsigned_apdu() -> None:
    precommand = ECS42_COMMAND[14:69]
    message = frame.decode_exact(precommand)
    assert isinstance(message, GeneralSigningMessage)
    assert message.signature is None
    assert frame.encode(message) == precommand


def test_ecs52_response_fields() -> None:
    message = frame.decode_exact(ECS52_RESPONSE)
    assert isinstance(message, MacProtectedMessage)
    header = message.header
    assert header.cra is Cra.RESPONSE
    assert (header.originator, header.recipient) == (ESME, SUPPLIER)
    assert message.inner.signature == b""
    assert message.message_code == 0x0059
    assert frame.encode(message) == ECS52_RESPONSE


@pytest.mark.parametrize(
    ("oi", "length"),
    [
        (OtherInformation(0x0001), 2),
        (OtherInformation(0x0123, Eui64(bytes(range(8)))), 10),
        (OtherInformation(0x0001, Eui64(bytes(8)), 1303), 18),
        (OtherInformation(0x0034, Eui64(bytes(8)), 1, 0x7D2), 26),
        (OtherInformation(0x0034, Eui64(bytes(8)), 1, None, b"\x30\x03\x02\x01\x00"), 23),
        (OtherInformation(0x0034, Eui64(bytes(8)), 1, 7, b"\x30\x00"), 28),
    ],
)
def test_other_information_variants(oi: OtherInformation, length: int) -> None:
    content = oi.encode()
    assert len(content) == length
    assert OtherInformation.decode_content(content, 0) == oi


def test_rtds_message_round_trips(rtds_file: Path) -> None:
    data = parse_message_text(rtds_file.read_text())[0]
    message = frame.decode_exact(data)
    assert frame.encode(message) == data
    name = rtds_file.name
    cra = message.cra
    if "_RESPONSE_" in name:
        assert cra is Cra.RESPONSE
    elif "_ALERT" in name:
        assert cra is Cra.ALERT
    else:
        assert cra is Cra.COMMAND
    if "PRECOMMAND" in name:
        assert isinstance(message, GeneralSigningMessage) and message.signature is None


@pytest.mark.parametrize(
    ("data", "path", "offset", "words"),
    [
        (b"", "message", 0, "got no bytes"),
        (b"\x30\x00", "message", 0, "expected 0xDD"),
        (b"\xdd\x05", "message", 1, "got 0x05"),
        (ECS42_COMMAND[:20], "mac_header.ciphered_content", 9, "expected 137 bytes"),
        (ECS42_COMMAND[14:16] + b"\x07" + ECS42_COMMAND[17:69], "grouping_header.cra", 2, "0x07"),
        (ECS42_COMMAND[14:43] + b"\x05", "grouping_header.date_time", 29, "0x05"),
        (
            ECS42_COMMAND[14:44] + b"\x05\x00\x4f\x00\x00\x00",
            "grouping_header.other_information",
            31,
            "got 5",
        ),
    ],
)
def test_errors_name_field_and_offset(data: bytes, path: str, offset: int, words: str) -> None:
    with pytest.raises(DecodeError) as info:
        frame.decode_exact(data)
    assert info.value.path == path
    assert info.value.offset == offset
    assert words in str(info.value)


def test_decode_exact_rejects_trailing_bytes_and_decode_returns_them() -> None:
    message, rest = frame.decode(ECS52_RESPONSE + ECS42_COMMAND)
    assert rest == ECS42_COMMAND and frame.encode(message) == ECS52_RESPONSE
    with pytest.raises(DecodeError, match="more bytes"):
        frame.decode_exact(ECS52_RESPONSE + b"\x00")


def test_non_shortest_length_decodes_but_reencodes_differently() -> None:
    apdu = bytearray(ECS42_COMMAND[14:69])
    # the payload length 0x15 at offset 33 written as 81 15
    longer = bytes(apdu[:33]) + b"\x81" + bytes(apdu[33:])
    message = frame.decode_exact(longer)
    assert isinstance(message, GeneralSigningMessage)
    assert frame.encode(message) == bytes(apdu)
    assert frame.locate(longer).signed_data == longer[1:]
