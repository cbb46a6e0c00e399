"""DLMS/COSEM APDUs carried as GBCS payloads: access-request, access-response, data-notification.

Protocol layer (sans-IO); GBCS ref. §7.2 (Green Book encodings of tags 0xD9, 0xDA, 0x0F).
Data values inside are A-XDR :mod:`~smemu.protocols.dlms.axdr` values; every length and
count uses the shortest BER form (:mod:`~smemu.protocols.dlms.length`).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import ClassVar, Final, TypeAlias

from smemu.errors import DecodeError, LocalProtocolError
from smemu.protocols.dlms import axdr
from smemu.protocols.dlms.axdr import Data
from smemu.protocols.dlms.length import encode_length, read_length

__all__ = [
    "ACCESS_REQUEST_TAG",
    "ACCESS_RESPONSE_TAG",
    "DATA_NOTIFICATION_TAG",
    "AccessRequestAction",
    "AccessRequestGet",
    "AccessRequestGetWithSelection",
    "AccessRequestMessage",
    "AccessRequestSet",
    "AccessRequestSetWithSelection",
    "AccessRequestSpecification",
    "AccessResponseAction",
    "AccessResponseGet",
    "AccessResponseMessage",
    "AccessResponseSet",
    "AccessResponseSpecification",
    "ActionResult",
    "DataAccessResult",
    "DataNotificationMessage",
    "DlmsMessage",
    "decode",
    "decode_exact",
    "encode",
    "format_obis",
    "parse_obis",
]

#: APDU tag of access-request (commands).
ACCESS_REQUEST_TAG: Final = 0xD9
#: APDU tag of access-response (responses).
ACCESS_RESPONSE_TAG: Final = 0xDA
#: APDU tag of data-notification (alerts).
DATA_NOTIFICATION_TAG: Final = 0x0F

_HEAD: Final = struct.Struct(">BI")
_DESCRIPTOR: Final = struct.Struct(">H6sB")
_U16: Final = struct.Struct(">H")


class DataAccessResult(enum.IntEnum):
    """Data-Access-Result values (GBCS ref. §7.2); the APDU fields stay plain ints."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_GET_ABORTED = 15
    NO_LONG_GET_IN_PROGRESS = 16
    LONG_SET_ABORTED = 17
    NO_LONG_SET_IN_PROGRESS = 18
    DATA_BLOCK_NUMBER_INVALID = 19
    OTHER_REASON = 250


