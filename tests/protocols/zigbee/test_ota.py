"""ZigBee OTA Upgrade cluster frames: wire layouts, round trips, random input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee import ota
from tests.strategies.ota import ota_frames


def test_image_notify_with_the_file_version() -> None:
    # server -> client (fc 09), seq 7, command 00: type 3, jitter 100, maker 0x1234,
    # image type 0x0001, version 0x02030405 -- all little-endian
    frame = ota.OtaFrame(7, ota.ImageNotify(3, 100, 0x1234, 0x0001, 0x02030405))
    wire = bytes.fromhex("09 07 00 03 64 3412 0100 05040302")
    assert frame.encode() == wire
    assert ota.decode_exact(wire) == frame


def test_block_request_and_its_block() -> None:
    request = ota.ImageBlockRequest(0x01, 0x1234, 1, 7, 0x40, 64, bytes(range(8)))
    wire = bytes.fromhex("01 02 03 01 3412 0100 07000000 40000000 40 0001020304050607")
    assert ota.OtaFrame(2, request).encode() == wire
    block = ota.OtaFrame(2, ota.ImageBlock(0x1234, 1, 7, 0x40, b"abc"), True)
    encoded = block.encode()
    assert encoded[:4] == bytes.fromhex("19 02 05 00")  # s->c, no default response, SUCCESS
    assert encoded[-4:] == b"\x03abc"
    assert ota.decode_exact(encoded) == block


def test_block_response_status_selects_the_layout() -> None:
    wait = ota.decode_exact(bytes.fromhex("09 01 05 97 0a000000 14000000 e803")).command
    assert wait == ota.ImageBlockWait(10, 20, 1000)
    assert ota.decode_exact(bytes.fromhex("09 01 05 95")).command == ota.ImageBlockAbort()


def test_query_next_image_response_without_an_image_is_the_status_alone() -> None:
    frame = ota.OtaFrame(1, ota.QueryNextImageResponse(ota.OtaStatus.NO_IMAGE_AVAILABLE))
    assert frame.encode() == bytes.fromhex("09 01 02 98")


def test_block_size_is_bounded_by_the_frame_limit() -> None:
    assert ota.max_block_data(1500) == 255
    assert ota.max_block_data(81) == 64
    block = ota.OtaFrame(0, ota.ImageBlock(1, 1, 1, 0, bytes(ota.max_block_data(81))))
    assert len(block.encode()) == 81


@pytest.mark.parametrize(
    "command",
    [
        ota.ImageNotify(2, 1, 5),  # type 2 needs the image type
        ota.QueryNextImageRequest(0x01, 1, 1, 1),  # bit 0 without a hardware version
        ota.QueryNextImageResponse(ota.OtaStatus.SUCCESS),
        ota.ImageBlockRequest(0, 1, 1, 1, 0, 64, None, 5),  # period without bit 1
        ota.ImageBlock(1, 1, 1, 0, bytes(256)),
        ota.ImageBlockAbort(ota.OtaStatus.SUCCESS),
        ota.UpgradeEndRequest(0x100, 1, 1, 1),
    ],
)
def test_inconsistent_commands_are_refused_on_encode(command: ota.OtaCommand) -> None:
    with pytest.raises(LocalProtocolError):
        ota.OtaFrame(0, command).encode()


def test_truncated_and_foreign_frames_are_decode_errors() -> None:
    with pytest.raises(DecodeError) as info:
        ota.decode_exact(bytes.fromhex("01 02 03 01 3412 0100"))
    assert info.value.path is not None and info.value.path.startswith("ota.03.")
    with pytest.raises(DecodeError):
        ota.decode_exact(bytes.fromhex("00 01 00"))  # profile-wide, not an OTA command
    with pytest.raises(DecodeError):
        ota.decode_exact(bytes.fromhex("01 01 05 00"))  # a block response sent client->server
    with pytest.raises(DecodeError):
        ota.decode_exact(bytes.fromhex("09 01 02 98 00"))  # trailing octet


@given(ota_frames)
def test_round_trip(frame: ota.OtaFrame) -> None:
    wire = frame.encode()
    assert ota.decode_exact(wire) == frame
    assert ota.decode(wire + b"\x01\x02") == (frame, b"\x01\x02")


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    try:
        frame, rest = ota.decode(data)
    except DecodeError:
        return
    assert frame.encode() + rest == data or frame.header.frame_control != data[0]
