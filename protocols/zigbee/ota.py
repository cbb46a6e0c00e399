"""ZigBee OTA Upgrade cluster (0x0019) frames: image notify, queries, blocks, upgrade end.

Protocol layer (sans-IO); ZigBee OTA Upgrade cluster (ZCL r8 chapter 11, as the SE 1.4 HAN
uses it for GBCS CS05 firmware distribution). The comms hub is the OTA *server*, a HAN
device the *client*. Every field is little-endian (ZCL). Commands used here::

    id  direction         payload
    00  server -> client  Image Notify: payload type(1) jitter(1) [manufacturer(2)
                          [image type(2) [file version(4)]]] -- present as the type says
    01  client -> server  Query Next Image Request: field control(1) manufacturer(2)
                          image type(2) current version(4) [hardware version(2) if bit 0]
    02  server -> client  Query Next Image Response: status(1) [manufacturer(2) image
                          type(2) version(4) image size(4) when status is SUCCESS]
    03  client -> server  Image Block Request: field control(1) manufacturer(2) image
                          type(2) version(4) offset(4) maximum data size(1)
                          [requester IEEE address(8) if bit 0] [minimum block period(2)
                          if bit 1]
    05  server -> client  Image Block Response: status(1) then, SUCCESS: manufacturer(2)
                          image type(2) version(4) offset(4) data size(1) data;
                          WAIT_FOR_DATA: current time(4) request time(4) minimum block
                          period(2); any other status (ABORT): nothing
    06  client -> server  Upgrade End Request: status(1) manufacturer(2) image type(2)
                          version(4)
    07  server -> client  Upgrade End Response: manufacturer(2) image type(2) version(4)
                          current time(4) upgrade time(4)

A frame is the ZCL header (:class:`~smemu.protocols.zigbee.zcl.ZclHeader`, frame type
cluster-specific, direction bit as above) followed by the payload: :func:`decode` /
:func:`decode_exact` / :meth:`OtaFrame.encode`.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final, TypeAlias

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee.zcl import (
    CLIENT_TO_SERVER,
    FRAME_CLUSTER_SPECIFIC,
    FRAME_DIRECTION,
    FRAME_DISABLE_DEFAULT_RESPONSE,
    SERVER_TO_CLIENT,
    ZclHeader,
)

__all__ = [
    "BLOCK_OVERHEAD",
    "OTA_CLUSTER",
    "ImageBlock",
    "ImageBlockAbort",
    "ImageBlockRequest",
    "ImageBlockWait",
    "ImageNotify",
    "OtaCommand",
    "OtaFrame",
    "OtaStatus",
    "QueryNextImageRequest",
    "QueryNextImageResponse",
    "UpgradeEndRequest",
    "UpgradeEndResponse",
    "decode",
    "decode_exact",
    "max_block_data",
]

OTA_CLUSTER: Final = 0x0019
#: octets of an Image Block Response around its data: ZCL header(3) status(1) manufacturer(2)
#: image type(2) version(4) offset(4) data size(1)
BLOCK_OVERHEAD: Final = 17
#: the data size field is one octet
_MAX_DATA: Final = 0xFF
#: Query Next Image Request field control: hardware version present
FC_HARDWARE_VERSION: Final = 0x01
#: Image Block Request field control: requester IEEE address / minimum block period present
FC_NODE_ADDRESS: Final = 0x01
FC_BLOCK_PERIOD: Final = 0x02


class OtaStatus(enum.IntEnum):
    """ZCL status values the OTA cluster uses."""

    SUCCESS = 0x00
    NOT_AUTHORIZED = 0x7E
    MALFORMED_COMMAND = 0x80
    ABORT = 0x95
    INVALID_IMAGE = 0x96
    WAIT_FOR_DATA = 0x97
    NO_IMAGE_AVAILABLE = 0x98
    REQUIRE_MORE_IMAGE = 0x99


def max_block_data(frame_limit: int) -> int:
    """The most image octets one Image Block Response may carry in ``frame_limit`` octets."""
    return max(0, min(_MAX_DATA, frame_limit - BLOCK_OVERHEAD))


_FILE: Final = struct.Struct("<HHI")  # manufacturer, image type, file version
_U8: Final = struct.Struct("<B")
_U16: Final = struct.Struct("<H")
_U32: Final = struct.Struct("<I")


class _Reader:
    """Bounds-checked little-endian reads that raise :class:`DecodeError` with a path."""

    __slots__ = ("data", "path", "pos")

    def __init__(self, data: bytes, pos: int, path: str) -> None:
        self.data, self.pos, self.path = data, pos, path

    def take(self, fmt: struct.Struct, name: str) -> tuple[int, ...]:
        if len(self.data) - self.pos < fmt.size:
            raise DecodeError(
                f"{name}: need {fmt.size} octets, {len(self.data) - self.pos} left",
                path=f"{self.path}.{name}",
                offset=self.pos,
            )
        values = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return values

    def one(self, fmt: struct.Struct, name: str) -> int:
        value: int = self.take(fmt, name)[0]
        return value

    def octets(self, n: int, name: str) -> bytes:
        if len(self.data) - self.pos < n:
            raise DecodeError(
                f"{name}: need {n} octets, {len(self.data) - self.pos} left",
                path=f"{self.path}.{name}",
                offset=self.pos,
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def _pack(fmt: struct.Struct, *values: int) -> bytes:
    try:
        return fmt.pack(*values)
    except struct.error as exc:
        raise LocalProtocolError(f"OTA field out of range: {exc}") from exc


def _need(present: bool, value: object, name: str) -> None:
    if present != (value is not None):
        raise LocalProtocolError(f"{name} must be given exactly when its flag says so")


# ------------------------------------------------------------------------------ commands


@dataclass(frozen=True, slots=True)
class ImageNotify:
    """Image Notify (server -> client 0x00): an image is waiting for the client."""

    COMMAND_ID: ClassVar[int] = 0x00
    DIRECTION: ClassVar[int] = SERVER_TO_CLIENT

    payload_type: int  #: 0 jitter only, 1 + manufacturer, 2 + image type, 3 + file version
    query_jitter: int  #: 1..100: the chance (percent) that a client answers
    manufacturer_code: int | None = None
    image_type: int | None = None
    file_version: int | None = None

    def encode_payload(self) -> bytes:
        if not 0 <= self.payload_type <= 3:
            raise LocalProtocolError(f"Image Notify payload type {self.payload_type} unknown")
        _need(self.payload_type >= 1, self.manufacturer_code, "manufacturer_code")
        _need(self.payload_type >= 2, self.image_type, "image_type")
        _need(self.payload_type >= 3, self.file_version, "file_version")
        out = [_pack(_U8, self.payload_type), _pack(_U8, self.query_jitter)]
        if self.manufacturer_code is not None:
            out.append(_pack(_U16, self.manufacturer_code))
        if self.image_type is not None:
            out.append(_pack(_U16, self.image_type))
        if self.file_version is not None:
            out.append(_pack(_U32, self.file_version))
        return b"".join(out)

    @classmethod
    def read(cls, r: _Reader) -> ImageNotify:
        kind = r.one(_U8, "payload_type")
        if kind > 3:
            raise DecodeError(
                f"Image Notify payload type {kind} unknown",
                path=f"{r.path}.payload_type",
                offset=r.pos - 1,
            )
        jitter = r.one(_U8, "query_jitter")
        maker = r.one(_U16, "manufacturer_code") if kind >= 1 else None
        image_type = r.one(_U16, "image_type") if kind >= 2 else None
        version = r.one(_U32, "file_version") if kind >= 3 else None
        return cls(kind, jitter, maker, image_type, version)


@dataclass(frozen=True, slots=True)
class QueryNextImageRequest:
    """Query Next Image Request (client -> server 0x01): what does the server hold for me?"""

    COMMAND_ID: ClassVar[int] = 0x01
    DIRECTION: ClassVar[int] = CLIENT_TO_SERVER

    field_control: int
    manufacturer_code: int
    image_type: int
    current_file_version: int
    hardware_version: int | None = None  #: present iff field control bit 0

    def encode_payload(self) -> bytes:
        _need(
            bool(self.field_control & FC_HARDWARE_VERSION),
            self.hardware_version,
            "hardware_version",
        )
        out = _pack(_U8, self.field_control) + _pack(
            _FILE, self.manufacturer_code, self.image_type, self.current_file_version
        )
        if self.hardware_version is not None:
            out += _pack(_U16, self.hardware_version)
        return out

    @classmethod
    def read(cls, r: _Reader) -> QueryNextImageRequest:
        control = r.one(_U8, "field_control")
        maker, image_type, version = r.take(_FILE, "file")
        hardware = r.one(_U16, "hardware_version") if control & FC_HARDWARE_VERSION else None
        return cls(control, maker, image_type, version, hardware)


@dataclass(frozen=True, slots=True)
class QueryNextImageResponse:
    """Query Next Image Response (server -> client 0x02): the image on offer, or a status."""

    COMMAND_ID: ClassVar[int] = 0x02
    DIRECTION: ClassVar[int] = SERVER_TO_CLIENT

    status: int
    manufacturer_code: int | None = None  #: these four iff status is SUCCESS
    image_type: int | None = None
    file_version: int | None = None
    image_size: int | None = None

    def encode_payload(self) -> bytes:
        fields = (self.manufacturer_code, self.image_type, self.file_version, self.image_size)
        ok = self.status == OtaStatus.SUCCESS
        for name, value in zip(("manufacturer", "type", "version", "size"), fields, strict=True):
            _need(ok, value, name)
        out = _pack(_U8, self.status)
        if ok:
            out += _pack(_FILE, *fields[:3]) + _pack(_U32, fields[3])  # type: ignore[arg-type]
        return out

    @classmethod
    def read(cls, r: _Reader) -> QueryNextImageResponse:
        status = r.one(_U8, "status")
        if status != OtaStatus.SUCCESS:
            return cls(status)
        maker, image_type, version = r.take(_FILE, "file")
        return cls(status, maker, image_type, version, r.one(_U32, "image_size"))


@dataclass(frozen=True, slots=True)
class ImageBlockRequest:
    """Image Block Request (client -> server 0x03): up to ``maximum_data_size`` octets of
    the image from ``file_offset``."""

    COMMAND_ID: ClassVar[int] = 0x03
    DIRECTION: ClassVar[int] = CLIENT_TO_SERVER

    field_control: int
    manufacturer_code: int
    image_type: int
    file_version: int
    file_offset: int
    maximum_data_size: int
    request_node_address: bytes | None = None  #: IEEE address, iff field control bit 0
    minimum_block_period: int | None = None  #: milliseconds, iff field control bit 1

    def encode_payload(self) -> bytes:
        control = self.field_control
        _need(bool(control & FC_NODE_ADDRESS), self.request_node_address, "node address")
        _need(bool(control & FC_BLOCK_PERIOD), self.minimum_block_period, "block period")
        out = [
            _pack(_U8, control),
            _pack(_FILE, self.manufacturer_code, self.image_type, self.file_version),
            _pack(_U32, self.file_offset),
            _pack(_U8, self.maximum_data_size),
        ]
        if self.request_node_address is not None:
            if len(self.request_node_address) != 8:
                raise LocalProtocolError("the requester's IEEE address is 8 octets")
            out.append(self.request_node_address)
        if self.minimum_block_period is not None:
            out.append(_pack(_U16, self.minimum_block_period))
        return b"".join(out)

    @classmethod
    def read(cls, r: _Reader) -> ImageBlockRequest:
        control = r.one(_U8, "field_control")
        maker, image_type, version = r.take(_FILE, "file")
        offset = r.one(_U32, "file_offset")
        size = r.one(_U8, "maximum_data_size")
        node = r.octets(8, "request_node_address") if control & FC_NODE_ADDRESS else None
        period = r.one(_U16, "minimum_block_period") if control & FC_BLOCK_PERIOD else None
        return cls(control, maker, image_type, version, offset, size, node, period)


@dataclass(frozen=True, slots=True)
class ImageBlock:
    """Image Block Response (server -> client 0x05) with status SUCCESS: one block."""

    COMMAND_ID: ClassVar[int] = 0x05
    DIRECTION: ClassVar[int] = SERVER_TO_CLIENT

    manufacturer_code: int
    image_type: int
    file_version: int
    file_offset: int
    data: bytes

    def encode_payload(self) -> bytes:
        if len(self.data) > _MAX_DATA:
            raise LocalProtocolError(f"a block carries at most {_MAX_DATA} octets")
        return b"".join(
            (
                _pack(_U8, OtaStatus.SUCCESS),
                _pack(_FILE, self.manufacturer_code, self.image_type, self.file_version),
                _pack(_U32, self.file_offset),
                _pack(_U8, len(self.data)),
                self.data,
            )
        )


@dataclass(frozen=True, slots=True)
class ImageBlockWait:
    """Image Block Response with status WAIT_FOR_DATA: ask again at ``request_time``."""

    COMMAND_ID: ClassVar[int] = 0x05
    DIRECTION: ClassVar[int] = SERVER_TO_CLIENT

    current_time: int  #: UTC seconds since 2000
    request_time: int
    minimum_block_period: int

    def encode_payload(self) -> bytes:
        return _pack(_U8, OtaStatus.WAIT_FOR_DATA) + _pack(
            struct.Struct("<IIH"), self.current_time, self.request_time, self.minimum_block_period
        )


@dataclass(frozen=True, slots=True)
class ImageBlockAbort:
    """Image Block Response with any other status (ABORT: the client stops the download)."""

    COMMAND_ID: ClassVar[int] = 0x05
    DIRECTION: ClassVar[int] = SERVER_TO_CLIENT

    status: int = OtaStatus.ABORT

    def encode_payload(self) -> bytes:
        if self.status in (OtaStatus.SUCCESS, OtaStatus.WAIT_FOR_DATA):
            raise LocalProtocolError(f"status {self.status:#04x} carries a payload")
        return _pack(_U8, self.status)


def _read_block_response(r: _Reader) -> ImageBlock | ImageBlockWait | ImageBlockAbort:
    status = r.one(_U8, "status")
    if status == OtaStatus.SUCCESS:
        maker, image_type, version = r.take(_FILE, "file")
        offset = r.one(_U32, "file_offset")
        size = r.one(_U8, "data_size")
        return ImageBlock(maker, image_type, version, offset, r.octets(size, "data"))
    if status == OtaStatus.WAIT_FOR_DATA:
        now, at, period = r.take(struct.Struct("<IIH"), "wait")
        return ImageBlockWait(now, at, period)
    return ImageBlockAbort(status)


@dataclass(frozen=True, slots=True)
class UpgradeEndRequest:
    """Upgrade End Request (client -> server 0x06): the download ended with ``status``."""

    COMMAND_ID: ClassVar[int] = 0x06
    DIRECTION: ClassVar[int] = CLIENT_TO_SERVER

    status: int
    manufacturer_code: int
    image_type: int
    file_version: int

    def encode_payload(self) -> bytes:
        return _pack(_U8, self.status) + _pack(
            _FILE, self.manufacturer_code, self.image_type, self.file_version
        )

    @classmethod
    def read(cls, r: _Reader) -> UpgradeEndRequest:
        status = r.one(_U8, "status")
        return cls(status, *r.take(_FILE, "file"))


@dataclass(frozen=True, slots=True)
class UpgradeEndResponse:
    """Upgrade End Response (server -> client 0x07): when to run the new image
    (``upgrade_time`` 0xFFFFFFFF: wait for a further command -- in GBCS, CS06)."""

    COMMAND_ID: ClassVar[int] = 0x07
    DIRECTION: ClassVar[int] = SERVER_TO_CLIENT

    manufacturer_code: int
    image_type: int
    file_version: int
    current_time: int
    upgrade_time: int

    def encode_payload(self) -> bytes:
        return _pack(_FILE, self.manufacturer_code, self.image_type, self.file_version) + _pack(
            struct.Struct("<II"), self.current_time, self.upgrade_time
        )

    @classmethod
    def read(cls, r: _Reader) -> UpgradeEndResponse:
        maker, image_type, version = r.take(_FILE, "file")
        now, at = r.take(struct.Struct("<II"), "times")
        return cls(maker, image_type, version, now, at)


OtaCommand: TypeAlias = (
    ImageNotify
    | QueryNextImageRequest
    | QueryNextImageResponse
    | ImageBlockRequest
    | ImageBlock
    | ImageBlockWait
    | ImageBlockAbort
    | UpgradeEndRequest
    | UpgradeEndResponse
)

_READERS: Final[dict[tuple[int, int], Callable[[_Reader], OtaCommand]]] = {
    (SERVER_TO_CLIENT, 0x00): ImageNotify.read,
    (CLIENT_TO_SERVER, 0x01): QueryNextImageRequest.read,
    (SERVER_TO_CLIENT, 0x02): QueryNextImageResponse.read,
    (CLIENT_TO_SERVER, 0x03): ImageBlockRequest.read,
    (SERVER_TO_CLIENT, 0x05): _read_block_response,
    (CLIENT_TO_SERVER, 0x06): UpgradeEndRequest.read,
    (SERVER_TO_CLIENT, 0x07): UpgradeEndResponse.read,
}


# -------------------------------------------------------------------------------- frames


@dataclass(frozen=True, slots=True)
class OtaFrame:
    """One OTA Upgrade cluster frame: ZCL header fields and the command."""

    sequence: int
    command: OtaCommand
    disable_default_response: bool = False

    @property
    def header(self) -> ZclHeader:
        control = FRAME_CLUSTER_SPECIFIC
        if self.command.DIRECTION == SERVER_TO_CLIENT:
            control |= FRAME_DIRECTION
        if self.disable_default_response:
            control |= FRAME_DISABLE_DEFAULT_RESPONSE
        return ZclHeader(control, self.sequence, self.command.COMMAND_ID)

    def encode(self) -> bytes:
        """The frame's wire form.

        :raises LocalProtocolError: a field out of range, or optional fields that disagree
            with the flag or status that announces them.
        """
        return self.header.encode() + self.command.encode_payload()


def decode(data: bytes) -> tuple[OtaFrame, bytes]:
    """Decode one frame from the start of ``data``: ``(frame, rest)``; ``rest`` holds octets
    after the last field the command defines (later ZCL revisions may append fields).

    :raises DecodeError: not a cluster-specific OTA command this module knows, or truncated.
    """
    data = bytes(data)
    header, _ = ZclHeader.decode(data)
    if header.frame_type != FRAME_CLUSTER_SPECIFIC or header.manufacturer_code is not None:
        raise DecodeError(
            f"frame control {header.frame_control:#04x} is not a standard OTA command",
            path="ota.frame_control",
            offset=0,
        )
    reader = _READERS.get((header.direction, header.command_id))
    if reader is None:
        raise DecodeError(
            f"OTA command {header.command_id:#04x} (direction {header.direction}) unknown",
            path="ota.command_id",
            offset=2,
        )
    r = _Reader(data, 3, f"ota.{header.command_id:02x}")
    command = reader(r)
    frame = OtaFrame(header.sequence, command, header.disable_default_response)
    return frame, data[r.pos :]


def decode_exact(data: bytes) -> OtaFrame:
    """Decode a whole frame.

    :raises DecodeError: as :func:`decode`, or octets left over.
    """
    frame, rest = decode(data)
    if rest:
        raise DecodeError(
            f"{len(rest)} octets after the OTA command", path="ota", offset=len(data) - len(rest)
        )
    return frame
