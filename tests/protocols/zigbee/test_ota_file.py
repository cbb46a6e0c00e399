"""ZigBee OTA Upgrade file header: round trips, the hardware range, malformed input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.errors import DecodeError
from smemu.protocols.zigbee import ota_file
from tests.strategies.ota_file import headers


@given(headers, st.binary(max_size=64))
def test_build_then_decode_gives_the_header_and_image_back(
    header: ota_file.OtaFileHeader, image: bytes
) -> None:
    data = ota_file.build(header, image)
    decoded, inner = ota_file.decode_exact(data)
    assert inner == image
    assert decoded.total_size == len(data)
    assert decoded.hardware_versions == header.hardware_versions
    assert decoded.destination == header.destination
    assert decoded.security_credential_version == header.security_credential_version
    assert (decoded.manufacturer_code, decoded.file_version) == (
        header.manufacturer_code,
        header.file_version,
    )


def test_known_layout_and_hardware_range() -> None:
    header = ota_file.OtaFileHeader(0x1234, 0x0000, 0x02030405, 0, hardware_versions=(1, 3))
    data = ota_file.build(header, b"IMG")
    # identifier, header version, header length 60 (56 fixed + 4), field control bit 2
    assert data[:10].hex() == "1ef1ee0b00013c000400"
    assert data[60:66].hex() == "000003000000" and data[66:] == b"IMG"
    decoded, _ = ota_file.decode(data)
    assert [decoded.accepts_hardware(v) for v in (0, 1, 3, 4)] == [False, True, True, False]
    assert ota_file.OtaFileHeader(1, 0, 1, 0).accepts_hardware(0xFFFF)


def test_other_sub_elements_are_skipped() -> None:
    other = (0x0001).to_bytes(2, "little") + (2).to_bytes(4, "little") + b"xx"
    image = (0).to_bytes(2, "little") + (1).to_bytes(4, "little") + b"I"
    assert ota_file.upgrade_image(other + image) == b"I"
    with pytest.raises(DecodeError):
        ota_file.upgrade_image(other)


@given(st.booleans(), st.binary(max_size=120))
def test_random_bytes_raise_only_decode_error(magic: bool, data: bytes) -> None:
    prefix = ota_file.FILE_IDENTIFIER.to_bytes(4, "little") if magic else b""
    with contextlib.suppress(DecodeError):
        ota_file.decode_exact(prefix + data)


@given(headers, st.binary(max_size=16), st.data())
def test_truncated_files_raise_decode_error(
    header: ota_file.OtaFileHeader, image: bytes, data: st.DataObject
) -> None:
    whole = ota_file.build(header, image)
    cut = data.draw(st.integers(0, len(whole) - 1))
    with pytest.raises(DecodeError):
        ota_file.decode_exact(whole[:cut])