class ActionResult(enum.IntEnum):
    """Action-Result values used in GBCS (same numbering as :class:`DataAccessResult`)."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_ACTION_ABORTED = 15
    NO_LONG_ACTION_IN_PROGRESS = 16
    OTHER_REASON = 250


def format_obis(instance_id: bytes) -> str:
    """Render a six-byte logical name as ``A-B:C.D.E.F`` (e.g. ``0-0:10.0.106.255``)."""
    a, b, c, d, e, f = instance_id
    return f"{a}-{b}:{c}.{d}.{e}.{f}"


def parse_obis(text: str) -> bytes:
    """Parse ``A-B:C.D.E.F`` into the six-byte logical name.

    :raises ValueError: not six numbers 0..255 in that shape.
    """
    ab, _, rest = text.partition(":")
    parts = ab.split("-") + rest.split(".")
    if len(parts) != 6:
        raise ValueError(f"expected an OBIS code A-B:C.D.E.F, got {text!r}")
    return bytes(int(p) for p in parts)


# ------------------------------------------------------------------- request specifications


@dataclass(frozen=True, slots=True)
class AccessRequestGet:
    """access-request-get, choice 1: ``01 | class id(2) | instance id(6) | attribute id(1)``."""

    CHOICE: ClassVar[int] = 1
    #: COSEM interface class (e.g. 3 Register).
    class_id: int
    #: Logical name (OBIS code), six bytes; see :func:`format_obis`.
    instance_id: bytes
    #: Attribute index (octet as sent).
    attribute_id: int


@dataclass(frozen=True, slots=True)
class AccessRequestSet:
    """access-request-set, choice 2: ``02 | class id(2) | instance id(6) | attribute id(1)``."""

    CHOICE: ClassVar[int] = 2
    class_id: int
    instance_id: bytes
    attribute_id: int


@dataclass(frozen=True, slots=True)
class AccessRequestAction:
    """access-request-action, choice 3: ``03 | class id(2) | instance id(6) | method id(1)``."""

    CHOICE: ClassVar[int] = 3
    class_id: int
    instance_id: bytes
    #: Method index (octet as sent).
    method_id: int


@dataclass(frozen=True, slots=True)
class AccessRequestGetWithSelection:
    """access-request-get-with-selection, choice 4::

        04 | class id(2) | instance id(6) | attribute id(1) | access selector(1) | Data

    GBCS uses selector 1 (range_descriptor) on Profile Generic buffers (§7.2).
    """

    CHOICE: ClassVar[int] = 4
    class_id: int
    instance_id: bytes
    attribute_id: int
    #: Selective access selector (1 = range, 2 = entry).
    access_selector: int
    #: Selective access parameters.
    access_parameters: Data


@dataclass(frozen=True, slots=True)
class AccessRequestSetWithSelection:
    """access-request-set-with-selection, choice 5 (layout as choice 4; not seen in RTDS)."""

    CHOICE: ClassVar[int] = 5
    class_id: int
    instance_id: bytes
    attribute_id: int
    access_selector: int
    access_parameters: Data


#: One entry of an access-request-specification list.
AccessRequestSpecification: TypeAlias = (
    AccessRequestGet
    | AccessRequestSet
    | AccessRequestAction
    | AccessRequestGetWithSelection
    | AccessRequestSetWithSelection
)


# ------------------------------------------------------------------ response specifications


@dataclass(frozen=True, slots=True)
class AccessResponseGet:
    """access-response-get, choice 1: ``01 | Data-Access-Result(1)``."""

    CHOICE: ClassVar[int] = 1
    #: A :class:`DataAccessResult` value (kept as an int: unknown values round-trip).
    result: int


@dataclass(frozen=True, slots=True)
class AccessResponseSet:
    """access-response-set, choice 2: ``02 | Data-Access-Result(1)``."""

    CHOICE: ClassVar[int] = 2
    result: int


@dataclass(frozen=True, slots=True)
class AccessResponseAction:
    """access-response-action, choice 3: ``03 | Action-Result(1)``."""

    CHOICE: ClassVar[int] = 3
    #: An :class:`ActionResult` value (kept as an int).
    result: int


#: One entry of an access-response-specification list.
AccessResponseSpecification: TypeAlias = (
    AccessResponseGet | AccessResponseSet | AccessResponseAction
)

_RESPONSE_CHOICES: Final[dict[int, type[AccessResponseSpecification]]] = {
    1: AccessResponseGet,
    2: AccessResponseSet,
    3: AccessResponseAction,
}


# ---------------------------------------------------------------------------------- APDUs


@dataclass(frozen=True, slots=True)
class AccessRequestMessage:
    """access-request, the DLMS payload of GBCS commands (§7.2)::

    D9 | long-invoke-id-and-priority(4) | date-time (octet-string: length + bytes) |
    count | specification... | count | Data...

    """

    TAG: ClassVar[int] = ACCESS_REQUEST_TAG
    #: Long-Invoke-Id-And-Priority; GBCS: ``0x20`` flags, low 24 bits = counter's low 24 bits.
    invoke_id_and_priority: int
    #: The date-time octet-string's content (empty in GBCS).
    date_time: bytes
    #: access-request-specification, one per object access.
    specifications: tuple[AccessRequestSpecification, ...]
    #: access-request-list-of-data: per specification, null (get), the value (set) or the
    #: method parameter (action). Not checked against the specification count.
    list_of_data: tuple[Data, ...]

    @property
    def invoke_id(self) -> int:
        """The invoke id: low 24 bits of :attr:`invoke_id_and_priority`."""
        return self.invoke_id_and_priority & 0xFFFFFF


@dataclass(frozen=True, slots=True)
class AccessResponseMessage:
    """access-response, the DLMS payload of GBCS responses (§7.2)::

    DA | long-invoke-id-and-priority(4) | date-time (octet-string) |
    00 (no request specification) -- or 01 | count | specification... |
    count | Data... | count | response specification...

    """

    TAG: ClassVar[int] = ACCESS_RESPONSE_TAG
    #: Copied from the command.
    invoke_id_and_priority: int
    #: The date-time octet-string's content (empty in GBCS).
    date_time: bytes
    #: access-response-list-of-data: values for successful gets, null otherwise.
    list_of_data: tuple[Data, ...]
    #: access-response-specification: choice + result per object access.
    specifications: tuple[AccessResponseSpecification, ...]
    #: The OPTIONAL access-request-specification echo (always absent in GBCS: ``None``).
    request_specifications: tuple[AccessRequestSpecification, ...] | None = None

    @property
    def invoke_id(self) -> int:
        """The invoke id: low 24 bits of :attr:`invoke_id_and_priority`."""
        return self.invoke_id_and_priority & 0xFFFFFF


@dataclass(frozen=True, slots=True)
class DataNotificationMessage:
    """data-notification, the DLMS payload of GBCS alerts (§7.2, §7.9)::

        0F | long-invoke-id-and-priority(4) | date-time (octet-string) | Data

    In GBCS the body is a structure: alert code (long-unsigned), timestamp
    (octet-string(12)), then alert-specific elements.
    """

    TAG: ClassVar[int] = DATA_NOTIFICATION_TAG
    #: ``0x20`` flags, low 24 bits = the alert counter's low 24 bits.
    invoke_id_and_priority: int
    #: The date-time octet-string's content (empty in GBCS).
    date_time: bytes
    #: notification-body.
    body: Data

    @property
    def invoke_id(self) -> int:
        """The invoke id: low 24 bits of :attr:`invoke_id_and_priority`."""
        return self.invoke_id_and_priority & 0xFFFFFF


#: Any DLMS payload of GBCS.
DlmsMessage: TypeAlias = AccessRequestMessage | AccessResponseMessage | DataNotificationMessage


# ----------------------------------------------------------------------------- decoding


def _count(data: bytes, pos: int, what: str) -> tuple[int, int]:
    count, pos = read_length(data, pos, path=what)
    if count > len(data) - pos:
        raise DecodeError(
            f"expected at most {len(data) - pos} entries in the bytes left, got count {count}",
            path=what,
            offset=pos,
        )
    return count, pos


def _read_data(data: bytes, pos: int, what: str) -> tuple[Data, int]:
    try:
        return axdr.decode_at(data, pos)
    except DecodeError as exc:
        raise exc.within(what) from None


def _read_request_specifications(
    data: bytes, pos: int, what: str
) -> tuple[tuple[AccessRequestSpecification, ...], int]:
    count, pos = _count(data, pos, what)
    specs: list[AccessRequestSpecification] = []
    for i in range(count):
        where = f"{what}[{i}]"
        if pos + 10 > len(data):
            raise DecodeError(
                f"expected a 10-byte specification, got {len(data) - pos} bytes",
                path=where,
                offset=pos,
            )
        choice = data[pos]
        class_id, instance_id, member = _DESCRIPTOR.unpack_from(data, pos + 1)
        pos += 10
        spec: AccessRequestSpecification
        if choice == 1:
            spec = AccessRequestGet(class_id, instance_id, member)
        elif choice == 2:
            spec = AccessRequestSet(class_id, instance_id, member)
        elif choice == 3:
            spec = AccessRequestAction(class_id, instance_id, member)
        elif choice in (4, 5):
            if pos >= len(data):
                raise DecodeError(
                    "expected an access selector, got end of data",
                    path=f"{where}.access_selector",
                    offset=pos,
                )
            selector = data[pos]
            parameters, pos = _read_data(data, pos + 1, f"{where}.access_parameters")
            kind = AccessRequestGetWithSelection if choice == 4 else AccessRequestSetWithSelection
            spec = kind(class_id, instance_id, member, selector, parameters)
        else:
            raise DecodeError(
                f"expected an access-request-specification choice 1..5, got {choice}",
                path=where,
                offset=pos - 10,
            )
        specs.append(spec)
    return tuple(specs), pos


def _read_list_of_data(data: bytes, pos: int, what: str) -> tuple[tuple[Data, ...], int]:
    count, pos = _count(data, pos, what)
    items: list[Data] = []
    decode_at = axdr.decode_at
    try:
        for _ in range(count):
            value, pos = decode_at(data, pos)
            items.append(value)
    except DecodeError as exc:
        raise exc.within(f"{what}[{len(items)}]") from None
    return tuple(items), pos


def _read_head(data: bytes, pos: int, what: str) -> tuple[int, bytes, int]:
    if pos + 5 > len(data):
        raise DecodeError(
            f"expected a tag and a 4-byte invoke id, got {len(data) - pos} bytes",
            path=what,
            offset=pos,
        )
    invoke = _HEAD.unpack_from(data, pos)[1]
    pos += 5
    size, pos = read_length(data, pos, path=f"{what}.date_time")
    end = pos + size
    if end > len(data):
        raise DecodeError(
            f"expected {size} date-time bytes, got {len(data) - pos}",
            path=f"{what}.date_time",
            offset=pos,
        )
    return invoke, data[pos:end], end


def _decode_at(data: bytes, pos: int) -> tuple[DlmsMessage, int]:
    if pos >= len(data):
        raise DecodeError("expected an APDU tag, got end of data", path="dlms", offset=pos)
    tag = data[pos]
    if tag == ACCESS_REQUEST_TAG:
        invoke, date_time, pos = _read_head(data, pos, "access_request")
        specs, pos = _read_request_specifications(data, pos, "access_request.specification")
        items, pos = _read_list_of_data(data, pos, "access_request.list_of_data")
        return AccessRequestMessage(invoke, date_time, specs, items), pos
    if tag == ACCESS_RESPONSE_TAG:
        invoke, date_time, pos = _read_head(data, pos, "access_response")
        if pos >= len(data):
            raise DecodeError(
                "expected the request-specification presence flag, got end of data",
                path="access_response.request_specification",
                offset=pos,
            )
        flag = data[pos]
        request_specs = None
        if flag == 1:
            request_specs, pos = _read_request_specifications(
                data, pos + 1, "access_response.request_specification"
            )
        elif flag == 0:
            pos += 1
        else:
            raise DecodeError(
                f"expected an OPTIONAL presence flag 0x00 or 0x01, got 0x{flag:02X}",
                path="access_response.request_specification",
                offset=pos,
            )
        items, pos = _read_list_of_data(data, pos, "access_response.list_of_data")
        count, pos = _count(data, pos, "access_response.specification")
        response_specs: list[AccessResponseSpecification] = []
        for i in range(count):
            if pos + 2 > len(data):
                raise DecodeError(
                    f"expected a 2-byte response specification, got {len(data) - pos} bytes",
                    path=f"access_response.specification[{i}]",
                    offset=pos,
                )
            kind = _RESPONSE_CHOICES.get(data[pos])
            if kind is None:
                raise DecodeError(
                    f"expected an access-response-specification choice 1..3, got {data[pos]}",
                    path=f"access_response.specification[{i}]",
                    offset=pos,
                )
            response_specs.append(kind(data[pos + 1]))
            pos += 2
        return AccessResponseMessage(
            invoke, date_time, items, tuple(response_specs), request_specs
        ), pos
    if tag == DATA_NOTIFICATION_TAG:
        invoke, date_time, pos = _read_head(data, pos, "data_notification")
        body, pos = _read_data(data, pos, "data_notification.body")
        return DataNotificationMessage(invoke, date_time, body), pos
    raise DecodeError(
        f"expected APDU tag 0xD9, 0xDA or 0x0F, got 0x{tag:02X}", path="dlms", offset=pos
    )


def decode(data: bytes) -> tuple[DlmsMessage, bytes]:
    """Decode one DLMS APDU from the start of ``data``; the first byte selects the type.

    :param data: a GBCS DLMS payload (first byte 0xD9, 0xDA or 0x0F).
    :returns: ``(message, rest)``.
    :raises DecodeError: with a path such as ``access_response.list_of_data[0].structure[1]``
        and an offset into ``data``.
    """
    data = bytes(data)
    message, end = _decode_at(data, 0)
    return message, data[end:]


def decode_exact(data: bytes) -> DlmsMessage:
    """Decode ``data`` as exactly one DLMS APDU.

    :raises DecodeError: malformed APDU or trailing bytes.
    """
    data = bytes(data)
    message, end = _decode_at(data, 0)
    if end != len(data):
        raise DecodeError(
            f"expected end of data, got {len(data) - end} trailing bytes", path="dlms", offset=end
        )
    return message


# ----------------------------------------------------------------------------- encoding


def _write_request_specifications(
    specs: tuple[AccessRequestSpecification, ...], out: list[bytes]
) -> None:
    out.append(encode_length(len(specs)))
    for spec in specs:
        if len(spec.instance_id) != 6:
            raise LocalProtocolError(f"instance id must be 6 bytes, got {len(spec.instance_id)}")
        member = spec.method_id if isinstance(spec, AccessRequestAction) else spec.attribute_id
        out.append(bytes((spec.CHOICE,)))
        out.append(_DESCRIPTOR.pack(spec.class_id, spec.instance_id, member))
        if isinstance(spec, AccessRequestGetWithSelection | AccessRequestSetWithSelection):
            out.append(bytes((spec.access_selector,)))
            axdr.encode_into(spec.access_parameters, out)


def _write_list_of_data(items: tuple[Data, ...], out: list[bytes]) -> None:
    out.append(encode_length(len(items)))
    encode_into = axdr.encode_into
    for item in items:
        encode_into(item, out)


def encode(message: DlmsMessage) -> bytes:
    """Encode one DLMS APDU.

    :raises LocalProtocolError: a field is out of range (class id > 0xFFFF, a 5-byte
        instance id, an invoke id above 32 bits, an inconsistent Data value...).
    """
    try:
        out = [_HEAD.pack(message.TAG, message.invoke_id_and_priority)]
        out.append(encode_length(len(message.date_time)))
        out.append(message.date_time)
        if isinstance(message, AccessRequestMessage):
            _write_request_specifications(message.specifications, out)
            _write_list_of_data(message.list_of_data, out)
        elif isinstance(message, AccessResponseMessage):
            if message.request_specifications is None:
                out.append(b"\x00")
            else:
                out.append(b"\x01")
                _write_request_specifications(message.request_specifications, out)
            _write_list_of_data(message.list_of_data, out)
            out.append(encode_length(len(message.specifications)))
            for spec in message.specifications:
                out.append(bytes((spec.CHOICE, spec.result)))
        else:
            axdr.encode_into(message.body, out)
    except (struct.error, ValueError, OverflowError) as exc:
        raise LocalProtocolError(f"DLMS field out of range: {exc}") from exc
    return b"".join(out)
