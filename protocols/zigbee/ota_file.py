"""ZigBee OTA Upgrade file: the header an image travels under, and its upgrade-image element.

Protocol layer (sans-IO); ZCL r8 11.4 (OTA Upgrade Image File Format). Every field is
little-endian::

    size  field
    4     file identifier 0x0BEEF11E
    2     header version (0x0100)
    2     header length (octets up to the first sub-element)
    2     header field control: bit 0 security credential version present, bit 1 device
          specific file (upgrade file destination present), bit 2 hardware versions present
    2     manufacturer code
    2     image type
    4     file version
    2     ZigBee stack version
    32    header string
    4     total image size (header and sub-elements)
    [1]   security credential version          (bit 0)
    [8]   upgrade file destination (IEEE addr) (bit 1)
    [2+2] minimum / maximum hardware version   (bit 2)

then sub-elements ``tag(2) length(4) data``; tag 0x0000 is the upgrade image (for smemu, a
:mod:`smemu.firmware.firmware_image` image). :func:`decode` gives the header and what
follows it; :func:`upgrade_image` finds the image among the sub-elements.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import Final

from smemu.errors import DecodeError

__all__ = ["FILE_IDENTIFIER", "OtaFileHeader", "build", "decode", "decode_exact", "upgrade_image"]

FILE_IDENTIFIER: Final = 0x0BEEF11E
HEADER_VERSION: Final = 0x0100
FC_SECURITY_CREDENTIAL: Final = 0x0001
FC_DESTINATION: Final = 0x0002
FC_HARDWARE_VERSIONS: Final = 0x0004
TAG_UPGRADE_IMAGE: Final = 0x0000
_FIXED: Final = struct.Struct("<IHHHHHIH32sI")
_ELEMENT: Final = struct.Struct("<HI")


@dataclass(frozen=True, slots=True)
class OtaFileHeader:
    """The OTA file header; optional fields are None when the field control omits them."""

    manufacturer_code: int
    image_type: int
    file_version: int
    total_size: int
    stack_version: int = 0x0002
    header_string: bytes = b"\x00" * 32
    security_credential_version: int | None = None
    destination: bytes | None = None  #: 8-octet IEEE address of a device specific file
    hardware_versions: tuple[int, int] | None = None  #: (minimum, maximum)

    @property
    def field_control(self) -> int:
        return (
            (FC_SECURITY_CREDENTIAL if self.security_credential_version is not None else 0)
            | (FC_DESTINATION if self.destination is not None else 0)
            | (FC_HARDWARE_VERSIONS if self.hardware_versions is not None else 0)
        )

    @property
    def length(self) -> int:
        """Octets of the encoded header."""
        control = self.field_control
        return (
            _FIXED.size
            + (1 if control & FC_SECURITY_CREDENTIAL else 0)
            + (8 if control & FC_DESTINATION else 0)
            + (4 if control & FC_HARDWARE_VERSIONS else 0)
        )

    def accepts_hardware(self, hardware_version: int) -> bool:
        """False only when the header names a hardware range that excludes the version."""
        if self.hardware_versions is None:
            return True
        low, high = self.hardware_versions
        return low <= hardware_version <= high

    def encode(self) -> bytes:
        if len(self.header_string) != 32:
            raise ValueError("header string must be 32 octets")
        out = _FIXED.pack(
            FILE_IDENTIFIER,
            HEADER_VERSION,
            self.length,
            self.field_control,
            self.manufacturer_code,
            self.image_type,
            self.file_version,
            self.stack_version,
            self.header_string,
            self.total_size,
        )
        if self.security_credential_version is not None:
            out += bytes((self.security_credential_version,))
        if self.destination is not None:
            if len(self.destination) != 8:
                raise ValueError("upgrade file destination must be 8 octets")
            out += self.destination
        if self.hardware_versions is not None:
            out += struct.pack("<HH", *self.hardware_versions)
        return out


def decode(data: bytes) -> tuple[OtaFileHeader, bytes]:
    """The header and the sub-elements after it.

    :raises DecodeError: not an OTA file, truncated, or a header length that disagrees.
    """
    if len(data) < _FIXED.size:
        raise DecodeError("OTA file header truncated", path="ota_file", offset=len(data))
    ident, _version, length, control, maker, kind, version, stack, text, total = _FIXED.unpack_from(
        data
    )
    if ident != FILE_IDENTIFIER:
        raise DecodeError("not an OTA file (identifier)", path="ota_file.identifier", offset=0)
    pos = _FIXED.size
    need = pos + (
        (1 if control & FC_SECURITY_CREDENTIAL else 0)
        + (8 if control & FC_DESTINATION else 0)
        + (4 if control & FC_HARDWARE_VERSIONS else 0)
    )
    if need > len(data):
        raise DecodeError("OTA file header truncated", path="ota_file.header", offset=len(data))
    credential: int | None = None
    destination: bytes | None = None
    hardware: tuple[int, int] | None = None
    if control & FC_SECURITY_CREDENTIAL:
        credential, pos = data[pos], pos + 1
    if control & FC_DESTINATION:
        destination, pos = data[pos : pos + 8], pos + 8
    if control & FC_HARDWARE_VERSIONS:
        low, high = struct.unpack_from("<HH", data, pos)
        hardware, pos = (low, high), pos + 4
    if length < pos or length > len(data):
        raise DecodeError(
            f"OTA header length {length}, fields need {pos}",
            path="ota_file.header_length",
            offset=6,
        )
    header = OtaFileHeader(
        maker, kind, version, total, stack, text, credential, destination, hardware
    )
    return header, data[length:]


def decode_exact(data: bytes) -> tuple[OtaFileHeader, bytes]:
    """The header and the upgrade image of a whole OTA file (total size must match).

    :raises DecodeError: as :func:`decode`, a total size that disagrees, or no image.
    """
    header, rest = decode(data)
    if header.total_size != len(data):
        raise DecodeError(
            f"OTA file is {len(data)} octets, header says {header.total_size}",
            path="ota_file.total_size",
            offset=52,
        )
    return header, upgrade_image(rest, len(data) - len(rest))


def upgrade_image(elements: bytes, offset: int = 0) -> bytes:
    """The data of the upgrade image sub-element (tag 0x0000) in ``elements``.

    :raises DecodeError: a truncated element, or no upgrade image.
    """
    pos = 0
    while pos < len(elements):
        if pos + _ELEMENT.size > len(elements):
            raise DecodeError("sub-element truncated", path="ota_file.element", offset=offset + pos)
        tag, size = _ELEMENT.unpack_from(elements, pos)
        start = pos + _ELEMENT.size
        if start + size > len(elements):
            raise DecodeError(
                f"sub-element {tag:#06x} truncated", path="ota_file.element", offset=offset + pos
            )
        if tag == TAG_UPGRADE_IMAGE:
            return elements[start : start + size]
        pos = start + size
    raise DecodeError("no upgrade image sub-element", path="ota_file.image", offset=offset + pos)


def build(header: OtaFileHeader, image: bytes) -> bytes:
    """An OTA file holding ``image`` (``header.total_size`` is set to the file's size)."""
    element = _ELEMENT.pack(TAG_UPGRADE_IMAGE, len(image)) + image
    head = replace(header, total_size=header.length + len(element))
    return head.encode() + element
