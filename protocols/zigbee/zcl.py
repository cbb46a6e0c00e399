"""ZCL frame header, attribute data types and the profile-wide (general) commands.

Protocol layer (sans-IO); ZCL r8 §2.4 (frame format), §2.5 (general commands), §2.6 (data
types), as GBCS uses them inside GBZ components (GBCS ref. §7.7). Everything here is
little-endian. Cluster-specific commands live in one module per cluster.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.zigbee._fields import (
    REST,
    U8,
    U16,
    EnumField,
    Field,
    Repeat,
    Switch,
    Tail,
    UInt,
    ZclRecord,
)
from smemu.protocols.zigbee.datatypes import (
    DATA_TYPES,
    AttributeValue,
    TypedValueField,
)

__all__ = [
    "CLIENT_TO_SERVER",
    "DATA_TYPES",
    "FRAME_CLUSTER_SPECIFIC",
    "FRAME_DIRECTION",
    "FRAME_DISABLE_DEFAULT_RESPONSE",
    "FRAME_GENERAL",
    "FRAME_MANUFACTURER_SPECIFIC",
    "SERVER_TO_CLIENT",
    "AttributeRecord",
    "AttributeStatusRecord",
    "AttributeValue",
    "ConfigureReporting",
    "ConfigureReportingResponse",
    "DefaultResponse",
    "DiscoverAttributes",
    "DiscoverAttributesResponse",
    "RawCommand",
    "ReadAttributes",
    "ReadAttributesResponse",
    "ReadReportingConfiguration",
    "ReportAttributes",
    "WriteAttributes",
    "WriteAttributesNoResponse",
    "WriteAttributesResponse",
    "WriteAttributesUndivided",
    "ZclCommand",
    "ZclHeader",
    "ZclStatus",
]

#: Frame type (bits 0-1) 0: a profile-wide command (same meaning in every cluster).
FRAME_GENERAL: Final = 0x00
#: Frame type 1: a command specific to the cluster.
FRAME_CLUSTER_SPECIFIC: Final = 0x01
#: Frame control bit 2: a 2-byte manufacturer code follows the frame control.
FRAME_MANUFACTURER_SPECIFIC: Final = 0x04
#: Frame control bit 3: sent server -> client.
FRAME_DIRECTION: Final = 0x08
#: Frame control bit 4: the receiver shall not send a Default Response.
FRAME_DISABLE_DEFAULT_RESPONSE: Final = 0x10
#: Direction values used by the registry.
CLIENT_TO_SERVER: Final = 0
SERVER_TO_CLIENT: Final = 1


class ZclStatus(enum.IntEnum):
    """ZCL status codes (ZCL r8 §2.6.3) as GBCS uses them."""

    SUCCESS = 0x00
    FAILURE = 0x01
    NOT_AUTHORIZED = 0x7E
    RESERVED_FIELD_NOT_ZERO = 0x7F
    MALFORMED_COMMAND = 0x80
    UNSUP_CLUSTER_COMMAND = 0x81
    UNSUP_GENERAL_COMMAND = 0x82
    UNSUP_MANUF_CLUSTER_COMMAND = 0x83
    UNSUP_MANUF_GENERAL_COMMAND = 0x84
    INVALID_FIELD = 0x85
    UNSUPPORTED_ATTRIBUTE = 0x86
    INVALID_VALUE = 0x87
    READ_ONLY = 0x88
    INSUFFICIENT_SPACE = 0x89
    DUPLICATE_EXISTS = 0x8A
    NOT_FOUND = 0x8B
    UNREPORTABLE_ATTRIBUTE = 0x8C
    INVALID_DATA_TYPE = 0x8D
    INVALID_SELECTOR = 0x8E
    WRITE_ONLY = 0x8F
    INCONSISTENT_STARTUP_STATE = 0x90
    DEFINED_OUT_OF_BAND = 0x91
    INCONSISTENT = 0x92
    ACTION_DENIED = 0x93
    TIMEOUT = 0x94
    ABORT = 0x95
    INVALID_IMAGE = 0x96
    WAIT_FOR_DATA = 0x97
    NO_IMAGE_AVAILABLE = 0x98
    REQUIRE_MORE_IMAGE = 0x99
    NOTIFICATION_PENDING = 0x9A
    HARDWARE_FAILURE = 0xC0
    SOFTWARE_FAILURE = 0xC1
    CALIBRATION_ERROR = 0xC2
    UNSUPPORTED_CLUSTER = 0xC3


STATUS = Annotated[int, EnumField(ZclStatus)]
ATTRIBUTE_ID = Annotated[int, UInt(2, hex=True)]


# --------------------------------------------------------------------------- the header

_MANUFACTURER: Final = struct.Struct("<BHBB")


@dataclass(frozen=True, slots=True)
class ZclHeader:
    """ZCL frame header (ZCL r8 §2.4.1)::

        frame control(1) | [manufacturer code(2, LE) if bit 2] | sequence(1) | command id(1)

    """

    #: Bits 0-1 frame type, 2 manufacturer specific, 3 direction (1 = server -> client),
    #: 4 disable default response; kept whole so odd values round-trip.
    frame_control: int
    #: Transaction sequence number (GBCS: 0, 1, 2... per component of a payload).
    sequence: int
    #: Command identifier, read in the frame type's command space.
    command_id: int
    #: Present iff ``frame_control & 0x04``.
    manufacturer_code: int | None = None

    @property
    def frame_type(self) -> int:
        """0 profile-wide, 1 cluster-specific."""
        return self.frame_control & 0x03

    @property
    def direction(self) -> int:
        """0 client -> server, 1 server -> client."""
        return (self.frame_control & FRAME_DIRECTION) >> 3

    @property
    def disable_default_response(self) -> bool:
        """The frame control's disable-default-response bit."""
        return bool(self.frame_control & FRAME_DISABLE_DEFAULT_RESPONSE)

    @classmethod
    def decode(cls, data: bytes) -> tuple[ZclHeader, bytes]:
        """Decode a header from the start of ``data``; returns ``(header, rest)``.

        :raises DecodeError: too short for the header the frame control announces.
        """
        data = bytes(data)
        if len(data) < 3:
            raise DecodeError(f"expected a 3-byte ZCL header, got {len(data)} bytes", offset=0)
        frame_control = data[0]
        if frame_control & FRAME_MANUFACTURER_SPECIFIC:
            if len(data) < 5:
                raise DecodeError(
                    f"expected a 5-byte manufacturer-specific ZCL header, got {len(data)} bytes",
                    offset=0,
                )
            _, code, sequence, command = _MANUFACTURER.unpack_from(data)
            return cls(frame_control, sequence, command, code), data[5:]
        return cls(frame_control, data[1], data[2]), data[3:]

    def encode(self) -> bytes:
        """The header's wire form.

        :raises LocalProtocolError: bit 2 disagrees with ``manufacturer_code``, or a value
            is out of range.
        """
        manufacturer = bool(self.frame_control & FRAME_MANUFACTURER_SPECIFIC)
        if manufacturer != (self.manufacturer_code is not None):
            raise LocalProtocolError(
                "frame control bit 0x04 must be set exactly when manufacturer_code is given"
            )
        try:
            if self.manufacturer_code is not None:
                return _MANUFACTURER.pack(
                    self.frame_control, self.manufacturer_code, self.sequence, self.command_id
                )
            return bytes((self.frame_control, self.sequence, self.command_id))
        except (struct.error, ValueError) as exc:
            raise LocalProtocolError(f"ZCL header field out of range: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        """Readable header fields."""
        out: dict[str, Any] = {
            "frame_control": f"0x{self.frame_control:02X}",
            "frame_type": "cluster_specific" if self.frame_type == 1 else "general",
            "direction": "server_to_client" if self.direction else "client_to_server",
            "disable_default_response": self.disable_default_response,
            "sequence": self.sequence,
            "command_id": f"0x{self.command_id:02X}",
        }
        if self.manufacturer_code is not None:
            out["manufacturer_code"] = f"0x{self.manufacturer_code:04X}"
        return out


class ZclCommand(ZclRecord):
    """Base of every typed ZCL command payload.

    ``CLUSTER_ID`` is ``None`` for profile-wide commands; ``DIRECTION`` is ``None`` when the
    command means the same both ways (profile-wide), else 0 client -> server or 1 server ->
    client. The registry (``smemu.protocols.zigbee.registry``) maps (cluster, direction,
    command id) to the class.
    """

    __slots__ = ()

    CLUSTER_ID: ClassVar[int | None] = None
    COMMAND_ID: ClassVar[int] = -1
    DIRECTION: ClassVar[int | None] = None

    def header(
        self,
        sequence: int,
        *,
        disable_default_response: bool = False,
        direction: int | None = None,
        manufacturer_code: int | None = None,
    ) -> ZclHeader:
        """A header for sending this command: frame type and direction from the class.

        :param direction: needed only for profile-wide commands (0 or 1).
        """
        frame_type = FRAME_GENERAL if self.CLUSTER_ID is None else FRAME_CLUSTER_SPECIFIC
        way = self.DIRECTION if self.DIRECTION is not None else (direction or 0)
        control = frame_type | (FRAME_DIRECTION if way else 0)
        if disable_default_response:
            control |= FRAME_DISABLE_DEFAULT_RESPONSE
        if manufacturer_code is not None:
            control |= FRAME_MANUFACTURER_SPECIFIC
        return ZclHeader(control, sequence, self.COMMAND_ID, manufacturer_code)


@dataclass(frozen=True, slots=True)
class RawCommand(ZclCommand):
    """A command the registry does not know: its payload stays raw (counted undecoded)."""

    #: The ZCL payload as received.
    payload: REST


# ----------------------------------------------------------------------- general commands


@dataclass(frozen=True, slots=True)
class ReadAttributes(ZclCommand):
    """Read Attributes (0x00): attribute identifiers, 2 bytes each."""

    COMMAND_ID: ClassVar[int] = 0x00

    attribute_ids: Annotated[tuple[int, ...], Repeat(UInt(2, hex=True))]


@dataclass(frozen=True, slots=True)
class AttributeStatusRecord(ZclRecord):
    """Read attribute status record: id, status, and the typed value when status is 0."""

    attribute_id: ATTRIBUTE_ID
    status: STATUS
    value: Annotated[AttributeValue | None, TypedValueField(when_success=True)] = None

    def write_record(self, out: list[bytes]) -> None:
        if (self.value is None) != (self.status != 0):
            raise LocalProtocolError("a value is present exactly when the status is SUCCESS")
        super(AttributeStatusRecord, self).write_record(out)


@dataclass(frozen=True, slots=True)
class ReadAttributesResponse(ZclCommand):
    """Read Attributes Response (0x01): one status record per attribute asked for."""

    COMMAND_ID: ClassVar[int] = 0x01

    records: Annotated[tuple[AttributeStatusRecord, ...], Repeat(AttributeStatusRecord)]


@dataclass(frozen=True, slots=True)
class AttributeRecord(ZclRecord):
    """Write / report attribute record: id then the typed value."""

    attribute_id: ATTRIBUTE_ID
    value: Annotated[AttributeValue, TypedValueField()]


@dataclass(frozen=True, slots=True)
class WriteAttributes(ZclCommand):
    """Write Attributes (0x02)."""

    COMMAND_ID: ClassVar[int] = 0x02

    records: Annotated[tuple[AttributeRecord, ...], Repeat(AttributeRecord)]


@dataclass(frozen=True, slots=True)
class WriteAttributesUndivided(ZclCommand):
    """Write Attributes Undivided (0x03)."""

    COMMAND_ID: ClassVar[int] = 0x03

    records: Annotated[tuple[AttributeRecord, ...], Repeat(AttributeRecord)]


@dataclass(frozen=True, slots=True)
class WriteStatusRecord(ZclRecord):
    """Write attribute status record; a lone SUCCESS status has no attribute id."""

    status: STATUS
    attribute_id: Annotated[int | None, Tail(UInt(2, hex=True))] = None


@dataclass(frozen=True, slots=True)
class WriteAttributesResponse(ZclCommand):
    """Write Attributes Response (0x04)."""

    COMMAND_ID: ClassVar[int] = 0x04

    records: Annotated[tuple[WriteStatusRecord, ...], Repeat(WriteStatusRecord)]


@dataclass(frozen=True, slots=True)
class WriteAttributesNoResponse(ZclCommand):
    """Write Attributes No Response (0x05)."""

    COMMAND_ID: ClassVar[int] = 0x05

    records: Annotated[tuple[AttributeRecord, ...], Repeat(AttributeRecord)]


class ReportableChange(Field):
    """Reportable change: present for analog data types only, sized by the data type."""

    __slots__ = ()

    @staticmethod
    def analog_size(code: int) -> int:
        if 0x20 <= code <= 0x2F:
            return (code & 0x07) + 1
        return {0x38: 2, 0x39: 4, 0x3A: 8, 0xE0: 4, 0xE1: 4, 0xE2: 4}.get(code, 0)

    def read(self, data: bytes, pos: int, end: int, ctx: dict[str, Any]) -> tuple[Any, int]:
        size = self.analog_size(ctx["data_type"])
        if not size:
            return None, pos
        if pos + size > end:
            raise DecodeError(f"expected {size} bytes, got {end - pos}", offset=pos)
        return int.from_bytes(data[pos : pos + size], "little"), pos + size

    def write(self, value: Any, out: list[bytes]) -> None:
        # the size depends on a sibling: ReportingSend.write_record writes this field
        raise LocalProtocolError("reportable_change is written by ReportingSend")


@dataclass(frozen=True, slots=True)
class ReportingSend(ZclRecord):
    """Configure-reporting body for direction 0 (this device reports)."""

    data_type: U8
    minimum_interval: U16
    maximum_interval: U16
    #: For analog data types only (None otherwise), as an unsigned integer of the type's size.
    reportable_change: Annotated[int | None, ReportableChange()] = None

    def write_record(self, out: list[bytes]) -> None:
        size = ReportableChange.analog_size(self.data_type)
        if (self.reportable_change is None) != (size == 0):
            raise LocalProtocolError("reportable_change is given exactly for analog data types")
        try:
            out.append(bytes((self.data_type,)))
            out.append(struct.pack("<HH", self.minimum_interval, self.maximum_interval))
            if self.reportable_change is not None:
                out.append(self.reportable_change.to_bytes(size, "little"))
        except (struct.error, OverflowError, ValueError) as exc:
            raise LocalProtocolError(f"reporting field out of range: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ReportingReceive(ZclRecord):
    """Configure-reporting body for direction 1 (reports are expected from the peer)."""

    timeout_period: U16


@dataclass(frozen=True, slots=True)
class ReportingRecord(ZclRecord):
    """Attribute reporting configuration record (ZCL r8 §2.5.7.1)."""

    direction: U8
    attribute_id: ATTRIBUTE_ID
    body: Annotated[
        ReportingSend | ReportingReceive | bytes,
        Switch("direction", {0: ReportingSend, 1: ReportingReceive}),
    ]


@dataclass(frozen=True, slots=True)
class ConfigureReporting(ZclCommand):
    """Configure Reporting (0x06)."""

    COMMAND_ID: ClassVar[int] = 0x06

    records: Annotated[tuple[ReportingRecord, ...], Repeat(ReportingRecord)]


@dataclass(frozen=True, slots=True)
class ReportingStatusRecord(ZclRecord):
    """Configure-reporting status record; a lone SUCCESS has no direction / attribute."""

    status: STATUS
    direction: Annotated[int | None, Tail(UInt(1))] = None
    attribute_id: Annotated[int | None, Tail(UInt(2, hex=True))] = None


@dataclass(frozen=True, slots=True)
class ConfigureReportingResponse(ZclCommand):
    """Configure Reporting Response (0x07)."""

    COMMAND_ID: ClassVar[int] = 0x07

    records: Annotated[tuple[ReportingStatusRecord, ...], Repeat(ReportingStatusRecord)]


@dataclass(frozen=True, slots=True)
class AttributeSelector(ZclRecord):
    """Direction + attribute id (Read Reporting Configuration record)."""

    direction: U8
    attribute_id: ATTRIBUTE_ID


@dataclass(frozen=True, slots=True)
class ReadReportingConfiguration(ZclCommand):
    """Read Reporting Configuration (0x08)."""

    COMMAND_ID: ClassVar[int] = 0x08

    records: Annotated[tuple[AttributeSelector, ...], Repeat(AttributeSelector)]


@dataclass(frozen=True, slots=True)
class ReportAttributes(ZclCommand):
    """Report Attributes (0x0A)."""

    COMMAND_ID: ClassVar[int] = 0x0A

    records: Annotated[tuple[AttributeRecord, ...], Repeat(AttributeRecord)]


@dataclass(frozen=True, slots=True)
class DefaultResponse(ZclCommand):
    """Default Response (0x0B): the command answered and its status.

    GBCS answers each Publish / Set command of a GBZ payload with one of these (§10.2).
    """

    COMMAND_ID: ClassVar[int] = 0x0B

    #: The command identifier being answered (in the answered command's space).
    command_id: Annotated[int, UInt(1, hex=True)]
    status: STATUS


@dataclass(frozen=True, slots=True)
class DiscoverAttributes(ZclCommand):
    """Discover Attributes (0x0C)."""

    COMMAND_ID: ClassVar[int] = 0x0C

    start_attribute_id: ATTRIBUTE_ID
    maximum_attribute_ids: U8


@dataclass(frozen=True, slots=True)
class AttributeInformation(ZclRecord):
    """Attribute id + data type (Discover Attributes Response record)."""

    attribute_id: ATTRIBUTE_ID
    data_type: Annotated[int, UInt(1, hex=True)]


@dataclass(frozen=True, slots=True)
class DiscoverAttributesResponse(ZclCommand):
    """Discover Attributes Response (0x0D)."""

    COMMAND_ID: ClassVar[int] = 0x0D

    discovery_complete: U8
    records: Annotated[tuple[AttributeInformation, ...], Repeat(AttributeInformation)]
